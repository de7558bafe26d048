// Live progress: on a TTY one line redrawn in place (log lines above it), elsewhere a plain line
// every few seconds and at each phase change; verify's status line and its ETA. A fake clock.
import { describe, expect, it } from 'vitest';
import { about, clock, Progress } from '../../harness/cli/progress.ts';
import { typicalSeconds, verifyStatus } from '../../harness/cli/verify.ts';
import type { RunResult } from '../../harness/run/result.ts';

function fake(tty: boolean) {
  let t = 0;
  const out: string[] = [];
  const stream = { write: (s: string) => out.push(s), isTTY: tty, columns: 40 };
  const p = new Progress({ stream, now: () => t, plainEveryMs: 5_000, ttyEveryMs: 200 });
  return { p, out, advance: (ms: number) => (t += ms) };
}

describe('Progress on a TTY', () => {
  it('redraws one line in place, at most every 200 ms, and clears it at the end', () => {
    const { p, out, advance } = fake(true);
    expect(p.tty).toBe(true);
    p.update('load 1/60 s', 'steady');
    advance(100);
    p.update('load 1.1/60 s', 'steady'); // too soon: not drawn
    advance(150);
    p.update('load 2/60 s', 'steady');
    expect(out).toEqual(['\r\x1b[2Kload 1/60 s', '\r\x1b[2Kload 2/60 s']);
    p.done();
    expect(out.at(-1)).toBe('\r\x1b[2K');
    expect(out.join('')).not.toContain('\n');
  });

  it('prints a log line above the status and redraws the status under it', () => {
    const { p, out } = fake(true);
    p.update('status', 'a');
    p.log('step 1 PASS');
    expect(out.slice(1)).toEqual(['\r\x1b[2Kstep 1 PASS\n', 'status']);
  });

  it('cuts a status longer than the terminal', () => {
    const { p, out } = fake(true);
    p.update('x'.repeat(100));
    expect(out[0]).toBe(`\r\x1b[2K${'x'.repeat(38)}…`);
  });
});

describe('Progress without a TTY (CI)', () => {
  it('prints a plain line every 5 s, and at once when the phase changes', () => {
    const { p, out, advance } = fake(false);
    expect(p.tty).toBe(false);
    p.update('t=0 warm-up', 'warm-up');
    for (let i = 0; i < 9; i++) {
      advance(1_000);
      p.update(`t=${i + 1} warm-up`, 'warm-up');
    }
    advance(300);
    p.update('t=9.3 steady', 'steady');
    expect(out).toEqual(['t=0 warm-up\n', 't=5 warm-up\n', 't=9.3 steady\n']);
    p.log('done');
    p.done();
    expect(out.at(-1)).toBe('done\n');
    expect(out.join('')).not.toContain('\x1b');
  });
});

describe('verify status', () => {
  it('shows elapsed, the step, its time against its typical time, the ETA and the tally', () => {
    expect(
      verifyStatus({
        elapsedS: 372,
        index: 4,
        total: 22,
        step: 'chaos:kill-worker',
        stepS: 20,
        typicalS: 55,
        remainingTypicalS: 900,
        tally: '3 PASS',
      }),
    ).toBe('[06:12] 4/22 chaos:kill-worker  20 s (typ. 55 s)  ETA ~15m35s  so far: 3 PASS');
  });

  it('a step running past its typical time adds nothing more than the rest', () => {
    const s = verifyStatus({
      elapsedS: 100,
      index: 1,
      total: 2,
      step: 'property',
      stepS: 120,
      typicalS: 90,
      remainingTypicalS: 60,
      tally: '',
    });
    expect(s).toBe('[01:40] 1/2 property  120 s (typ. 90 s)  ETA ~1m');
  });

  it('typical durations come from the last verify run when it ran the step', () => {
    const steps = [
      { name: 'property', script: 'property.ts', args: [] },
      { name: 'chaos:kill-worker', script: 'chaos.ts', args: [] },
      { name: 'load:burst-1000', script: 'load.ts', args: [] },
    ];
    const previous = [{ figures: { 'chaos:kill-worker.seconds': 61 } } as unknown as RunResult];
    expect([...typicalSeconds(steps, previous)]).toEqual([
      ['property', 90],
      ['chaos:kill-worker', 61],
      ['load:burst-1000', 20],
    ]);
  });

  it('formats clocks and estimates', () => {
    expect(clock(59.6)).toBe('01:00');
    expect(clock(3725)).toBe('1:02:05');
    expect(about(125)).toBe('~2m5s');
  });
});
