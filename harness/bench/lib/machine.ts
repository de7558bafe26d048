// The machine a benchmark ran on, measured in the same run: cores, model, memory, kernel, runtimes,
// and the load average (the machine is shared: other engineers' work skews every figure).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  readonly cores: number;
  readonly model: string;
  readonly memoryMiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly java: string;
  readonly pgbench: string;
  /** 1 / 5 / 15 minute load averages. */
  readonly loadStart: readonly number[];
}

export const pgbenchPath = '/usr/lib/postgresql/15/bin/pgbench';

export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

export function machine(): Machine {
  const memKiB = /^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr?.split('\n')[0] ?? '?';
  const pgbench = spawnSync(pgbenchPath, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '?';
  return {
    cores: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    memoryMiB: memKiB ? Math.round(Number(memKiB) / 1024) : Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    node: process.version,
    java,
    pgbench,
    loadStart: loadAverage(),
  };
}

export interface Revision {
  readonly commit: string;
  /** Uncommitted changes to what is measured (system/, migrations/): figures then describe the working tree. */
  readonly dirty: readonly string[];
}

/** The commit measured, and whether the system's code differs from it in the working tree. */
export function revision(root: string): Revision {
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git(['rev-parse', '--short', 'HEAD']);
  // An exported tree (git archive) has no .git: PAYPROOF_REVISION names what it was exported from.
  if (!head)
    return {
      commit: `${process.env.PAYPROOF_REVISION ?? 'unknown'} (exported tree, not a checkout)`,
      dirty: [],
    };
  const commit = head;
  const status = spawnSync('git', ['status', '--porcelain', '--', 'system', 'migrations'], {
    cwd: root,
    encoding: 'utf8',
  });
  return { commit, dirty: porcelainPaths(status.stdout ?? '') };
}

/**
 * The paths of `git status --porcelain` output. Each line is two status columns, a space, the
 * path; the first column is a space for a change not yet staged (" M system/x.ts"), so the output
 * must not be trimmed before the columns are cut off (it once printed "ystem/x.ts").
 */
export function porcelainPaths(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.length > 3)
    .map((l) => l.slice(3).trim());
}

export function printMachine(m: Machine, rev: Revision, log: (l: string) => void = console.log): void {
  log('machine');
  log(`  cpus:    ${m.cores} x ${m.model}`);
  log(`  memory:  ${m.memoryMiB} MiB`);
  log(`  kernel:  ${m.kernel}`);
  log(`  node:    ${m.node}; ${m.java}; ${m.pgbench}`);
  log(
    `  load:    ${m.loadStart.join(' ')} (1/5/15 min at start: the machine is shared, other work skews figures)`,
  );
  log(
    `  code:    commit ${rev.commit}${rev.dirty.length ? `, WITH uncommitted changes in ${rev.dirty.join(', ')}` : ', system/ and migrations/ as committed'}`,
  );
}
