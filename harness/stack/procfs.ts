// What Linux's /proc says about processes: process trees (a service and everything it forked),
// resident memory, and whether a process we started is really gone (pid reuse and zombies included).
import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/<pid>/stat describes it. */
export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Process group id: every service the harness starts leads its own group. */
  readonly pgid: number;
  /** R running, S sleeping, D disk wait, T stopped, Z zombie (exited, not yet reaped), ... */
  readonly state: string;
  /** Start time in clock ticks since boot: with the pid, identifies a process across pid reuse. */
  readonly startTicks: number;
  readonly comm: string;
}

export function readProc(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // f[0] is field 3 (state) of proc(5); field n is f[n - 3].
  return {
    pid,
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    pgid: Number(f[2]),
    startTicks: Number(f[19]),
    comm,
  };
}

export function listProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/**
 * A live process and all its live descendants, found by parent pid. Not by process group: every
 * PostgreSQL backend calls setsid() and leads a group of its own.
 */
export function processTree(rootPid: number): ProcInfo[] {
  const all = listProcs().filter((p) => p.state !== 'Z');
  const root = all.find((p) => p.pid === rootPid);
  if (!root) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]!.pid;
    tree.push(...all.filter((p) => p.ppid === parent));
  }
  return tree;
}

/**
 * True when the process is no longer running: no /proc entry, a zombie (it has exited and holds
 * no memory, sockets or files; only its parent, or init for an orphan, has yet to reap it), or the
 * pid now belongs to a different process.
 */
export function isGone(p: Pick<ProcInfo, 'pid' | 'startTicks'>): boolean {
  const now = readProc(p.pid);
  return now === undefined || now.state === 'Z' || now.startTicks !== p.startTicks;
}

/** Resident memory of one process in KiB (VmRSS), 0 when it is gone or a kernel thread. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process and its descendants in KiB (shared pages count once per process). */
export function treeRssKiB(rootPid: number): number {
  return processTree(rootPid).reduce((sum, p) => sum + rssKiB(p.pid), 0);
}

/**
 * Proportional set size of a process in KiB (Pss from smaps_rollup): its private pages plus its
 * share of pages it shares with others, so a tree's sum does not count shared memory twice.
 */
export function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function treePssKiB(rootPid: number): number {
  return processTree(rootPid).reduce((sum, p) => sum + pssKiB(p.pid), 0);
}

/** Resident memory of a process by kind of mapping, KiB: the brk heap, other anonymous memory, files. */
export interface ResidentByMapping {
  readonly brk: number;
  readonly anon: number;
  readonly file: number;
}

/** From /proc/<pid>/smaps (the Rss of each mapping, summed by kind); undefined when unreadable. */
export function residentByMappingKiB(pid: number | 'self'): ResidentByMapping | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof kib = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '[heap]' ? 'brk' : head[1]?.startsWith('/') ? 'file' : 'anon';
    else if (line.startsWith('Rss:')) kib[kind] += Number(line.split(/\s+/)[1]);
  }
  return kib;
}
