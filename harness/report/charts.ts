// Turns samples.jsonl (and history.jsonl) into the panels of the run page. Which metrics share a
// chart is decided by their names (harness/report/README.md, "Sample metrics"):
//   throughput_rps                      -> Throughput
//   <op>_p<NN>_ms                       -> one latency chart per <op>, a line per percentile
//   errors, errors_<kind>               -> Errors
//   lag_<consumer group>                -> Consumer lag, a line per group
//   outbox_backlog                      -> Outbox backlog
//   dlq_total, dlq_<group>              -> Dead-lettered
//   alert_<AlertName>                   -> Alerts firing (Prometheus), a line per alert that fired
//   anything else                       -> a chart of its own, unit read from its suffix
// The six standard panels are always drawn, so every run page has the same shape; a metric the
// run did not record shows as "not recorded" rather than silently vanishing.
import type { HistoryOp } from '../run/history.ts';
import type { Sample } from '../run/result.ts';
import type { Series } from './svg-chart.ts';

export interface Panel {
  readonly id: string;
  readonly title: string;
  /** Unit of the y axis, shown in the panel title. */
  readonly unit: string;
  readonly series: readonly Series[];
  /** Where the data comes from, when it is not samples.jsonl. */
  readonly note?: string;
}

/** Restrained categorical palette (colour-blind safe order). */
// No red: red means failure on this page.
const palette = ['#0969da', '#bc4c00', '#1a7f37', '#8250df', '#1b7c83', '#bf3989', '#57606a', '#9a6700'];
/** Percentiles of one latency: shades of one hue, darker for the tail. */
const percentileShades = ['#8cc4ff', '#3d8bfd', '#0b4fa8', '#06264f'];

export function buildPanels(samples: readonly Sample[], history: readonly HistoryOp[] | null): Panel[] {
  const keys = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s)) if (k !== 't') keys.add(k);
  const used = new Set<string>();
  const take = (k: string) => {
    used.add(k);
    return k;
  };
  const series = (k: string, label: string, color: string, dashed = false): Series => ({
    key: k,
    label,
    color,
    points: samples.filter((s) => typeof s[k] === 'number').map((s) => [s.t, s[k]!] as const),
    ...(dashed ? { dashed } : {}),
  });
  const sorted = [...keys].sort();
  const panels: Panel[] = [];

  const throughput = sorted.filter((k) => k === 'throughput_rps' || /^throughput_.+_rps$/.test(k));
  panels.push({
    id: 'throughput',
    title: 'Throughput',
    unit: 'req/s',
    series: throughput.map((k, i) =>
      series(take(k), k === 'throughput_rps' ? 'throughput' : k.slice(11, -4), palette[i % palette.length]!),
    ),
  });

  const latencyOps = new Map<string, { key: string; p: number }[]>();
  for (const k of sorted) {
    const m = /^(.+)_p(\d+(?:\.\d+)?)_ms$/.exec(k);
    if (!m) continue;
    const list = latencyOps.get(m[1]!) ?? [];
    list.push({ key: take(k), p: Number(m[2]) });
    latencyOps.set(m[1]!, list);
  }
  if (latencyOps.size === 0) panels.push({ id: 'latency', title: 'Latency', unit: 'ms', series: [] });
  for (const [op, list] of latencyOps) {
    list.sort((a, b) => a.p - b.p);
    panels.push({
      id: `latency-${slug(op)}`,
      title: `Latency: ${op.replace(/_/g, ' ')}`,
      unit: 'ms',
      series: list.map((l, i) =>
        series(l.key, `p${l.p}`, percentileShades[Math.min(i + Math.max(0, 3 - list.length), 3)]!),
      ),
    });
  }

  const errors = sorted.filter((k) => k === 'errors' || k.startsWith('errors_'));
  panels.push({
    id: 'errors',
    title: 'Errors',
    unit: 'per s',
    series: errors.map((k, i) =>
      series(take(k), k === 'errors' ? 'errors' : k.slice(7), ['#d1242f', '#bc4c00', '#8250df'][i % 3]!),
    ),
  });

  const lags = sorted.filter((k) => k.startsWith('lag_'));
  panels.push({
    id: 'lag',
    title: 'Consumer lag',
    unit: 'messages',
    series: lags.map((k, i) => series(take(k), k.slice(4), palette[i % palette.length]!)),
  });

  const backlog = sorted.filter((k) => k === 'outbox_backlog');
  panels.push({
    id: 'outbox',
    title: 'Outbox backlog',
    unit: 'rows',
    series: backlog.map((k) => series(take(k), 'unpublished rows', '#1b7c83')),
  });

  const dlq = sorted.filter((k) => k === 'dlq_total' || k.startsWith('dlq_'));
  panels.push({
    id: 'dlq',
    title: 'Dead-lettered',
    unit: 'messages, cumulative',
    series: dlq.map((k, i) =>
      series(
        take(k),
        k === 'dlq_total' ? 'total' : k.slice(4),
        i === 0 ? '#8250df' : palette[i % palette.length]!,
      ),
    ),
  });

  // Prometheus's alert state, a line per alert that fired, on the same time axis as the fault bands
  // (alert_<AlertName>: series firing, 0 when not; pending does not count). Alerts that never fired
  // are listed in the note, not drawn.
  const alertKeys = sorted.filter((k) => k.startsWith('alert_'));
  for (const k of alertKeys) take(k);
  if (alertKeys.length > 0) {
    const fired = alertKeys.filter((k) => samples.some((x) => (x[k] ?? 0) > 0));
    const quiet = alertKeys.filter((k) => !fired.includes(k)).map((k) => k.slice(6));
    panels.push({
      id: 'alerts',
      title: 'Alerts firing (Prometheus)',
      unit: 'series',
      series: fired.map((k, i) => series(k, k.slice(6), palette[i % palette.length]!)),
      note: `read from Prometheus's /api/v1/alerts every second${quiet.length ? `; never fired: ${quiet.join(', ')}` : ''}`,
    });
  }

  for (const k of sorted) {
    if (used.has(k)) continue;
    panels.push({ id: `m-${slug(k)}`, title: k, unit: unitOf(k), series: [series(k, k, palette[0]!)] });
  }

  if (history && history.length > 0) panels.push(historyPanel(history));
  return panels;
}

/**
 * Completions per second by outcome, counted from history.jsonl: the client's own record,
 * independent of what the system reports about itself.
 */
function historyPanel(history: readonly HistoryOp[]): Panel {
  const done = history.filter((o) => o.type !== 'invoke');
  let t0 = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  for (const o of history) {
    t0 = Math.min(t0, o.timeNs);
    tMax = Math.max(tMax, o.timeNs);
  }
  const spanS = (tMax - t0) / 1e9;
  // Wide enough that a bin holds ~8 completions on average (a sparse history drawn per second is
  // a comb of spikes), narrow enough to keep up to 300 bins.
  const want = Math.max(spanS / 300, (8 * spanS) / Math.max(1, done.length));
  const bin = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((b) => b >= want) ?? 600;
  // Bins aligned on whole multiples of `bin` since the history opened (the run's start); a partial
  // first or last bin is divided by the time it actually covers, or the rate would dip at the ends.
  const startS = t0 / 1e9;
  const endS = tMax / 1e9;
  const first = Math.floor(startS / bin);
  const n = Math.max(1, Math.floor(endS / bin) - first + 1);
  const mk = (type: string, color: string, label: string): Series => {
    const counts = new Array<number>(n).fill(0);
    for (const o of done)
      if (o.type === type) counts[Math.min(n - 1, Math.floor(o.timeNs / 1e9 / bin) - first)]!++;
    return {
      key: `history_${type}`,
      label,
      color,
      points: counts.map((c, i) => {
        const lo = Math.max(startS, (first + i) * bin);
        const hi = Math.min(endS, (first + i + 1) * bin);
        const width = Math.max(hi - lo, bin / 4);
        return [(lo + hi) / 2, c / width] as const;
      }),
    };
  };
  return {
    id: 'history',
    title: 'Client operations by outcome',
    unit: 'per s',
    note: 'counted from history.jsonl (the client’s record), in bins of ' + bin + ' s',
    series: [
      mk('ok', '#1a7f37', 'ok'),
      mk('fail', '#d1242f', 'fail'),
      mk('info', '#bf8700', 'info (outcome unknown)'),
    ],
  };
}

/** Unit from a metric's suffix (`_ms`, `_rps`, `_s`, `_bytes`, `_pct`, `_total`). */
export function unitOf(key: string): string {
  if (key.endsWith('_ms')) return 'ms';
  if (key.endsWith('_rps')) return 'req/s';
  if (key.endsWith('_s')) return 's';
  if (key.endsWith('_bytes')) return 'bytes';
  if (key.endsWith('_pct')) return '%';
  if (key.endsWith('_total')) return 'count, cumulative';
  return 'value';
}

const slug = (s: string) => s.replace(/[^a-zA-Z0-9_-]+/g, '-');
