// `--summary-export FILE`: the end-of-test summary in the JSON shape of k6's own --summary-export,
// so that whatever reads a k6 export (a dashboard, a jq script in CI) reads payproof's:
//   { root_group: { name, path, id, groups, checks: { <name>: { name, path, id, passes, fails } } },
//     metrics: { <key>: { avg, min, med, max, p(90), p(95), p(99) | count, rate | passes, fails,
//                         value | value, min, max, thresholds?: { '<expr>': <failed?> } } } }
// As in k6's export, a threshold's boolean is true when the threshold FAILED (docs/k6.md).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { LoadSummary, MetricSummary } from './summary.ts';

export interface K6Check {
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly passes: number;
  readonly fails: number;
}

export interface K6SummaryExport {
  readonly root_group: {
    readonly name: '';
    readonly path: '';
    readonly id: string;
    readonly groups: Record<string, never>;
    readonly checks: Record<string, K6Check>;
  };
  readonly options: {
    readonly summaryTrendStats: readonly string[];
    readonly summaryTimeUnit: '';
    readonly noColor: boolean;
  };
  readonly state: {
    readonly isStdOutTTY: boolean;
    readonly isStdErrTTY: boolean;
    readonly testRunDurationMs: number;
  };
  readonly metrics: Record<string, Record<string, number | Record<string, boolean>>>;
}

/** k6's default trend stats, plus p(99) (payproof's thresholds use it). Times are milliseconds. */
export const exportedTrendStats = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'] as const;

/** k6 names groups and checks by the MD5 of their path (`::<check>`; the root group's path is ''). */
const id = (path: string) => createHash('md5').update(path).digest('hex');

function values(m: MetricSummary): Record<string, number> {
  switch (m.type) {
    case 'trend':
      return Object.fromEntries(exportedTrendStats.map((k) => [k, m.values[k]]));
    case 'counter':
      return { count: m.values.count, rate: m.values.rate };
    case 'rate':
      return { passes: m.values.passes, fails: m.values.fails, value: m.values.rate };
    case 'gauge':
      return { value: m.values.value, min: m.values.min, max: m.values.max };
  }
}

export function summaryExport(
  s: LoadSummary,
  tty = { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
): K6SummaryExport {
  const metrics: K6SummaryExport['metrics'] = {};
  for (const [key, m] of Object.entries(s.metrics)) metrics[key] = values(m);
  // Whole-run thresholds only: k6 has no per-phase thresholds (payproof's are in result.json).
  for (const c of s.criteria.filter((x) => (x.phase ?? 'run') === 'run')) {
    const key = c.name.slice(0, c.name.lastIndexOf(' '));
    const target = metrics[key] ?? {};
    const thresholds = (target.thresholds ?? {}) as Record<string, boolean>;
    thresholds[c.threshold] = !c.pass;
    target.thresholds = thresholds;
    metrics[key] = target;
  }
  const checks: Record<string, K6Check> = {};
  for (const c of s.checks)
    checks[c.name] = {
      name: c.name,
      path: `::${c.name}`,
      id: id(`::${c.name}`),
      passes: c.passes,
      fails: c.fails,
    };
  return {
    root_group: { name: '', path: '', id: id(''), groups: {}, checks },
    options: { summaryTrendStats: exportedTrendStats, summaryTimeUnit: '', noColor: false },
    state: {
      isStdOutTTY: tty.stdout,
      isStdErrTTY: tty.stderr,
      testRunDurationMs: Math.round(s.durationS * 1_000),
    },
    metrics,
  };
}

export function writeSummaryExport(path: string, s: LoadSummary): void {
  writeFileSync(path, `${JSON.stringify(summaryExport(s), null, 2)}\n`);
}
