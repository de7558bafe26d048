// Confirm-only load on the payproof engine: iteration i confirms pre-created pending payment i with
// the provider's signed webhook, so that only POST /webhooks/provider is measured (open or closed
// model, any executor). Every request is recorded in the history like the engine's own workload does.
import { providerEvent, signedWebhook } from '../../lib/provider.ts';
import { runWorkload } from '../../load/engine.ts';
import { check, recordedRequest } from '../../load/operation.ts';
import type { LoadProfile, Scenario } from '../../load/profile.ts';
import type { LoadSummary } from '../../load/summary.ts';
import { checkNames } from '../../load/workload.ts';
import type { History } from '../../run/history.ts';
import { benchPriceCents } from './payments.ts';

export interface ConfirmLoadOptions {
  readonly apiUrl: string;
  readonly name: string;
  readonly scenario: Scenario;
  /** Pending payments; iteration i confirms ids[i]. Iterations past the end do nothing and are counted. */
  readonly ids: readonly string[];
  /** Makes provider payment ids unique across runs. */
  readonly tag: string;
  readonly history: History;
  readonly connections?: number;
  readonly log?: (line: string) => void;
}

export interface ConfirmLoadResult {
  readonly summary: LoadSummary;
  /** Iterations that found no pending payment left (the run outlived its fixtures). */
  readonly exhausted: number;
  /** Payments this run confirmed (200, succeeded), by index into ids. */
  readonly confirmed: number;
  /** ids this run used (confirmed or not), in order. */
  readonly used: number;
  /** Responses by outcome: `200`, `503 database_unavailable`, `timeout`, ... */
  readonly outcomes: Readonly<Record<string, number>>;
}

export async function runConfirmLoad(o: ConfirmLoadOptions): Promise<ConfirmLoadResult> {
  let exhausted = 0;
  let confirmed = 0;
  let used = 0;
  const outcomes: Record<string, number> = {};
  const profile: LoadProfile = {
    name: o.name,
    description: `confirm-only: POST /webhooks/provider (signed) over ${o.ids.length} pending payments`,
    scenario: o.scenario,
    workload: {},
    http: { timeout: '10s', ...(o.connections ? { connections: o.connections } : {}) },
    thresholds: { 'http_req_duration{op:confirm}': ['p(99)<100000'] },
  };
  const summary = await runWorkload({
    baseUrl: o.apiUrl,
    profile,
    history: o.history,
    fixtures: { studentIds: ['-'], courseIds: ['-'] },
    skipProbe: true,
    log: o.log ?? (() => {}),
    iteration: (rec) => async (ctx) => {
      const id = o.ids[ctx.iteration];
      if (id === undefined) {
        // Out of pending payments: wait a little instead of returning at once (a closed-model VU
        // would otherwise spin on immediately resolved iterations and starve the event loop).
        exhausted++;
        await new Promise((r) => setTimeout(r, 50));
        return;
      }
      used = Math.max(used, ctx.iteration + 1);
      const providerPaymentId = `bench_${o.tag}_${ctx.iteration}`;
      const webhook = signedWebhook(
        providerEvent({ id, amountCents: benchPriceCents, currency: 'EUR' }, { providerPaymentId }),
      );
      const r = await recordedRequest(rec, {
        op: 'confirm',
        process: ctx.vu,
        method: 'POST',
        path: webhook.path,
        body: webhook.body,
        headers: webhook.headers,
        signal: ctx.signal,
        ids: { paymentId: id, providerPaymentId },
      });
      const err = (r.body as { error?: { code?: string } } | null)?.error?.code;
      const key =
        r.outcome.kind === 'response'
          ? `${r.status}${err ? ` ${err}` : ''}`
          : r.outcome.kind === 'error'
            ? r.outcome.code
            : r.outcome.kind;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      const ok = check(rec, checkNames.confirmStatus, r.status === 200);
      if (ok && (r.body as { status?: string } | null)?.status === 'succeeded') {
        confirmed++;
        rec.metrics.addCount('payments_confirmed', {}, 1, ctx.scheduledAtMs / 1_000);
      }
    },
  });
  return { summary, exhausted, confirmed, used, outcomes };
}

/** "200: 9812, 503 database_unavailable: 12, timeout: 3" */
export function outcomeLine(outcomes: Readonly<Record<string, number>>): string {
  return Object.entries(outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/** The figures of a confirm-only run that the benchmarks print. */
export interface ConfirmFigures {
  readonly requests: number;
  readonly perS: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  readonly max: number | null;
  readonly failedRate: number | null;
  readonly dropped: number;
  readonly startLagP99: number | null;
  readonly generatorCpuMeanPct: number;
  readonly generatorLoopDelayP99Ms: number;
  readonly trustworthy: boolean;
  readonly durationS: number;
}

/**
 * Confirmations per second completed in the steady window [fromS, toS] of the run, from the
 * engine's per-second samples (completion time): excludes the ramp-up and the gracefulStop tail.
 */
export function steadyRate(s: LoadSummary, fromS: number, toS: number): number | null {
  let count = 0;
  let span = 0;
  let prevT = 0;
  for (const x of s.samples) {
    const t = x.t;
    const width = t - prevT;
    if (t - width >= fromS - 1e-6 && t <= toS + 0.5) {
      count += (x.confirms_per_s ?? 0) * width;
      span += width;
    }
    prevT = t;
  }
  return span > 0 ? count / span : null;
}

/**
 * Throughput: confirmations per second in the steady window when given (see steadyRate), else
 * over the whole run; latency from the engine's whole-run confirm histogram.
 */
export function confirmFigures(s: LoadSummary, steady?: { fromS: number; toS: number }): ConfirmFigures {
  const t = s.metrics['http_req_duration{op:confirm}'];
  const trend = t?.type === 'trend' ? t.values : undefined;
  const failed = s.metrics['http_req_failed{op:confirm}'];
  const lag = s.metrics.iteration_start_lag;
  const requests = trend?.count ?? 0;
  const durationS = s.durationS;
  const rate = steady ? steadyRate(s, steady.fromS, steady.toS) : null;
  return {
    requests,
    perS: rate ?? requests / Math.max(0.001, durationS),
    p50: trend?.med ?? null,
    p95: trend?.['p(95)'] ?? null,
    p99: trend?.['p(99)'] ?? null,
    p999: trend?.['p(99.9)'] ?? null,
    max: trend?.max ?? null,
    failedRate: failed?.type === 'rate' ? failed.values.rate : null,
    dropped: s.iterations.dropped,
    startLagP99: lag?.type === 'trend' ? lag.values['p(99)'] : null,
    generatorCpuMeanPct: s.cpu.meanPct,
    generatorLoopDelayP99Ms: s.eventLoopDelayP99Ms,
    trustworthy: s.latencyTrustworthy,
    durationS,
  };
}
