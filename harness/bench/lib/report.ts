// What a benchmark prints and keeps: the printed text (stdout, and output.txt in the run folder),
// the figures as bench.json next to it, and the CPU / memory tables every benchmark shows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuWindow } from '../../lib/procmon.ts';
import { createRunFolder } from '../../report/run-folder.ts';
import type { DbDelta } from './dbstats.ts';
import { mib, n, rounded, table } from './format.ts';

/** The system's Node processes: the ones the ≤ 150 MB resident memory goal is about. */
export const nodeProcessNames = [
  'api',
  'relay',
  'purchase-worker',
  'allocation-worker',
  'session-worker',
  'cache-worker',
] as const;
export const nodeRssGoalMiB = 150;

export class Report {
  readonly #lines: string[] = [];

  /** A line for stdout and output.txt. */
  out(line = ''): void {
    this.#lines.push(line);
    console.log(line);
  }

  /** Progress for stderr only. */
  readonly progress = (line: string): void => {
    console.error(line);
  };

  /** Creates reports/<stamp>-<name>/ with bench.json and output.txt; returns the folder. */
  save(name: string, figures: unknown): string {
    const dir = createRunFolder(name);
    writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(rounded(figures), null, 2)}\n`);
    writeFileSync(join(dir, 'output.txt'), `${this.#lines.join('\n')}\n`);
    return dir;
  }
}

/**
 * CPU per process over a window, as % of one core and CPU seconds; with `ops` (confirmations,
 * payments, events done in the window) also CPU milliseconds per op, and the ceiling those costs
 * put on a machine whose cores were all ours: cores × 1000 / (CPU ms per op, all processes).
 */
export function cpuTable(w: CpuWindow, ops?: { count: number; unit: string }, minPct = 0.5): string {
  const per = (cpuS: number) => (ops && ops.count > 0 ? n((1000 * cpuS) / ops.count, 2) : '');
  const rows = w.rows
    .filter((r) => r.pctOfCore >= minPct)
    .map((r) => [
      r.name,
      `${n(r.pctOfCore, 0)}%`,
      n(r.cpuS, 1),
      per(r.cpuS),
      r.waitPct === undefined ? '' : `${n(r.waitPct, 0)}%`,
    ]);
  const oursS = w.rows.reduce((a, r) => a + r.cpuS, 0);
  rows.push(['= all of the above', `${n((100 * oursS) / w.seconds, 0)}%`, n(oursS, 1), per(oursS)]);
  rows.push(['others on this machine', `${n(w.othersPct, 0)}%`, n((w.othersPct * w.seconds) / 100, 1), '']);
  rows.push(['idle', `${n(w.idlePct, 0)}%`, n((w.idlePct * w.seconds) / 100, 1), '']);
  if (w.stealPct >= 0.5)
    rows.push(['steal (hypervisor)', `${n(w.stealPct, 0)}%`, n((w.stealPct * w.seconds) / 100, 1), '']);
  const header = ['process', '% of a core', 'CPU s', ops ? `CPU ms / ${ops.unit}` : '', 'waiting for a CPU'];
  let text = `${table(header, rows)}\n  (${n(w.seconds, 1)} s window; ${w.cores} cores = ${w.cores * 100}%; "waiting for a CPU": share of the window the process's main thread (postgres: each backend; kafka, toxiproxy: every thread) was runnable but not running, /proc/<pid>/schedstat)`;
  if (w.pressurePct !== null)
    text += `\n  CPU pressure (PSI "some"): ${n(w.pressurePct, 0)}% of the window had a runnable task waiting for a CPU`;
  if (ops && ops.count > 0 && oursS > 0)
    text += `\n  ${ops.count} ${ops.unit}s in the window: on ${w.cores} cores of its own this mix would top out near ${n((w.cores * ops.count) / oursS, 0)} ${ops.unit}s/s (CPU-bound ceiling)`;
  return text;
}

/** CPU ms per op of each process, and the CPU-bound ceiling, for bench.json. */
export function cpuPerOp(w: CpuWindow, ops: number) {
  const oursS = w.rows.reduce((a, r) => a + r.cpuS, 0);
  return {
    ops,
    cpuMsPerOp: Object.fromEntries(w.rows.map((r) => [r.name, ops > 0 ? (1000 * r.cpuS) / ops : null])),
    totalCpuMsPerOp: ops > 0 ? (1000 * oursS) / ops : null,
    ceilingPerS: oursS > 0 ? (w.cores * ops) / oursS : null,
  };
}

export function cpuFigures(w: CpuWindow) {
  return {
    seconds: w.seconds,
    pctOfCore: Object.fromEntries(w.rows.map((r) => [r.name, r.pctOfCore])),
    waitPct: Object.fromEntries(w.rows.map((r) => [r.name, r.waitPct ?? null])),
    othersPct: w.othersPct,
    idlePct: w.idlePct,
    stealPct: w.stealPct,
    pressurePct: w.pressurePct,
  };
}

export interface MemoryRow {
  readonly name: string;
  readonly peakKiB: number;
  readonly lastKiB: number;
}

export function memoryTable(rows: readonly MemoryRow[]): { text: string; allNodeWithinGoal: boolean } {
  const isNode = (name: string) => (nodeProcessNames as readonly string[]).includes(name);
  const sorted = [...rows].sort(
    (a, b) => Number(isNode(b.name)) - Number(isNode(a.name)) || b.peakKiB - a.peakKiB,
  );
  let ok = true;
  const out = sorted.map((r) => {
    const within = r.peakKiB / 1024 <= nodeRssGoalMiB;
    if (isNode(r.name)) ok &&= within;
    return [
      r.name,
      mib(r.peakKiB),
      mib(r.lastKiB),
      isNode(r.name) ? `${within ? 'PASS' : 'FAIL'} (≤ ${nodeRssGoalMiB} MiB)` : '',
    ];
  });
  return {
    text: table(['process', 'peak RSS', 'at end', 'goal'], out),
    allNodeWithinGoal: ok,
  };
}

/**
 * Per process (rows) and phase (columns): CPU as % of one core, or the share of the window spent
 * waiting for a CPU (`what: 'wait'`); then the machine's lines.
 */
export function cpuMatrix(
  phases: readonly { label: string; window: CpuWindow; ops?: number }[],
  what: 'cpu' | 'wait' = 'cpu',
  minPct = 1,
): string {
  const value = (r: CpuWindow['rows'][number]) => (what === 'cpu' ? r.pctOfCore : r.waitPct);
  const names = new Map<string, number>();
  for (const p of phases)
    for (const r of p.window.rows) names.set(r.name, Math.max(names.get(r.name) ?? 0, value(r) ?? 0));
  const order = [...names]
    .filter(([, max]) => max >= minPct)
    .sort((a, b) => b[1] - a[1])
    .map(([k]) => k);
  const cell = (x: number | undefined) => (x === undefined ? '-' : `${n(x, 0)}%`);
  const rows = order.map((name) => [
    name,
    ...phases.map((p) => {
      const r = p.window.rows.find((x) => x.name === name);
      return cell(r ? value(r) : undefined);
    }),
  ]);
  if (what === 'cpu') {
    rows.push([
      '= all of the above',
      ...phases.map((p) => cell(p.window.rows.reduce((a, r) => a + r.pctOfCore, 0))),
    ]);
    rows.push(['others on this machine', ...phases.map((p) => cell(p.window.othersPct))]);
    rows.push(['idle', ...phases.map((p) => cell(p.window.idlePct))]);
    rows.push(['window, s', ...phases.map((p) => n(p.window.seconds, 0))]);
    rows.push([
      'payments (or events) done',
      ...phases.map((p) => (p.ops === undefined ? '-' : String(p.ops))),
    ]);
    rows.push([
      'CPU ms per payment, all ours',
      ...phases.map((p) =>
        p.ops ? n((1000 * p.window.rows.reduce((a, r) => a + r.cpuS, 0)) / p.ops, 2) : '-',
      ),
    ]);
  } else {
    rows.push(['CPU pressure (PSI some)', ...phases.map((p) => cell(p.window.pressurePct ?? undefined))]);
  }
  return table([what === 'cpu' ? '% of one core' : 'waiting for a CPU', ...phases.map((p) => p.label)], rows);
}

/** Database work of a phase per payment: transactions, and per table scans and writes. */
export function dbTable(d: DbDelta, payments: number): string {
  const per = (x: number) => (payments > 0 ? n(x / payments, 2) : '-');
  const rows = d.tables
    .filter((t) => t.seqScan + t.idxScan + t.inserted + t.updated > 0)
    .map((t) => [
      t.name,
      per(t.seqScan),
      per(t.seqTupRead),
      per(t.idxScan),
      per(t.inserted),
      per(t.updated),
      t.updated > 0 ? `${n((100 * t.hotUpdated) / t.updated, 0)}%` : '-',
    ]);
  return `  ${per(d.commits)} committed transactions and ${per(d.rollbacks)} rollbacks per payment (${d.commits} / ${payments})\n${table(
    ['per payment', 'seq scans', 'rows seq-read', 'index scans', 'inserted', 'updated', 'HOT'],
    rows,
  )}`;
}
