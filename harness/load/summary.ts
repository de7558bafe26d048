// The end-of-test summary: a k6-like text for the terminal and a JSON object for result.json
// (`figures` is flat, ready to be merged into RunResult.figures).
import type { Criterion, Sample } from '../run/result.ts';
import type { CpuJudgement } from './cpu.ts';
import { formatDurationMs } from './duration.ts';
import type { TrendStats } from './histogram.ts';
import type { MetricsView, Tags } from './metrics.ts';
import type { PhaseWindow } from './phases.ts';

export type MetricSummary =
  | { readonly type: 'trend'; readonly values: TrendStats }
  | {
      readonly type: 'rate';
      readonly values: { readonly rate: number; readonly passes: number; readonly fails: number };
    }
  | { readonly type: 'counter'; readonly values: { readonly count: number; readonly rate: number } }
  | {
      readonly type: 'gauge';
      readonly values: { readonly value: number; readonly min: number; readonly max: number };
    };

export interface CheckSummary {
  readonly name: string;
  readonly passes: number;
  readonly fails: number;
}

export interface PhaseSummary extends PhaseWindow {
  readonly metrics: Readonly<Record<string, MetricSummary>>;
}

export interface LoadSummary {
  readonly profile: string;
  readonly description: string;
  readonly executor: string;
  readonly seed: number;
  /** ISO 8601: t = 0 of samples, phases and the timeline. */
  readonly startedAt: string;
  /** From the first scheduled iteration to the last one finished (gracefulStop included). */
  readonly durationS: number;
  readonly iterations: {
    /** What the plan meant to start (arrival-rate, per-vu-iterations); null for constant-vus. */
    readonly expected: number | null;
    readonly started: number;
    readonly completed: number;
    readonly interrupted: number;
    readonly dropped: number;
    /** Iterations that threw (a harness bug, not a system failure). */
    readonly errors: number;
    readonly firstError: string | null;
  };
  readonly vus: { readonly max: number; readonly peakActive: number };
  /** k6-style keys: `http_req_duration`, `http_req_duration{op:confirm}`, `checks`... */
  readonly metrics: Readonly<Record<string, MetricSummary>>;
  readonly checks: readonly CheckSummary[];
  /** Whole run (phase 'run') and, with a timeline, each phase. */
  readonly criteria: readonly Criterion[];
  readonly phases: readonly PhaseSummary[];
  readonly cpu: CpuJudgement;
  readonly eventLoopDelayP99Ms: number;
  /** False when the generator saturated its CPU: latency figures describe the generator, not the system. */
  readonly latencyTrustworthy: boolean;
  readonly warnings: readonly string[];
  /** The abortOnFail threshold that stopped the run early, if any. */
  readonly abortedBy: string | null;
  /** Every criterion passes. */
  readonly pass: boolean;
  readonly figures: Readonly<Record<string, number | string | null>>;
  readonly samples: readonly Sample[];
}

const ops = ['create', 'confirm', 'dashboard'] as const;

function selectorKey(metric: string, tags: Tags): string {
  const keys = Object.keys(tags);
  return keys.length === 0 ? metric : `${metric}{${keys.map((k) => `${k}:${tags[k]}`).join(',')}}`;
}

/** Every metric of a view, plus per-op sub-metrics of the HTTP ones. */
export function summarizeMetrics(view: MetricsView, names: readonly string[]): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  const one = (metric: string, tags: Tags) => {
    const key = selectorKey(metric, tags);
    switch (view.kind(metric)) {
      case 'trend': {
        const s = view.trend(metric, tags)?.stats();
        if (s) out[key] = { type: 'trend', values: s };
        break;
      }
      case 'rate': {
        const r = view.rate(metric, tags);
        if (r)
          out[key] = {
            type: 'rate',
            values: { rate: r.passes / r.total, passes: r.passes, fails: r.total - r.passes },
          };
        break;
      }
      case 'counter': {
        const n = view.count(metric, tags);
        out[key] = {
          type: 'counter',
          values: { count: n, rate: view.durationS > 0 ? n / view.durationS : 0 },
        };
        break;
      }
      case 'gauge': {
        const g = view.gauge(metric);
        if (g) out[key] = { type: 'gauge', values: g };
        break;
      }
    }
  };
  for (const name of names) {
    one(name, {});
    if (name.startsWith('http_'))
      for (const op of ops) if (view.count('http_reqs', { op }) > 0) one(name, { op });
  }
  return out;
}

const r3 = (x: number | undefined | null) =>
  x === undefined || x === null ? null : Math.round(x * 1_000) / 1_000;

/** Flat figures for result.json. */
export function figuresOf(s: Omit<LoadSummary, 'figures' | 'pass'>): Record<string, number | string | null> {
  const f: Record<string, number | string | null> = {
    load_profile: s.profile,
    load_executor: s.executor,
    load_duration_s: r3(s.durationS),
    load_iterations: s.iterations.completed,
    load_iterations_expected: s.iterations.expected,
    load_dropped_iterations: s.iterations.dropped,
    load_interrupted_iterations: s.iterations.interrupted,
    load_vus_max: s.vus.max,
    load_latency_trustworthy: s.latencyTrustworthy ? 'yes' : 'no',
    load_cpu_busy_share: r3(s.cpu.busyShare),
    load_cpu_mean_pct: r3(s.cpu.meanPct),
    load_cpu_max_pct: r3(s.cpu.maxPct),
    load_event_loop_delay_p99_ms: r3(s.eventLoopDelayP99Ms),
  };
  const m = s.metrics;
  const counter = (k: string) => {
    const x = m[k];
    return x?.type === 'counter' ? x.values : undefined;
  };
  const rate = (k: string) => {
    const x = m[k];
    return x?.type === 'rate' ? x.values.rate : null;
  };
  f.load_http_reqs = counter('http_reqs')?.count ?? 0;
  f.load_throughput_rps = r3(counter('http_reqs')?.rate ?? 0);
  f.load_payments_created = counter('payments_created')?.count ?? 0;
  f.load_payments_confirmed = counter('payments_confirmed')?.count ?? 0;
  f.load_payments_per_s = r3(counter('payments_confirmed')?.rate ?? 0);
  f.http_req_failed_rate = r3(rate('http_req_failed'));
  f.checks_rate = rate('checks');
  f.load_iteration_start_lag_p99_ms = r3(trendOf(m, 'iteration_start_lag')?.['p(99)']);
  for (const op of ops) {
    const t = trendOf(m, `http_req_duration{op:${op}}`);
    if (!t) continue;
    f[`${op}_reqs`] = t.count;
    f[`${op}_avg_ms`] = r3(t.avg);
    f[`${op}_p50_ms`] = r3(t.med);
    f[`${op}_p90_ms`] = r3(t['p(90)']);
    f[`${op}_p95_ms`] = r3(t['p(95)']);
    f[`${op}_p99_ms`] = r3(t['p(99)']);
    f[`${op}_p999_ms`] = r3(t['p(99.9)']);
    f[`${op}_max_ms`] = r3(t.max);
    f[`${op}_failed_rate`] = r3(rate(`http_req_failed{op:${op}}`));
  }
  for (const p of s.phases) {
    const t = trendOf(p.metrics, 'http_req_duration{op:confirm}');
    f[`${p.phase}_from_s`] = r3(p.fromS);
    f[`${p.phase}_to_s`] = r3(p.toS);
    f[`${p.phase}_confirm_p50_ms`] = r3(t?.med);
    f[`${p.phase}_confirm_p95_ms`] = r3(t?.['p(95)']);
    f[`${p.phase}_confirm_p99_ms`] = r3(t?.['p(99)']);
    const pr = p.metrics.http_req_failed;
    f[`${p.phase}_http_req_failed_rate`] = pr?.type === 'rate' ? r3(pr.values.rate) : null;
    const pc = p.metrics.http_reqs;
    f[`${p.phase}_throughput_rps`] = pc?.type === 'counter' ? r3(pc.values.rate) : null;
  }
  return f;
}

function trendOf(m: Readonly<Record<string, MetricSummary>>, key: string): TrendStats | undefined {
  const x = m[key];
  return x?.type === 'trend' ? x.values : undefined;
}

// ---- terminal text -------------------------------------------------------------------------

function dots(label: string, width = 46): string {
  return label.length >= width ? `${label} ` : `${label}${'.'.repeat(width - label.length)}: `;
}

function pct(x: number): string {
  return `${(Math.round(x * 10_000) / 100).toFixed(2)}%`;
}

function num(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4);
}

function trendLine(v: TrendStats, isTime: boolean): string {
  const f = (x: number) => (isTime ? formatDurationMs(x) : num(x));
  return `avg=${f(v.avg)} min=${f(v.min)} med=${f(v.med)} max=${f(v.max)} p(90)=${f(v['p(90)'])} p(95)=${f(v['p(95)'])} p(99)=${f(v['p(99)'])} p(99.9)=${f(v['p(99.9)'])}`;
}

function metricLine(key: string, m: MetricSummary, untrusted: boolean): string {
  switch (m.type) {
    case 'trend': {
      const isTime = key.includes('duration') || key.includes('lag');
      const flag = untrusted && isTime ? '  ⚠ untrustworthy (load generator CPU-bound)' : '';
      return `${dots(key)}${trendLine(m.values, isTime)}${flag}`;
    }
    case 'rate':
      return `${dots(key)}${pct(m.values.rate)}  ${m.values.passes} out of ${m.values.passes + m.values.fails}`;
    case 'counter':
      return `${dots(key)}${m.values.count}  ${num(m.values.rate)}/s`;
    case 'gauge':
      return `${dots(key)}${m.values.value}  min=${m.values.min} max=${m.values.max}`;
  }
}

function criterionLine(c: Criterion): string {
  const measured =
    c.measured === null
      ? 'no samples'
      : c.unit === 'ms'
        ? formatDurationMs(c.measured)
        : c.unit === 'ratio'
          ? pct(c.measured)
          : num(c.measured);
  const agg = c.name.slice(c.name.lastIndexOf(' ') + 1);
  return `${c.pass ? '✓' : '✗'} '${c.threshold}' ${agg}=${measured}`;
}

/** The k6-like end-of-test summary. */
export function formatSummary(s: LoadSummary): string {
  const out: string[] = [];
  const untrusted = !s.latencyTrustworthy;
  const push = (l = '') => out.push(l);
  push();
  push(
    `  payproof load · profile ${s.profile} · ${s.executor} · ${formatDurationMs(s.durationS * 1_000)} · seed ${s.seed}`,
  );
  push(`  ${s.description}`);
  for (const w of s.warnings) push(`  ⚠ ${w}`);
  push();
  const byKey = new Map<string, Criterion[]>();
  for (const c of s.criteria.filter((x) => (x.phase ?? 'run') === 'run')) {
    const key = c.name.slice(0, c.name.lastIndexOf(' '));
    byKey.set(key, [...(byKey.get(key) ?? []), c]);
  }
  if (byKey.size > 0) {
    push('  █ THRESHOLDS');
    for (const [key, cs] of byKey) {
      push();
      push(`    ${key}`);
      for (const c of cs) push(`    ${criterionLine(c)}`);
    }
    push();
  }
  push('  █ TOTAL RESULTS');
  push();
  if (s.checks.length > 0) {
    const passes = s.checks.reduce((a, c) => a + c.passes, 0);
    const total = passes + s.checks.reduce((a, c) => a + c.fails, 0);
    push(`    ${dots('checks_total', 42)}${total}`);
    push(`    ${dots('checks_succeeded', 42)}${pct(total ? passes / total : 0)}  ${passes} out of ${total}`);
    for (const c of s.checks) {
      const t = c.passes + c.fails;
      push(`    ${c.fails === 0 ? '✓' : '✗'} ${c.name}`);
      if (c.fails > 0) push(`      ↳  ${pct(c.passes / t)} — ✓ ${c.passes} / ✗ ${c.fails}`);
    }
    push();
  }
  const groups: [string, (k: string) => boolean][] = [
    ['HTTP', (k) => k.startsWith('http_')],
    ['EXECUTION', (k) => /^(iteration|dropped|interrupted|vus|payments)/.test(k)],
  ];
  for (const [title, pick] of groups) {
    const keys = Object.keys(s.metrics).filter(pick).sort();
    if (keys.length === 0) continue;
    push(`    ${title}`);
    for (const k of keys) push(`    ${metricLine(k, s.metrics[k]!, untrusted)}`);
    push();
  }
  if (s.iterations.expected !== null) {
    push(
      `    iterations planned ${s.iterations.expected}, started ${s.iterations.started}, dropped ${s.iterations.dropped}, interrupted ${s.iterations.interrupted}`,
    );
    push();
  }
  push(
    `    ${dots('load generator CPU', 42)}mean ${s.cpu.meanPct.toFixed(0)}% max ${s.cpu.maxPct.toFixed(0)}% of a core, busy (>${Math.round(s.cpu.busyFraction * 100)}%) ${pct(s.cpu.busyShare)} of ${s.cpu.sampledSeconds}s; event loop delay p99 ${formatDurationMs(s.eventLoopDelayP99Ms)}`,
  );
  push();
  for (const p of s.phases) {
    push(
      `  █ PHASE ${p.phase.toUpperCase()} ${p.fromS.toFixed(1)}s–${p.toS.toFixed(1)}s${p.labels.length ? ` (${p.labels.join(', ')})` : ''}`,
    );
    push();
    for (const k of Object.keys(p.metrics)
      .filter(
        (k) =>
          k.startsWith('http_req_duration{op:') ||
          k === 'http_req_failed' ||
          k === 'http_reqs' ||
          k === 'checks',
      )
      .sort())
      push(`    ${metricLine(k, p.metrics[k]!, untrusted)}`);
    const cs = s.criteria.filter((c) => c.phase === p.phase);
    if (cs.length) {
      push();
      for (const c of cs) push(`    ${c.name.slice(0, c.name.lastIndexOf(' '))} ${criterionLine(c)}`);
    }
    push();
  }
  if (s.abortedBy) push(`  ✗ aborted early: threshold ${s.abortedBy} failed (abortOnFail)`);
  push(
    `  ${s.pass ? '✓ every threshold met' : '✗ some thresholds were not met'}${untrusted ? ' — latency figures NOT trustworthy (load generator CPU-bound)' : ''}`,
  );
  push();
  return out.join('\n');
}

/** Everything buildSummary needs from the engine. */
export interface SummaryInput {
  readonly profile: { readonly name: string; readonly description: string; readonly executor: string };
  readonly seed: number;
  readonly startedAt: string;
  readonly durationS: number;
  readonly iterations: LoadSummary['iterations'];
  readonly vus: LoadSummary['vus'];
  readonly runView: MetricsView;
  readonly metricNames: readonly string[];
  /** Check names in the order they were first evaluated. */
  readonly checkNames: readonly string[];
  readonly phases: readonly { readonly window: PhaseWindow; readonly view: MetricsView }[];
  readonly criteria: readonly Criterion[];
  readonly cpu: CpuJudgement;
  readonly eventLoopDelayP99Ms: number;
  readonly abortedBy: string | null;
  readonly samples: readonly Sample[];
  readonly extraWarnings?: readonly string[];
}

export function buildSummary(i: SummaryInput): LoadSummary {
  const metrics = summarizeMetrics(i.runView, i.metricNames);
  const checks: CheckSummary[] = [];
  for (const name of i.checkNames) {
    const r = i.runView.rate('checks', { check: name });
    if (r) checks.push({ name, passes: r.passes, fails: r.total - r.passes });
  }
  const warnings = [...(i.extraWarnings ?? [])];
  if (!i.cpu.trustworthy) {
    warnings.push(
      `the load generator used more than ${Math.round(i.cpu.busyFraction * 100)}% of a core for ${pct(i.cpu.busyShare)} of the run (limit ${pct(i.cpu.maxBusyShare)}): latency figures are NOT trustworthy`,
    );
  }
  if (i.eventLoopDelayP99Ms > 50) {
    warnings.push(
      `the load generator's event loop ran up to ${formatDurationMs(i.eventLoopDelayP99Ms)} late (p99): a response can be noticed that much later than it arrived (machine CPU contention?)`,
    );
  }
  if (i.iterations.dropped > 0) {
    warnings.push(
      `${i.iterations.dropped} iterations dropped: maxVUs too low for the arrival rate (the rate asked for was not offered)`,
    );
  }
  if (i.iterations.errors > 0)
    warnings.push(`${i.iterations.errors} iterations threw: ${i.iterations.firstError}`);
  const base = {
    profile: i.profile.name,
    description: i.profile.description,
    executor: i.profile.executor,
    seed: i.seed,
    startedAt: i.startedAt,
    durationS: i.durationS,
    iterations: i.iterations,
    vus: i.vus,
    metrics,
    checks,
    criteria: i.criteria,
    phases: i.phases.map((p) => ({ ...p.window, metrics: summarizeMetrics(p.view, i.metricNames) })),
    cpu: i.cpu,
    eventLoopDelayP99Ms: i.eventLoopDelayP99Ms,
    latencyTrustworthy: i.cpu.trustworthy,
    warnings,
    abortedBy: i.abortedBy,
    samples: i.samples,
  };
  return { ...base, pass: i.criteria.every((c) => c.pass) && i.abortedBy === null, figures: figuresOf(base) };
}
