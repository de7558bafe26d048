// The asynchronous side really yields the CPU: a process started with `nice` gets the nice value
// AND its own autogroup at that nice (with autogroup scheduling a plain nice changes nothing between
// sessions, and every managed process leads its own session), and the runner's own priority is
// never touched. docs/benchmarks.md has the load figures before and after.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../harness/lib/wait-for.ts';
import { lowerPriority, ManagedProcess, pipelineNice } from '../../harness/stack/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'payproof-priority-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const autogroups = existsSync('/proc/self/autogroup');
const niceOf = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]); // field 19 of proc(5)
const autogroupOf = (pid: number) => readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();

describe('process priority', () => {
  it('a niced managed process has the nice value, and its own autogroup has it too', async () => {
    const before = autogroups ? autogroupOf(process.pid) : '';
    const p = ManagedProcess.start({
      name: 'sleeper',
      command: 'sleep',
      args: ['30'],
      logFile: join(dir, 'sleeper.log'),
      nice: pipelineNice,
    });
    try {
      // Started as `nice -n N sleep 30`: the pid is nice's until it execs sleep (a few ms; longer on a
      // busy machine, where reading it at once once found 'nice', CI of 7c2ba0d).
      const argv0 = () => readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0];
      await waitFor('the process to exec sleep', () => argv0() === 'sleep', {
        timeoutMs: 5_000,
        intervalMs: 10,
      });
      expect(argv0()).toBe('sleep');
      expect(niceOf(p.pid)).toBe(pipelineNice);
      if (autogroups) {
        expect(autogroupOf(p.pid)).toMatch(new RegExp(` nice ${pipelineNice}$`));
        expect(autogroupOf(p.pid).split(' ')[0]).not.toBe(before.split(' ')[0]);
        expect(autogroupOf(process.pid)).toBe(before);
      }
    } finally {
      await p.stop();
    }
  });

  it.skipIf(!autogroups)('never lowers the runner: a pid sharing its autogroup is refused', () => {
    const before = autogroupOf(process.pid);
    expect(lowerPriority(process.pid, 7)).toBe(false);
    expect(autogroupOf(process.pid)).toBe(before);
  });
});
