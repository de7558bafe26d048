// Process controllers of an external target: how the harness kills, pauses and resumes the
// processes of a deployment it did not start, and how it sees them restarted.
//
// - native: signals to pids on this machine. A `pidFile` is read again at every look, so a process
//   its supervisor restarted (`node system/main.ts supervise`, systemd's PIDFile=) is followed to
//   its new pid, and each new pid counts as a restart. Signals go to the pid only, never to its
//   process group: a supervisor shares its children's group.
// - docker: `docker kill --signal KILL`, `docker pause` / `docker unpause` by container; running
//   and restarts from `docker inspect`. `docker kill` cancels the container's restart policy (moby
//   daemon/kill.go: ExitOnNext, HasBeenManuallyStopped): a killed container stays down until something
//   starts it (the compose target does, compose.ts; an external deployment's own tooling must).
// - none: no process faults (the target's `lacks.processes` says so).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { ProcessView } from '../chaos/scenario.ts';
import type { TargetProcess } from './target-file.ts';

export interface ProcessController {
  processes(): ProcessView[];
  /** SIGKILL / SIGSTOP / SIGCONT / SIGTERM to one process; false when it is not running. */
  signal(name: string, sig: NodeJS.Signals): boolean;
  /** Resumes the process paused as `p` (a restarted one was never paused). */
  resume(p: ProcessView): void;
  /** Restarts seen so far, over every process. */
  restarts(): number;
  /** Pids on this machine (the last-resort SIGCONT); [] for containers. */
  pids(): number[];
}

function portOf(url: string | undefined): number {
  if (!url) return 0;
  try {
    const u = new URL(url);
    return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie answers kill(0) but runs nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (macOS): kill(0) is all we have
  }
}

export class NativePidController implements ProcessController {
  readonly #list: readonly TargetProcess[];
  readonly #lastPid = new Map<string, number>();
  readonly #restarts = new Map<string, number>();

  constructor(list: readonly TargetProcess[]) {
    this.#list = list;
  }

  #pidOf(p: TargetProcess): number {
    let pid = p.pid ?? 0;
    if (p.pidFile && existsSync(p.pidFile)) {
      const n = Number(readFileSync(p.pidFile, 'utf8').trim());
      if (Number.isInteger(n) && n > 0) pid = n;
    }
    const last = this.#lastPid.get(p.name);
    if (pid > 0 && last !== undefined && last !== pid)
      this.#restarts.set(p.name, (this.#restarts.get(p.name) ?? 0) + 1);
    if (pid > 0) this.#lastPid.set(p.name, pid);
    return pid;
  }

  processes(): ProcessView[] {
    return this.#list.map((p) => {
      const pid = this.#pidOf(p);
      return {
        name: p.name,
        kind: p.kind,
        pid,
        running: alive(pid),
        metricsPort: portOf(p.metricsUrl),
        ...(p.metricsUrl ? { metricsUrl: p.metricsUrl } : {}),
        restarts: this.#restarts.get(p.name) ?? 0,
      };
    });
  }

  signal(name: string, sig: NodeJS.Signals): boolean {
    const p = this.#list.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}; have ${this.#list.map((x) => x.name).join(', ')}`);
    const pid = this.#pidOf(p);
    if (!alive(pid)) return false;
    process.kill(pid, sig);
    return true;
  }

  resume(p: ProcessView): void {
    try {
      process.kill(p.pid, 'SIGCONT');
    } catch {
      // gone: killed and restarted meanwhile
    }
  }

  restarts(): number {
    this.processes();
    return [...this.#restarts.values()].reduce((a, b) => a + b, 0);
  }

  pids(): number[] {
    return this.processes()
      .filter((p) => p.running)
      .map((p) => p.pid);
  }
}

/** Runs the docker CLI; throws with its stderr when it fails. */
export type DockerRunner = (args: readonly string[]) => string;

export function dockerCli(executable = 'docker'): DockerRunner {
  return (args) => {
    const r = spawnSync(executable, [...args], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`${executable} ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(`${executable} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  };
}

interface Inspected {
  readonly running: boolean;
  readonly paused: boolean;
  readonly restarts: number;
  readonly pid: number;
  readonly startedAt: string;
}

export class DockerController implements ProcessController {
  readonly #list: readonly TargetProcess[];
  readonly #docker: DockerRunner;
  /** Container starts seen (StartedAt changes), counted as restarts with the daemon's own count. */
  readonly #started = new Map<string, string>();
  readonly #restarts = new Map<string, number>();

  constructor(list: readonly TargetProcess[], docker: DockerRunner = dockerCli()) {
    this.#list = list;
    this.#docker = docker;
  }

  #container(name: string): string {
    const p = this.#list.find((x) => x.name === name);
    if (!p?.container) throw new Error(`no container for process ${name}`);
    return p.container;
  }

  #inspect(container: string): Inspected | undefined {
    try {
      const out = this.#docker([
        'inspect',
        '--format',
        '{{.State.Running}} {{.State.Paused}} {{.RestartCount}} {{.State.Pid}} {{.State.StartedAt}}',
        container,
      ]).trim();
      const [running, paused, restarts, pid, startedAt] = out.split(/\s+/);
      return {
        running: running === 'true',
        paused: paused === 'true',
        restarts: Number(restarts) || 0,
        pid: Number(pid) || 0,
        startedAt: startedAt ?? '',
      };
    } catch {
      return undefined;
    }
  }

  processes(): ProcessView[] {
    return this.#list.map((p) => {
      const s = this.#inspect(p.container!);
      const last = this.#started.get(p.name);
      if (s && last !== undefined && s.startedAt !== last)
        this.#restarts.set(p.name, (this.#restarts.get(p.name) ?? 0) + 1);
      if (s) this.#started.set(p.name, s.startedAt);
      return {
        name: p.name,
        kind: p.kind,
        // The pid lives in the container's host namespace: never signalled by the harness itself.
        pid: 0,
        running: s?.running === true && !s.paused,
        metricsPort: portOf(p.metricsUrl),
        ...(p.metricsUrl ? { metricsUrl: p.metricsUrl } : {}),
        restarts: Math.max(this.#restarts.get(p.name) ?? 0, s?.restarts ?? 0),
      };
    });
  }

  signal(name: string, sig: NodeJS.Signals): boolean {
    const c = this.#container(name);
    if (sig === 'SIGSTOP') this.#docker(['pause', c]);
    else if (sig === 'SIGCONT') this.#docker(['unpause', c]);
    else this.#docker(['kill', '--signal', sig.replace(/^SIG/, ''), c]);
    return true;
  }

  resume(p: ProcessView): void {
    try {
      this.#docker(['unpause', this.#container(p.name)]);
    } catch {
      // not paused any more (restarted meanwhile)
    }
  }

  restarts(): number {
    return this.processes().reduce((a, p) => a + p.restarts, 0);
  }

  pids(): number[] {
    return [];
  }
}

export class NoController implements ProcessController {
  readonly #list: readonly TargetProcess[];
  constructor(list: readonly TargetProcess[]) {
    this.#list = list;
  }
  processes(): ProcessView[] {
    // Their metrics are still read (figures only); the harness cannot tell whether they run.
    return this.#list.map((p) => ({
      name: p.name,
      kind: p.kind,
      pid: 0,
      running: true,
      metricsPort: portOf(p.metricsUrl),
      ...(p.metricsUrl ? { metricsUrl: p.metricsUrl } : {}),
      restarts: 0,
    }));
  }
  signal(name: string): boolean {
    throw new Error(`cannot signal ${name}: the target's process controller is none`);
  }
  resume(): void {}
  restarts(): number {
    return 0;
  }
  pids(): number[] {
    return [];
  }
}
