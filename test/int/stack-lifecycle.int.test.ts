// A stack leaves nothing behind: after stop() every process it started (and everything those
// forked) is gone and its ports are free; and when the runner that started it is killed with
// SIGKILL, so that no code of its own runs, the guardian stops everything within seconds.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { waitFor, withTimeout } from '../../harness/lib/wait-for.ts';
import { isGone, type ProcInfo, processTree, readProc } from '../../harness/stack/procfs.ts';
import { startStack } from '../../harness/stack/stack.ts';
import type { ChildReport } from '../support/start-stack-child.ts';

/** The stack's services and everything they forked. */
function stackTree(pids: Record<string, number>): ProcInfo[] {
  return Object.values(pids).flatMap((pid) => processTree(pid));
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function busyPorts(ports: Record<string, number>): Promise<string[]> {
  const busy: string[] = [];
  for (const [name, port] of Object.entries(ports)) if (!(await portFree(port))) busy.push(`${name}:${port}`);
  return busy;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('stack lifecycle: no process outlives its stack', () => {
  it('stop() ends every process of a second, separate stack (forked children included) and frees its ports', async () => {
    const stack = await startStack({ ports: 'free', migrate: false });
    let tree: ProcInfo[] = [];
    try {
      const pids = stack.pids();
      expect(Object.keys(pids).sort()).toEqual(['kafka', 'postgres', 'redis', 'toxiproxy']);
      tree = stackTree(pids);
      // Postgres forks its auxiliary processes (checkpointer, walwriter, ...): more than 4 processes.
      expect(tree.length).toBeGreaterThan(4);
      expect(tree.every((p) => pidExists(p.pid))).toBe(true);
      // Every port is held while it runs (so 'free afterwards' below means something).
      expect(await busyPorts(stack.endpoints.ports)).toHaveLength(Object.keys(stack.endpoints.ports).length);
      expect(existsSync(stack.dataRoot)).toBe(true);
    } finally {
      await stack.stop();
    }
    // Its data (and the benches' histories written there) is removed; the run folder's logs stay.
    expect(existsSync(stack.dataRoot)).toBe(false);
    expect(existsSync(join(stack.endpoints.runDir, 'logs'))).toBe(true);
    // The stack's own children are reaped by this process, so their pids must be gone outright.
    expect(Object.values(stack.pids())).toEqual([]);
    expect(tree.filter((p) => pidExists(p.pid)).map((p) => `${p.comm} (${p.pid})`)).toEqual([]);
    expect(await busyPorts(stack.endpoints.ports)).toEqual([]);
    rmSync(stack.endpoints.runDir, { recursive: true, force: true });
  });

  it('after a SIGKILL of the process that started a stack, the guardian stops every process it started within 15 s', async () => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', 'support', 'start-stack-child.ts')],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    let report: ChildReport | undefined;
    let tree: ProcInfo[] = [];
    try {
      const firstLine = await withTimeout(
        'child stack start',
        60_000,
        new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout! }).once('line', resolve);
          child.once('exit', (code) =>
            reject(new Error(`child exited (${code}) before reporting its stack`)),
          );
        }),
      );
      report = JSON.parse(firstLine) as ChildReport;
      expect(Object.keys(report.pids).sort()).toEqual(['kafka', 'postgres', 'redis', 'toxiproxy']);
      expect(report.guardianPid).toBeTypeOf('number');
      tree = stackTree(report.pids);
      const guardian = readProc(report.guardianPid!);
      expect(guardian?.state).not.toBe('Z');
      tree.push(guardian!);
      expect(tree.length).toBeGreaterThan(5);

      const killedAt = performance.now();
      child.kill('SIGKILL');
      await waitFor('every process of the killed runner to be gone', () => tree.every((p) => isGone(p)), {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      const cleanupMs = performance.now() - killedAt;
      expect(cleanupMs).toBeLessThan(15_000);
      // Orphans are reparented to init, which reaps them on its own schedule: a zombie has exited
      // and holds no port, so the ports are free even before the pids disappear from /proc.
      expect(await busyPorts(report.ports)).toEqual([]);
    } finally {
      // Only if the assertion above failed: do not leak the child's processes into later tests.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const p of tree.filter((p) => !isGone(p))) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
      if (report) {
        rmSync(report.dataRoot, { recursive: true, force: true });
        rmSync(report.runDir, { recursive: true, force: true });
      }
    }
  });
});
