// Pipeline throughput on a backlog: the relay and the four workers are stopped (gracefully, no
// restart) and payments are confirmed through the API; the workers start and join their groups
// with nothing to consume, then the relay starts and publishes the backlog while the workers
// consume it; the run times the pipeline until it has converged (outbox drained, every group
// caught up). Events/s come from the inbox (processed_events: one row per event and consumer
// group) over the window between the first and the last event handled.
import pg from 'pg';
import type { Snapshot } from '../../lib/procmon.ts';
import { waitFor } from '../../lib/wait-for.ts';
import type { History } from '../../run/history.ts';
import type { ProcessKind, RunningSystem } from '../../system/launcher.ts';
import { type ConfirmFigures, confirmFigures, runConfirmLoad } from './confirm-load.ts';
import { type BenchEnv, converge } from './env.ts';

export const workerKinds: readonly ProcessKind[] = ['purchase', 'allocation', 'session', 'cache'];

export interface DrainResult {
  /** Confirmed payments waiting in the backlog when the workers started. */
  readonly payments: number;
  /** Events handled, all groups together, and per group. */
  readonly events: number;
  readonly perGroup: readonly { group: string; events: number; perS: number }[];
  /** First to last event handled (database clock), s. */
  readonly windowS: number;
  readonly eventsPerS: number;
  /** Payments through the whole pipeline per second over the same window. */
  readonly paymentsPerS: number;
  /** From the relay's start to converged, s (includes the relay's start-up, not the workers'). */
  readonly wallS: number;
  readonly converged: boolean;
  /** Monitor snapshots around the drain itself (workers running). */
  readonly cpu: { readonly from: Snapshot; readonly to: Snapshot };
}

/**
 * Stops the relay and every worker for good (graceful SIGTERM, no restart): the API and PostgreSQL
 * alone, i.e. exactly what pgbench measures, plus HTTP. Confirmations pile up in the outbox.
 */
export async function stopPipeline(sys: RunningSystem): Promise<void> {
  for (const p of sys.processes.filter((x) => x.kind === 'relay' || workerKinds.includes(x.kind)))
    await sys.remove(p.name);
}

/** Starts a relay if none runs (the outbox starts draining into Kafka). */
export async function restoreRelay(sys: RunningSystem): Promise<void> {
  if (sys.ofKind('relay').length === 0) await sys.add('relay');
}

/** Starts one instance of each worker kind that has none (a run always leaves its system whole). */
export async function restoreWorkers(sys: RunningSystem): Promise<void> {
  for (const kind of workerKinds) if (sys.ofKind(kind).length === 0) await sys.add(kind);
}

/**
 * With the relay and workers stopped and `payments` confirmations waiting: starts the relay, waits
 * until it has published all of them, starts the workers and measures until converged.
 */
export async function drainBacklog(
  env: BenchEnv,
  payments: number,
  timeoutS: number,
  log: (l: string) => void,
) {
  const db = new pg.Pool({ connectionString: env.stack.endpoints.direct.databaseUrl, max: 2 });
  db.on('error', () => {});
  try {
    // The workers start first, with nothing to consume yet (the backlog is in the outbox, the relay
    // stopped), and join their groups; then the relay starts. The CPU window opens when the relay
    // answers /healthz: no process's start-up (module loading, type stripping, schema compiling,
    // ~1-2 s of CPU each, which a 10 s drain would charge to its payments) is in it; at most the
    // relay's first tens of milliseconds of publishing are outside it.
    const since = (await db.query<{ t: Date }>('SELECT now() AS t')).rows[0]!.t;
    log(`[drain] ${payments} confirmed payments in the outbox; starting the workers, then the relay`);
    await restoreWorkers(env.sys);
    await env.sys.waitReady();
    const t0 = performance.now();
    await restoreRelay(env.sys);
    const relay = env.sys.ofKind('relay')[0]!;
    await waitFor(
      'the relay to serve /healthz',
      () =>
        fetch(`http://127.0.0.1:${relay.metricsPort}/healthz`, { signal: AbortSignal.timeout(500) }).then(
          (r) => r.ok,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    const from = env.monitor.snapshot();
    const conv = await converge(env, timeoutS);
    const to = env.monitor.snapshot();
    const wallS =
      conv.drainedMs !== null
        ? (conv.drainedMs + (performance.now() - t0 - conv.waitedMs)) / 1_000
        : (performance.now() - t0) / 1_000;
    const rows = (
      await db.query<{ consumer: string; n: number; first: Date; last: Date }>(
        `SELECT consumer, count(*)::int AS n, min(processed_at) AS first, max(processed_at) AS last
           FROM processed_events WHERE processed_at >= $1 GROUP BY consumer ORDER BY consumer`,
        [since],
      )
    ).rows;
    const first = Math.min(...rows.map((r) => r.first.getTime()));
    const last = Math.max(...rows.map((r) => r.last.getTime()));
    const windowS = rows.length > 0 ? Math.max(0.001, (last - first) / 1_000) : 0;
    const events = rows.reduce((a, r) => a + r.n, 0);
    const result: DrainResult = {
      payments,
      events,
      perGroup: rows.map((r) => ({
        group: r.consumer,
        events: r.n,
        perS: r.n / Math.max(0.001, (r.last.getTime() - r.first.getTime()) / 1_000),
      })),
      windowS,
      eventsPerS: windowS > 0 ? events / windowS : 0,
      paymentsPerS: windowS > 0 ? payments / windowS : 0,
      wallS,
      converged: conv.converged,
      cpu: { from, to },
    };
    return result;
  } finally {
    await restoreRelay(env.sys).catch(() => undefined);
    await restoreWorkers(env.sys).catch(() => undefined);
    await db.end();
  }
}

/** The whole drain benchmark: stop the workers, confirm `ids` through the API, drain. */
export async function drainBenchmark(o: {
  readonly env: BenchEnv;
  readonly ids: readonly string[];
  readonly tag: string;
  readonly connections: number;
  readonly history: History;
  readonly timeoutS: number;
  readonly log: (l: string) => void;
}): Promise<DrainResult & { readonly confirm: ConfirmFigures }> {
  o.log(`[drain] stopping the relay and the workers; confirming ${o.ids.length} payments`);
  await stopPipeline(o.env.sys);
  try {
    const vus = Math.min(o.connections, o.ids.length);
    const load = await runConfirmLoad({
      apiUrl: o.env.sys.apiUrl,
      name: 'drain-backlog',
      scenario: {
        executor: 'per-vu-iterations',
        vus,
        iterations: Math.ceil(o.ids.length / vus),
        maxDuration: '5m',
        gracefulStop: '30s',
      },
      ids: o.ids,
      tag: o.tag,
      history: o.history,
    });
    const drained = await drainBacklog(o.env, load.confirmed, o.timeoutS, o.log);
    return { ...drained, confirm: confirmFigures(load.summary) };
  } finally {
    await restoreRelay(o.env.sys).catch(() => undefined);
    await restoreWorkers(o.env.sys).catch(() => undefined);
  }
}
