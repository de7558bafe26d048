// The run's metrics, k6 style: trends (HDR), rates, counters and gauges, each sample tagged (op,
// check, expected_response). Besides the whole-run totals, every series keeps one small segment per
// second of START time, so that any window (a phase before / during / after a fault) can be merged
// afterwards, even when the fault timeline is only known at the end of the run.
import { Trend } from './histogram.ts';
import type { Aggregation, MetricKind, MetricSource } from './thresholds.ts';

export type Tags = Readonly<Record<string, string>>;

/** The engine's metrics and their k6 types; thresholds may name any of them. */
export const builtinMetrics: Readonly<Record<string, MetricKind>> = {
  /** HTTP requests completed (with a response or not), tagged op. */
  http_reqs: 'counter',
  /** Client-observed request time in ms, from handing the request to the pool to the last body byte. */
  http_req_duration: 'trend',
  /** Share of requests without an expected (2xx/3xx) response, network errors and timeouts included. */
  http_req_failed: 'rate',
  /** Requests whose outcome is unknown (timeout, reset after sending): recorded `info` in the history. */
  http_req_indeterminate: 'counter',
  /** Named booleans on responses. */
  checks: 'rate',
  iterations: 'counter',
  /** Iteration time in ms; for arrival-rate executors measured from the SCHEDULED start. */
  iteration_duration: 'trend',
  /** How late an iteration started after its scheduled time, in ms: the generator's own lag. */
  iteration_start_lag: 'trend',
  /** Arrival-rate iterations not started because every VU (maxVUs) was busy. */
  dropped_iterations: 'counter',
  /** Iterations cut short by the end of gracefulStop (their open requests recorded `info`). */
  interrupted_iterations: 'counter',
  /** Payments the API created (201 with a consistent body), per iteration. */
  payments_created: 'counter',
  /** Payments the API confirmed (200, succeeded), per iteration. */
  payments_confirmed: 'counter',
  vus: 'gauge',
  vus_max: 'gauge',
};

interface RateAcc {
  passes: number;
  total: number;
}

type SeriesData =
  | { readonly kind: 'trend'; readonly total: Trend; readonly segments: Map<number, Trend> }
  | { readonly kind: 'rate'; readonly total: RateAcc; readonly segments: Map<number, RateAcc> }
  | { readonly kind: 'counter'; total: number; readonly segments: Map<number, number> }
  | { readonly kind: 'gauge'; value: number; min: number; max: number };

interface Series {
  readonly name: string;
  readonly tags: Tags;
  readonly data: SeriesData;
}

/** A time window in seconds since the load started: [fromS, toS). */
export interface Window {
  readonly fromS: number;
  readonly toS: number;
}

/** A MetricSource bound to the whole run or to one window, with typed accessors for the summary. */
export interface MetricsView extends MetricSource {
  readonly durationS: number;
  trend(metric: string, filter?: Tags): Trend | null;
  rate(metric: string, filter?: Tags): { passes: number; total: number } | null;
  count(metric: string, filter?: Tags): number;
  gauge(metric: string): { value: number; min: number; max: number } | null;
}

/**
 * `a:1,b:2`, keys sorted. Called for every sample (~4 per request): one string built, no mapped array
 * joined, and no sort for the one- and two-tag sets every request records.
 */
export function tagKey(tags: Tags): string {
  let first: string | undefined;
  let second: string | undefined;
  let n = 0;
  for (const k in tags) {
    if (n === 0) first = k;
    else if (n === 1) second = k;
    n++;
  }
  if (n === 0) return '';
  if (n === 1) return `${first}:${tags[first!]}`;
  if (n === 2) {
    const a = first! < second! ? first! : second!;
    const b = a === first ? second! : first!;
    return `${a}:${tags[a]},${b}:${tags[b]}`;
  }
  const keys = Object.keys(tags).sort();
  let out = '';
  for (let i = 0; i < keys.length; i++) out += `${i > 0 ? ',' : ''}${keys[i]}:${tags[keys[i]!]}`;
  return out;
}

function matches(tags: Tags, filter: Tags): boolean {
  for (const k in filter) if (tags[k] !== filter[k]) return false;
  return true;
}

export class Metrics {
  readonly #series = new Map<string, Series>();
  readonly #byName = new Map<string, Series[]>();
  readonly #kinds = new Map<string, MetricKind>(Object.entries(builtinMetrics));

  kind(metric: string): MetricKind | undefined {
    return this.#kinds.get(metric);
  }

  #get(name: string, tags: Tags, kind: MetricKind): Series {
    const key = `${name}{${tagKey(tags)}}`;
    let s = this.#series.get(key);
    if (!s) {
      const known = this.#kinds.get(name);
      if (known && known !== kind) throw new Error(`metric ${name} is a ${known}, not a ${kind}`);
      this.#kinds.set(name, kind);
      const data: SeriesData =
        kind === 'trend'
          ? { kind, total: new Trend(), segments: new Map() }
          : kind === 'rate'
            ? { kind, total: { passes: 0, total: 0 }, segments: new Map() }
            : kind === 'counter'
              ? { kind, total: 0, segments: new Map() }
              : { kind, value: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      s = { name, tags: { ...tags }, data };
      this.#series.set(key, s);
      const list = this.#byName.get(name) ?? [];
      list.push(s);
      this.#byName.set(name, list);
    }
    return s;
  }

  /** Records a duration in ms for an operation that STARTED at `atS` seconds since the load started. */
  addTrend(name: string, tags: Tags, ms: number, atS: number): void {
    const d = this.#get(name, tags, 'trend').data as Extract<SeriesData, { kind: 'trend' }>;
    d.total.add(ms);
    const seg = Math.floor(Math.max(0, atS));
    let t = d.segments.get(seg);
    if (!t) {
      t = new Trend({ digits: 2, packed: true });
      d.segments.set(seg, t);
    }
    t.add(ms);
  }

  addRate(name: string, tags: Tags, pass: boolean, atS: number): void {
    const d = this.#get(name, tags, 'rate').data as Extract<SeriesData, { kind: 'rate' }>;
    d.total.total++;
    if (pass) d.total.passes++;
    const seg = Math.floor(Math.max(0, atS));
    let r = d.segments.get(seg);
    if (!r) {
      r = { passes: 0, total: 0 };
      d.segments.set(seg, r);
    }
    r.total++;
    if (pass) r.passes++;
  }

  addCount(name: string, tags: Tags, n: number, atS: number): void {
    const d = this.#get(name, tags, 'counter').data as Extract<SeriesData, { kind: 'counter' }>;
    d.total += n;
    const seg = Math.floor(Math.max(0, atS));
    d.segments.set(seg, (d.segments.get(seg) ?? 0) + n);
  }

  setGauge(name: string, value: number): void {
    const d = this.#get(name, {}, 'gauge').data as Extract<SeriesData, { kind: 'gauge' }>;
    d.value = value;
    if (value < d.min) d.min = value;
    if (value > d.max) d.max = value;
  }

  /** Metrics that received at least one sample, in the order they first did. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Tag sets recorded for a metric (e.g. every op of http_req_duration), for the summary. */
  tagSets(metric: string): Tags[] {
    return (this.#byName.get(metric) ?? []).map((s) => s.tags);
  }

  /** A view over the whole run (exact totals, 3 significant digits). */
  runView(durationS: number): MetricsView {
    return this.#view(durationS, undefined);
  }

  /**
   * A view over a window, merged from per-second segments (2 significant digits): a second belongs
   * to the window that contains its midpoint.
   */
  windowView(window: Window): MetricsView {
    return this.#view(Math.max(0, window.toS - window.fromS), window);
  }

  #view(durationS: number, window: Window | undefined): MetricsView {
    const inWindow = (seg: number) => {
      if (!window) return true;
      const mid = seg + 0.5;
      return mid >= window.fromS && mid < window.toS;
    };
    const select = (metric: string, filter: Tags) =>
      (this.#byName.get(metric) ?? []).filter((s) => matches(s.tags, filter));

    const trend = (metric: string, filter: Tags = {}): Trend | null => {
      const merged = new Trend({ digits: window ? 2 : 3 });
      for (const s of select(metric, filter)) {
        if (s.data.kind !== 'trend') continue;
        if (!window) merged.merge(s.data.total);
        else for (const [seg, t] of s.data.segments) if (inWindow(seg)) merged.merge(t);
      }
      return merged.count === 0 ? null : merged;
    };
    const rate = (metric: string, filter: Tags = {}) => {
      const acc = { passes: 0, total: 0 };
      for (const s of select(metric, filter)) {
        if (s.data.kind !== 'rate') continue;
        const parts = window
          ? [...s.data.segments].filter(([seg]) => inWindow(seg)).map(([, r]) => r)
          : [s.data.total];
        for (const r of parts) {
          acc.passes += r.passes;
          acc.total += r.total;
        }
      }
      return acc.total === 0 ? null : acc;
    };
    const count = (metric: string, filter: Tags = {}) => {
      let n = 0;
      for (const s of select(metric, filter)) {
        if (s.data.kind !== 'counter') continue;
        if (!window) n += s.data.total;
        else for (const [seg, c] of s.data.segments) if (inWindow(seg)) n += c;
      }
      return n;
    };
    const gauge = (metric: string) => {
      const s = select(metric, {}).find((x) => x.data.kind === 'gauge');
      if (s?.data.kind !== 'gauge' || s.data.max === Number.NEGATIVE_INFINITY) return null;
      return { value: s.data.value, min: s.data.min, max: s.data.max };
    };
    const value = (metric: string, tags: Tags, a: Aggregation): number | null => {
      switch (this.kind(metric)) {
        case 'trend': {
          const t = trend(metric, tags);
          if (!t) return null;
          if (a.name === 'p') return t.percentile(a.percentile);
          if (a.name === 'med') return t.percentile(50);
          if (a.name === 'avg') return t.avg();
          if (a.name === 'min') return t.min();
          if (a.name === 'max') return t.max();
          return null;
        }
        case 'rate': {
          const r = rate(metric, tags);
          return r && a.name === 'rate' ? r.passes / r.total : null;
        }
        case 'counter': {
          const n = count(metric, tags);
          if (a.name === 'count') return n;
          if (a.name === 'rate') return durationS > 0 ? n / durationS : null;
          return null;
        }
        case 'gauge': {
          const g = gauge(metric);
          if (!g) return null;
          return a.name === 'min' ? g.min : a.name === 'max' ? g.max : g.value;
        }
        default:
          return null;
      }
    };
    return { durationS, kind: (m) => this.kind(m), value, trend, rate, count, gauge };
  }
}
