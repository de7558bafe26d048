// One line per chaos run, the figures a reader asks for first: how long, what the clients saw
// while the fault was on, how long the system took to recover, how much work flowed, how many
// duplicates were delivered and absorbed, and the verdict.
import type { RunResult } from '../run/result.ts';

export interface SummaryRow {
  readonly scenario: string;
  readonly verdict: string;
  readonly durationS: number;
  readonly duringConfirms: number | null;
  readonly duringConfirmP95Ms: number | null;
  readonly timeToRecoverS: number | null;
  readonly eventsProcessed: number | null;
  readonly duplicatesDelivered: number | null;
  readonly duplicatesAbsorbed: number | null;
  readonly reason: string;
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function summaryRow(r: RunResult): SummaryRow {
  const f = r.figures;
  return {
    scenario: r.scenario.replace(/^chaos:/, ''),
    verdict: r.verdict,
    durationS: r.durationS,
    duringConfirms: num(f.during_confirms),
    duringConfirmP95Ms: num(f.during_confirm_p95_ms),
    timeToRecoverS: num(f.time_to_recover_s),
    eventsProcessed: num(f.events_processed),
    duplicatesDelivered: num(f.duplicates_delivered),
    duplicatesAbsorbed: num(f.duplicates_absorbed),
    reason: r.reason,
  };
}

const cell = (x: number | null, digits = 0) => (x === null ? '–' : x.toFixed(digits));

export const summaryHeader = [
  'scenario',
  'verdict',
  'wall s',
  'confirms during',
  'p95 during ms',
  'recover s',
  'events processed',
  'dups delivered',
  'dups absorbed',
] as const;

function cells(r: SummaryRow): string[] {
  return [
    r.scenario,
    r.verdict,
    cell(r.durationS),
    cell(r.duringConfirms),
    cell(r.duringConfirmP95Ms),
    cell(r.timeToRecoverS, 1),
    cell(r.eventsProcessed),
    cell(r.duplicatesDelivered),
    cell(r.duplicatesAbsorbed),
  ];
}

/** A fixed-width table for the terminal. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const all = [[...summaryHeader], ...rows.map(cells)];
  const widths = summaryHeader.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** The same table in Markdown (docs/chaos.md). */
export function formatMarkdown(rows: readonly SummaryRow[]): string {
  const head = `| ${summaryHeader.join(' | ')} |`;
  const sep = `|${summaryHeader.map((_, i) => (i < 2 ? '---' : '--:')).join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${cells(r).join(' | ')} |`)].join('\n');
}

/** Exit code of several runs: 1 if any FAIL, else 2 if any UNKNOWN, else 0. */
export function worstExitCode(verdicts: readonly string[]): number {
  if (verdicts.includes('FAIL')) return 1;
  if (verdicts.some((v) => v !== 'PASS')) return 2;
  return 0;
}
