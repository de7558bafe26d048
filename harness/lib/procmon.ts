// Where the CPU goes: CPU time and resident memory of every process of the run (the system's Node
// processes, PostgreSQL with its backends, Kafka, Redis, Toxiproxy, the load generator, pgbench),
// read from /proc once a second, plus the whole machine's busy time from /proc/stat, so that
// "others" (other engineers' work on a shared machine) shows as its own line.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux almost everywhere). */
export const clockTicks = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

const pageKiB = (() => {
  const r = spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n / 1024 : 4;
})();

export interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  /** utime + stime, ticks. */
  readonly ticks: number;
  /** cutime + cstime: children already reaped, ticks. */
  readonly childTicks: number;
  readonly startTicks: number;
  readonly rssKiB: number;
  /** The command's name (comm), e.g. `postgres`, `java`, `kworker/0:1`. */
  readonly comm: string;
}

export function readStat(pid: number): Stat | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[n - 3] is field n of proc(5): 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime, 22 starttime, 24 rss.
  return {
    pid,
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    ticks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    startTicks: Number(f[19]),
    rssKiB: Number(f[21]) * pageKiB,
    comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')),
  };
}

export function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && st.state !== 'Z') out.push(st);
  }
  return out;
}

/** Machine-wide CPU time from /proc/stat, ticks summed over every core; PSI totals in µs. */
export interface MachineTicks {
  readonly busy: number;
  /** Idle time, iowait included (a core waiting for the disk could run something else). */
  readonly idle: number;
  /** The part of `idle` a core spent with a task of its own waiting for the disk. */
  readonly iowait: number;
  readonly steal: number;
  /** /proc/pressure/cpu `some` total: time at least one runnable task waited for a CPU, µs (-1 without PSI). */
  readonly pressureUs: number;
  /** /proc/pressure/io `some` total: time at least one task was stalled on I/O (an fsync), µs (-1 without PSI). */
  readonly ioPressureUs: number;
}

/**
 * The kernel's TcpExt ListenOverflows counter (/proc/net/netstat, every listening socket of this
 * network namespace): connections dropped because an accept queue was full, each client then
 * waiting for its SYN's retransmission (1 s); -1 when unreadable.
 */
export function listenOverflows(netstat?: string): number {
  try {
    const lines = (netstat ?? readFileSync('/proc/net/netstat', 'utf8')).split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      if (!lines[i]!.startsWith('TcpExt:') || !lines[i + 1]!.startsWith('TcpExt:')) continue;
      const j = lines[i]!.trim().split(/\s+/).indexOf('ListenOverflows');
      const v = Number(lines[i + 1]!.trim().split(/\s+/)[j]);
      return j > 0 && Number.isFinite(v) ? v : -1;
    }
  } catch {}
  return -1;
}

/** Overflows between two reads of listenOverflows(), or null when either was unreadable. */
export function overflowsBetween(before: number, after: number): number | null {
  return before >= 0 && after >= 0 ? after - before : null;
}

function psiSomeUs(resource: 'cpu' | 'io'): number {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync(`/proc/pressure/${resource}`, 'utf8'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1; // no PSI on this kernel
  }
}

export function machineTicks(): MachineTicks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return {
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    iowait,
    steal,
    pressureUs: psiSomeUs('cpu'),
    ioPressureUs: psiSomeUs('io'),
  };
}

/**
 * Time a thread spent runnable but waiting for a CPU (run-queue delay), ns, from
 * /proc/<pid>/task/<tid>/schedstat (field 2): the main thread only, or every thread.
 */
function runQueueWaitNs(pid: number, threads: 'main' | 'all'): number {
  const read = (path: string) => {
    try {
      return Number(readFileSync(path, 'utf8').split(' ')[1]) || 0;
    } catch {
      return 0;
    }
  };
  if (threads === 'main') return read(`/proc/${pid}/schedstat`);
  let sum = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) sum += read(`/proc/${pid}/task/${tid}/schedstat`);
  } catch {
    return 0;
  }
  return sum;
}

/** A process to watch. `tree`: count its descendants too (PostgreSQL's backends, Kafka's threads are one process). */
export interface Watched {
  readonly name: string;
  readonly pid: number;
  readonly tree?: boolean;
  /** Only this process's own time, never its reaped children's (the bench itself: its children are the system). */
  readonly selfOnly?: boolean;
  /** Run-queue wait of the main thread (default: Node's event loop, a PostgreSQL backend) or of every thread (a JVM). */
  readonly threads?: 'main' | 'all';
}

export interface Snapshot {
  readonly atMs: number;
  /** Cumulative CPU ticks per watched name since the monitor started. */
  readonly ticks: ReadonlyMap<string, number>;
  /** Cumulative run-queue wait per watched name, ns (processes of a tree summed). */
  readonly waitNs: ReadonlyMap<string, number>;
  readonly machine: MachineTicks;
}

export interface CpuRow {
  readonly name: string;
  /** CPU seconds in the window. */
  readonly cpuS: number;
  /** Share of one core over the window (100 = one full core). */
  readonly pctOfCore: number;
  /**
   * Time runnable but waiting for a CPU, % of the window (per process of a tree, summed): what a
   * saturated machine costs this process in latency. Absent for rows not sampled from /proc.
   */
  readonly waitPct?: number;
}

export interface CpuWindow {
  readonly seconds: number;
  readonly rows: readonly CpuRow[];
  /** Busy time of the whole machine, % of one core (2 cores = 200 max). */
  readonly machineBusyPct: number;
  /** Busy time not accounted for by any watched process: other users of the machine. */
  readonly othersPct: number;
  readonly idlePct: number;
  readonly stealPct: number;
  /** PSI: % of the window in which at least one runnable task waited for a CPU (null without PSI). */
  readonly pressurePct: number | null;
  readonly cores: number;
}

/**
 * Samples every watched process once a second (and on demand with `snapshot()`), keeping a
 * cumulative, monotonic CPU counter per name: a process that restarts or is replaced under the same
 * name keeps adding to it, and a process that exits keeps what it used until its last sample.
 */
export class ProcessMonitor {
  readonly #list: () => readonly Watched[];
  readonly #cum = new Map<string, number>();
  readonly #last = new Map<string, number>();
  readonly #cumWait = new Map<string, number>();
  readonly #lastWait = new Map<string, number>();
  readonly #peakRss = new Map<string, number>();
  readonly #lastRss = new Map<string, number>();
  readonly #cores: number;
  #timer: NodeJS.Timeout | undefined;
  #first = true;

  constructor(list: () => readonly Watched[], cores: number) {
    this.#list = list;
    this.#cores = cores;
  }

  start(intervalMs = 1_000): void {
    this.snapshot();
    this.#timer = setInterval(() => this.snapshot(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads every watched process now; returns the cumulative counters. */
  snapshot(): Snapshot {
    const atMs = performance.now();
    const machine = machineTicks();
    const stats = allStats();
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    const children = new Map<number, Stat[]>();
    for (const s of stats) {
      const list = children.get(s.ppid);
      if (list) list.push(s);
      else children.set(s.ppid, [s]);
    }
    for (const w of this.#list()) {
      const root = byPid.get(w.pid);
      if (!root) continue;
      let ticks = root.ticks + (w.selfOnly ? 0 : root.childTicks);
      let rss = root.rssKiB;
      const members = [root];
      if (w.tree) {
        const queue = [...(children.get(root.pid) ?? [])];
        for (let i = 0; i < queue.length; i++) {
          const c = queue[i]!;
          // A live child's own time; its reaped children's time shows in its childTicks.
          ticks += c.ticks + c.childTicks;
          rss += c.rssKiB;
          members.push(c);
          queue.push(...(children.get(c.pid) ?? []));
        }
      }
      // Run-queue wait per member process: a backend that comes and goes must not make the sum jump back.
      for (const p of members) {
        const wkey = `${w.name}|${p.pid}|${p.startTicks}`;
        const wait = runQueueWaitNs(p.pid, w.threads ?? 'main');
        const prevWait = this.#lastWait.get(wkey);
        const dw = prevWait === undefined ? (this.#first ? 0 : wait) : Math.max(0, wait - prevWait);
        this.#lastWait.set(wkey, wait);
        this.#cumWait.set(w.name, (this.#cumWait.get(w.name) ?? 0) + dw);
      }
      const key = `${w.name}|${root.pid}|${root.startTicks}`;
      const prev = this.#last.get(key);
      // The first sample of the run is a baseline; a process first seen later started during the run.
      const delta = prev === undefined ? (this.#first ? 0 : ticks) : Math.max(0, ticks - prev);
      this.#last.set(key, ticks);
      this.#cum.set(w.name, (this.#cum.get(w.name) ?? 0) + delta);
      this.#lastRss.set(w.name, rss);
      this.#peakRss.set(w.name, Math.max(this.#peakRss.get(w.name) ?? 0, rss));
    }
    this.#first = false;
    return { atMs, ticks: new Map(this.#cum), waitNs: new Map(this.#cumWait), machine };
  }

  /** CPU per process between two snapshots, busiest first. */
  between(a: Snapshot, b: Snapshot, extra: readonly CpuRow[] = []): CpuWindow {
    const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1_000);
    const rows: CpuRow[] = [];
    for (const [name, t] of b.ticks) {
      const cpuS = (t - (a.ticks.get(name) ?? 0)) / clockTicks;
      const waitS = ((b.waitNs.get(name) ?? 0) - (a.waitNs.get(name) ?? 0)) / 1e9;
      rows.push({ name, cpuS, pctOfCore: (100 * cpuS) / seconds, waitPct: (100 * waitS) / seconds });
    }
    rows.push(...extra);
    rows.sort((x, y) => y.cpuS - x.cpuS);
    const busyS = (b.machine.busy - a.machine.busy) / clockTicks;
    const idleS = (b.machine.idle - a.machine.idle) / clockTicks;
    const stealS = (b.machine.steal - a.machine.steal) / clockTicks;
    const ours = rows.reduce((s, r) => s + r.cpuS, 0);
    return {
      seconds,
      rows,
      machineBusyPct: (100 * busyS) / seconds,
      othersPct: (100 * Math.max(0, busyS - ours)) / seconds,
      idlePct: (100 * idleS) / seconds,
      stealPct: (100 * stealS) / seconds,
      pressurePct:
        a.machine.pressureUs >= 0 && b.machine.pressureUs >= 0
          ? (100 * (b.machine.pressureUs - a.machine.pressureUs)) / 1e6 / seconds
          : null,
      cores: this.#cores,
    };
  }

  /** Peak and last resident memory per name, KiB. */
  memory(): { name: string; peakKiB: number; lastKiB: number }[] {
    return [...this.#peakRss].map(([name, peakKiB]) => ({
      name,
      peakKiB,
      lastKiB: this.#lastRss.get(name) ?? 0,
    }));
  }
}

/**
 * Runs a command under `sh` and reads the CPU time of the command from the shell's `times`
 * builtin (the reaped child's user + system time): exact even for a short-lived tool.
 */
export function timedShellArgs(command: string, args: readonly string[]): { file: string; args: string[] } {
  return {
    file: 'sh',
    args: ['-c', '"$0" "$@"; rc=$?; times >&2; exit $rc', command, ...args],
  };
}

/** Parses the children's line of `times` output ("0m1.234s 0m0.567s"), seconds of CPU. */
export function parseTimes(stderr: string): number | undefined {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => /^\d+m[\d.]+s\s+\d+m[\d.]+s$/.test(l.trim()));
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  const secs = last
    .trim()
    .split(/\s+/)
    .map((x) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(x);
      return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
    });
  return secs.reduce((a, b) => a + b, 0);
}
