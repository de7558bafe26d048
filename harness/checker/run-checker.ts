// The checker's entry point for tests, chaos runs and load runs: wait for convergence, load the
// context, run every invariant. Writing result.json is the caller's job (harness/run/result.ts).
import { setFlagsFromString } from 'node:v8';
import type { HistoryOp } from '../run/history.ts';
import type { Exercised } from '../run/result.ts';
import type { Endpoints } from '../stack/stack.ts';
import { checkAll, databaseOnlyInvariants, invariants } from './check.ts';
import { loadContext } from './context.ts';
import { type ConvergenceResult, convergenceInvariant, waitForConvergence } from './convergence.ts';
import type { CheckedInvariant } from './judge.ts';
import { afterStep } from './step-memory.ts';
import type { TopicSet } from './topic-set.ts';

export interface RunCheckerOptions {
  /** The checker reads the database and Redis on their direct addresses, Kafka on the proxied one. */
  readonly endpoints: Pick<Endpoints, 'kafkaBrokers' | 'direct'>;
  /** history.jsonl of the run; or pass `history`. */
  readonly historyPath?: string;
  /** The operations themselves (read once: a generator such as mergedHistories works). */
  readonly history?: Iterable<HistoryOp>;
  /** What the runner saw and the checker cannot (restarts, rebalances, retries...); merged by max. */
  readonly extraExercised?: Partial<Exercised>;
  /** Overrides the database (default `endpoints.direct.databaseUrl`). */
  readonly databaseUrl?: string;
  readonly topicSet?: TopicSet;
  /** Wait for convergence first (default 60 s), or `false` when the caller already did. */
  readonly convergence?:
    | false
    | { readonly timeoutMs?: number; readonly stableMs?: number; readonly groups?: Record<string, string[]> };
  /** Only these invariants (a scenario that decides on a subset). */
  readonly only?: readonly string[];
  /** Largest clock skew of any process, ms (clock-skew scenario). */
  readonly clockToleranceMs?: number;
  /** App-clock time by which the top-up job has surely run. */
  readonly toppedUpBy?: Date;
  /** Read the dashboard cache (default true). */
  readonly readCache?: boolean;
  /**
   * Read the database's tables and nothing else: no topic message, no processed_events row, no
   * cache, no history. For the duplicate invariants over a whole benchmark (~700k messages and as
   * many processed_events rows would not fit the harness's memory bound); `only` must then name
   * database-only invariants (check.ts), and what the run exercised from the topics is not measured.
   */
  readonly databaseOnly?: boolean;
}

export interface CheckerOutcome {
  /** Every invariant, preceded by `converged` when the checker waited for convergence. */
  readonly invariants: readonly CheckedInvariant[];
  readonly exercised: Exercised;
  readonly convergence?: ConvergenceResult;
}

export async function runChecker(o: RunCheckerOptions): Promise<CheckerOutcome> {
  if (o.databaseOnly) {
    const other = (o.only ?? Object.keys(invariants)).filter((n) => !databaseOnlyInvariants.includes(n));
    if (other.length > 0)
      throw new Error(`databaseOnly: ${other.join(', ')} need more than the database's tables`);
  }
  const databaseUrl = o.databaseUrl ?? o.endpoints.direct.databaseUrl;
  const brokers = o.endpoints.kafkaBrokers;
  let convergence: ConvergenceResult | undefined;
  if (o.convergence !== false) {
    const c = o.convergence ?? {};
    convergence = await waitForConvergence({
      databaseUrl,
      brokers,
      ...(o.topicSet ? { topicSet: o.topicSet } : {}),
      ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
      ...(c.stableMs ? { stableMs: c.stableMs } : {}),
      ...(c.groups ? { groups: c.groups } : {}),
    });
  }
  const history = o.databaseOnly ? undefined : (o.history ?? o.historyPath);
  const release = capHeapGrowth();
  try {
    return await check(o, databaseUrl, brokers, history, convergence);
  } finally {
    release();
  }
}

async function check(
  o: RunCheckerOptions,
  databaseUrl: string,
  brokers: string,
  history: string | Iterable<HistoryOp> | undefined,
  convergence: ConvergenceResult | undefined,
): Promise<CheckerOutcome> {
  const ctx = await loadContext({
    databaseUrl,
    ...(o.databaseOnly ? { processedEvents: false } : { brokers }),
    ...(o.readCache === false || o.databaseOnly ? {} : { redisUrl: o.endpoints.direct.redisUrl }),
    ...(o.topicSet ? { topicSet: o.topicSet } : {}),
    ...(history === undefined ? {} : { history }),
    ...(o.extraExercised ? { extraExercised: o.extraExercised } : {}),
    ...(o.clockToleranceMs ? { clockToleranceMs: o.clockToleranceMs } : {}),
    ...(o.toppedUpBy ? { toppedUpBy: o.toppedUpBy } : {}),
  });
  afterStep('context loaded');
  try {
    const results = await checkAll(ctx, o.only);
    return {
      invariants: convergence ? [convergenceInvariant(convergence), ...results] : results,
      exercised: ctx.exercised,
      ...(convergence ? { convergence } : {}),
    };
  } finally {
    await ctx.close();
  }
}

let capped = 0;
/** What the process was started with (`node --heap-growing-percent=N`), restored afterwards; V8's default is 0. */
const startedWith = /^--heap[-_]growing[-_]percent=(\d+)$/.exec(
  process.execArgv.find((a) => /^--heap[-_]growing[-_]percent=/.test(a)) ?? '',
)?.[1];

/**
 * While the checker holds a run's evidence (every topic message, processed_events row and history
 * operation), V8 would let the old generation grow to up to 4x what survived its last full
 * collection: a check of ~30k payments peaked at 994 MiB of RSS for ~210 MiB live. Capped at 30%
 * (as the system's processes are, system/main.ts) for the check only, so the load generator keeps
 * V8's heuristics: 666 MiB (docs/benchmarks.md, twelfth round). Returns the release.
 */
function capHeapGrowth(): () => void {
  if (capped++ === 0) {
    setFlagsFromString('--heap-growing-percent=30');
    // The cap applies from the next full collection on: where the process exposes gc
    // (`node --expose-gc`, as bench:load does), collect now, so the check does not first fill the
    // old generation up to the limit V8 set under its own heuristics while the generator ran.
    (globalThis as { gc?: () => void }).gc?.();
  }
  return () => {
    if (--capped === 0) setFlagsFromString(`--heap-growing-percent=${startedWith ?? 0}`);
  };
}
