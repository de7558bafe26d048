// Processes the harness starts: each in its own process group (so a terminal Ctrl-C reaches the
// runner, which then stops them in order), its output appended to a log file in the run folder,
// registered with the guardian so that nothing outlives a runner killed with SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { withTimeout } from '../lib/wait-for.ts';

let guardian: ChildProcess | undefined;

function guardianChannel(): ChildProcess {
  if (guardian && guardian.exitCode === null && guardian.stdin?.writable) return guardian;
  guardian = spawn(process.execPath, [join(import.meta.dirname, 'guardian.ts'), '5000'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // The guardian must not keep the runner alive, nor die with the runner's process group.
  guardian.unref();
  (guardian.stdin as unknown as { unref?: () => void })?.unref?.();
  return guardian;
}

function tellGuardian(line: string) {
  const g = guardianChannel();
  g.stdin?.write(`${line}\n`);
}

/** Pids of the guardians this process started (for the no-orphan test). */
export function guardianPid(): number | undefined {
  return guardian?.pid;
}

export interface SpawnSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Run as this user (numeric ids): PostgreSQL refuses to run as root. */
  readonly uid?: number;
  readonly gid?: number;
  /** Signal for an orderly stop (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals;
  /** Also receives every output line (e.g. to show logs on the terminal). */
  readonly onLine?: (line: string) => void;
  /**
   * A lower CPU priority (1..19): the asynchronous side (relay, workers, Kafka) yields to the API.
   * Applied as the process's nice value AND its autogroup's (see lowerPriority).
   */
  readonly nice?: number;
}

/**
 * The nice value of the asynchronous side: relay, workers, the Kafka broker, Prometheus. 10 rather
 * than 5: users-1000 confirm p95 17-24 ms against 34-82 ms at 5, with the pipeline's backlog and
 * lag no larger (docs/benchmarks.md, fourth round).
 */
export const pipelineNice = 10;

/**
 * With autogroup scheduling (Linux's default for desktops and many servers:
 * /proc/sys/kernel/sched_autogroup_enabled = 1), CPU is first shared equally between sessions,
 * and every process started here leads a session of its own (detached), so a plain `nice` changes
 * nothing between them: measured on this 2-core machine, users-1000 had confirm p95 220-260 ms with
 * the workers at nice 5, and 41 ms once their autogroups were at nice 5 too (docs/benchmarks.md).
 * Writing the autogroup's nice is allowed for the process's owner when it lowers the priority.
 * Only a session of the child's own is touched, never the runner's. Best effort: returns false when
 * the kernel has no autogroups or refuses.
 */
export function lowerPriority(pid: number, nice: number): boolean {
  try {
    const own = readFileSync('/proc/self/autogroup', 'utf8').split(' ')[0];
    const child = readFileSync(`/proc/${pid}/autogroup`, 'utf8').split(' ')[0];
    if (!child || child === own) return false;
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return true;
  } catch {
    return false;
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One running process started by the harness. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  #log: WriteStream;
  #exit: Exit | undefined;
  #stopSignal: NodeJS.Signals;

  private constructor(spec: SpawnSpec, child: ChildProcess, log: WriteStream) {
    this.name = spec.name;
    this.#log = log;
    this.#stopSignal = spec.stopSignal ?? 'SIGTERM';
    if (child.pid === undefined) throw new Error(`${spec.name}: failed to start ${spec.command}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        tellGuardian(`-${this.pid}`);
        resolve(this.#exit);
      });
    });
  }

  static start(spec: SpawnSpec): ManagedProcess {
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    // The file opens asynchronously: a log that cannot be opened or written (its directory removed
    // meanwhile) is reported, never an uncaught 'error' that ends the runner (CI's rehearsal of
    // 07ca54d: ENOENT on a test's sleeper.log failed `npm test` with every test passed).
    log.on('error', (err) =>
      process.stderr.write(`[payproof] ${spec.name}: log ${spec.logFile}: ${err.message}\n`),
    );
    const [command, args] =
      spec.nice !== undefined
        ? ['nice', ['-n', String(spec.nice), spec.command, ...spec.args]]
        : [spec.command, [...spec.args]];
    // spawn returns once the child has called setsid and exec'd (libuv waits for the exec), so
    // the child's autogroup is its own by then (nice execs the command: the pid is the command's).
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}),
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    if (spec.onLine) {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream }).on('line', spec.onLine);
      }
    }
    const proc = new ManagedProcess(spec, child, log);
    tellGuardian(`+${proc.pid}`);
    if (spec.nice !== undefined) lowerPriority(proc.pid, spec.nice);
    child.on('error', (err) => log.write(`[payproof] spawn error: ${err.message}\n`));
    return proc;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get exitInfo(): Exit | undefined {
    return this.#exit;
  }

  /** Sends a signal to the whole process group (the service and anything it forked). */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.running) return false;
    try {
      process.kill(-this.pid, sig);
      return true;
    } catch {
      try {
        process.kill(this.pid, sig);
        return true;
      } catch {
        return false;
      }
    }
  }

  /** Orderly stop, escalating to SIGKILL after `graceMs`. Resolves once the process has exited. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (!this.running) return this.#exit!;
    this.signal('SIGCONT');
    this.signal(this.#stopSignal);
    try {
      return await withTimeout(`${this.name} stop`, graceMs, this.exited);
    } catch {
      this.signal('SIGKILL');
      return await this.exited;
    } finally {
      // Resolved once the log file is closed: a caller may remove its directory next.
      this.#log.end();
      await finished(this.#log).catch(() => {});
    }
  }

  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

/** True when a process with this pid exists (zombies included). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
