// Who else used the machine while a run measured latency. A load run's latency is the system's only
// when the CPU went to the system: on a shared machine (another job, a noisy neighbour's steal, a
// disk still writing back the last job's files) the same code answers slower. The run cannot
// prevent that, but it can say so, from the kernel's own counters (not the system's metrics):
// - /proc/stat: the machine's busy, iowait and steal time;
// - /proc/pressure (PSI): time some task waited for a CPU, or was stalled on I/O (an fsync);
// - /proc/<pid>/stat: the CPU of this process (the harness: load generator and observer), of its
//   descendants (everything the run started: the system, PostgreSQL, Kafka, Redis, Toxiproxy,
//   Prometheus) and of every other process (the "others", named by their command).
import { readFileSync } from 'node:fs';
import {
  allStats,
  clockTicks,
  listenOverflows,
  type MachineTicks,
  machineTicks,
  overflowsBetween,
  type Stat,
} from './procmon.ts';

export interface MachineMark {
  readonly atMs: number;
  readonly machine: MachineTicks;
  readonly procs: readonly Stat[];
  /** Seconds since boot when the mark was taken: a process started later ran entirely in the window. */
  readonly uptimeS: number;
  /** The kernel's accept-queue overflow counter (procmon listenOverflows; -1 unreadable). */
  readonly listenOverflows: number;
}

export interface MachineWindow {
  readonly seconds: number;
  readonly cores: number;
  /** % of one core (cores × 100 = every core busy). */
  readonly busyPct: number;
  readonly harnessPct: number;
  /** Everything the run started (descendants of the harness process). */
  readonly runPct: number;
  /** Busy time of processes the run did not start (and the kernel's own threads). */
  readonly othersPct: number;
  readonly topOthers: readonly { readonly comm: string; readonly pct: number }[];
  readonly stealPct: number;
  readonly iowaitPct: number;
  /** PSI `some`: % of the window in which a task waited for a CPU / was stalled on I/O (null without PSI). */
  readonly cpuPressurePct: number | null;
  readonly ioPressurePct: number | null;
  /** Connections dropped by a full accept queue in the window (kernel counter; null when unreadable). */
  readonly listenOverflows: number | null;
}

function uptimeS(): number {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) || 0;
  } catch {
    return 0;
  }
}

export function markMachine(): MachineMark {
  return {
    atMs: performance.now(),
    machine: machineTicks(),
    procs: allStats(),
    uptimeS: uptimeS(),
    listenOverflows: listenOverflows(),
  };
}

const key = (p: Stat) => `${p.pid}|${p.startTicks}`;

/** The root and its live descendants, by parent pid. */
function treeOf(procs: readonly Stat[], rootPid: number): Set<string> {
  const children = new Map<number, Stat[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out = new Set<string>();
  const root = procs.find((p) => p.pid === rootPid);
  if (!root) return out;
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i]!;
    out.add(key(p));
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

const pct = (ticks: number, seconds: number) => (100 * ticks) / clockTicks / seconds;

/**
 * Splits the machine's busy time between two marks: the root process itself, the processes it
 * started (their reaped children included, through cutime), and everyone else. A process that
 * started after `a` counts whole; one that ended before `b` counts up to `a` only when nobody
 * reaped it into a parent of the same side.
 */
export function machineWindow(
  a: MachineMark,
  b: MachineMark,
  { rootPid = process.pid, cores, top = 3 }: { rootPid?: number; cores: number; top?: number },
): MachineWindow {
  const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1_000);
  const before = new Map(a.procs.map((p) => [key(p), p]));
  const ours = new Set([...treeOf(a.procs, rootPid), ...treeOf(b.procs, rootPid)]);
  const rootKey = b.procs.find((p) => p.pid === rootPid);
  let harness = 0;
  let run = 0;
  const others = new Map<string, number>();
  for (const p of b.procs) {
    const k = key(p);
    const was = before.get(k);
    const startedInWindow = p.startTicks / clockTicks > a.uptimeS;
    if (!was && !startedInWindow) continue; // pid seen only now, but older: cannot split its time
    const self = p.ticks - (was?.ticks ?? 0);
    const reaped = p.childTicks - (was?.childTicks ?? 0);
    if (rootKey && k === key(rootKey)) {
      harness += self;
      run += reaped; // the run's processes that ended and were reaped by the harness
    } else if (ours.has(k)) run += self + reaped;
    else others.set(p.comm, (others.get(p.comm) ?? 0) + self + reaped);
  }
  const busy = b.machine.busy - a.machine.busy;
  const othersTicks = Math.max(0, busy - harness - run);
  const psi = (x: number, y: number) => (x >= 0 && y >= 0 ? (100 * (y - x)) / 1e6 / seconds : null);
  return {
    seconds,
    cores,
    busyPct: pct(busy, seconds),
    harnessPct: pct(harness, seconds),
    runPct: pct(run, seconds),
    othersPct: pct(othersTicks, seconds),
    topOthers: [...others]
      .filter(([, t]) => t > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([comm, t]) => ({ comm, pct: pct(t, seconds) })),
    stealPct: pct(b.machine.steal - a.machine.steal, seconds),
    iowaitPct: pct(b.machine.iowait - a.machine.iowait, seconds),
    cpuPressurePct: psi(a.machine.pressureUs, b.machine.pressureUs),
    ioPressurePct: psi(a.machine.ioPressureUs, b.machine.ioPressureUs),
    listenOverflows: overflowsBetween(a.listenOverflows, b.listenOverflows),
  };
}

/** Per-second machine figures for samples.jsonl, from two reads of /proc/stat and PSI. */
export function machineSample(a: MachineTicks, b: MachineTicks, seconds: number): Record<string, number> {
  const s = Math.max(0.001, seconds);
  const out: Record<string, number> = {
    machine_busy_pct: round1(pct(b.busy - a.busy, s)),
    machine_steal_pct: round1(pct(b.steal - a.steal, s)),
    machine_iowait_pct: round1(pct(b.iowait - a.iowait, s)),
  };
  if (a.pressureUs >= 0 && b.pressureUs >= 0)
    out.cpu_pressure_pct = round1((100 * (b.pressureUs - a.pressureUs)) / 1e6 / s);
  if (a.ioPressureUs >= 0 && b.ioPressureUs >= 0)
    out.io_pressure_pct = round1((100 * (b.ioPressureUs - a.ioPressureUs)) / 1e6 / s);
  return out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Limits past which a latency figure describes the machine as much as the system. */
export const sharedMachineLimits = {
  /** % of one core used by processes the run did not start. */
  othersPct: 25,
  /** % of one core taken by the hypervisor for other guests. */
  stealPct: 5,
} as const;

/** The run's figures (result.json) and, when the machine was shared, one warning. */
export function machineFigures(w: MachineWindow): {
  figures: Record<string, number | string>;
  warning?: string;
} {
  const figures: Record<string, number | string> = {
    machine_cores: w.cores,
    machine_busy_pct: round1(w.busyPct),
    machine_run_pct: round1(w.runPct),
    machine_harness_pct: round1(w.harnessPct),
    machine_others_pct: round1(w.othersPct),
    machine_others_top: w.topOthers.map((o) => `${o.comm} ${round1(o.pct)}%`).join(', ') || 'none',
    machine_steal_pct: round1(w.stealPct),
    machine_iowait_pct: round1(w.iowaitPct),
    machine_cpu_pressure_pct: w.cpuPressurePct === null ? 'n/a' : round1(w.cpuPressurePct),
    machine_io_pressure_pct: w.ioPressurePct === null ? 'n/a' : round1(w.ioPressurePct),
    machine_listen_overflows: w.listenOverflows ?? 'n/a',
  };
  const why: string[] = [];
  if (w.othersPct > sharedMachineLimits.othersPct)
    why.push(
      `processes this run did not start used ${round1(w.othersPct)}% of a core (${figures.machine_others_top})`,
    );
  if (w.stealPct > sharedMachineLimits.stealPct)
    why.push(`the hypervisor stole ${round1(w.stealPct)}% of a core`);
  const warnings: string[] = [];
  if (why.length)
    warnings.push(
      `the machine was shared during the load: ${why.join('; ')}; latency figures describe the machine as much as the system`,
    );
  if (w.listenOverflows !== null && w.listenOverflows > 0)
    warnings.push(
      `the kernel dropped ${w.listenOverflows} connection(s) at a full accept queue (TcpExtListenOverflows): each of those clients waited >= 1 s for its SYN's retransmission before its first request was read`,
    );
  return warnings.length ? { figures, warning: warnings.join('. ') } : { figures };
}

/** One line for the end of a run: where the machine's CPU went during the load. */
export function describeMachine(f: Readonly<Record<string, unknown>>): string | undefined {
  if (f.machine_busy_pct === undefined) return undefined;
  const cores = Number(f.machine_cores);
  return `machine during the load: busy ${f.machine_busy_pct}% of ${cores * 100}% (this run's processes ${f.machine_run_pct}, harness ${f.machine_harness_pct}, others ${f.machine_others_pct}: ${f.machine_others_top}); steal ${f.machine_steal_pct}%, iowait ${f.machine_iowait_pct}%; PSI: CPU wait ${f.machine_cpu_pressure_pct}%, I/O stall ${f.machine_io_pressure_pct}% of the time${f.machine_listen_overflows === undefined ? '' : `; accept-queue overflows ${f.machine_listen_overflows}`}`;
}
