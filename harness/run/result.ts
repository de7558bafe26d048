// result.json: the machine-readable verdict of one run (schema version 1). Written by every run
// (property, chaos, load, verify) next to history.jsonl; the HTML report is rendered from it.

export const resultSchemaVersion = 1;

export type Verdict = 'PASS' | 'FAIL' | 'UNKNOWN';
export type Validity = true | false | 'unknown';

/** A threshold (k6 style) or any other pass criterion with a measured value. */
export interface Criterion {
  /** e.g. `http_req_duration{op:confirm} p(95)` or `checks rate`. */
  readonly name: string;
  /** The bound as written, e.g. `p(95)<100`. */
  readonly threshold: string;
  /** What was measured, in the unit of the threshold (ms, ratio, count), or null when not measurable. */
  readonly measured: number | null;
  readonly pass: boolean;
  /** Phase this criterion applies to: whole run, or before / during / after a fault. */
  readonly phase?: 'run' | 'before' | 'during' | 'after';
  readonly unit?: string;
}

/** One invariant of DESIGN.md, as judged by the checker. */
export interface InvariantResult {
  /** Stable id, e.g. `no-duplicate-purchases`. */
  readonly name: string;
  /** One line: what must hold. */
  readonly description: string;
  readonly valid: Validity;
  /** Number of violating rows (0 when valid). */
  readonly violations: number;
  /** A few concrete counterexamples: ids, what was expected, what was found. */
  readonly examples: readonly Record<string, unknown>[];
  /** How many items were examined (payments, events, rows): a check over nothing is `unknown`. */
  readonly checked: number;
  /** Why the result is `unknown`, when it is. */
  readonly unknownReason?: string;
}

/** What the run actually exercised: an invariant whose risky path was never taken is `unknown`. */
export interface Exercised {
  readonly paymentsCreated: number;
  readonly paymentsConfirmed: number;
  readonly duplicatesDelivered: number;
  readonly outOfOrderDeliveries: number;
  readonly idempotencyHits: number;
  readonly domainConflicts: number;
  readonly retriesAfterTransientError: number;
  readonly rebalances: number;
  readonly restarts: number;
  readonly deadLettered: number;
  readonly cacheReads: number;
  readonly [other: string]: number;
}

/** A fault applied during the run, for the timeline and the per-phase figures. */
export interface FaultInterval {
  /** e.g. `partition-kafka`, `latency-postgres`, `kill purchase-worker#1`. */
  readonly label: string;
  /** Which proxy / toxic / process. */
  readonly target: string;
  readonly kind: string;
  /** Seconds since the run started. */
  readonly startS: number;
  readonly endS: number | null;
}

/** One sample of the time series (scraped every second or so). Keys are free-form numbers. */
export interface Sample {
  /** Seconds since the run started. */
  readonly t: number;
  readonly [metric: string]: number;
}

export interface RunResult {
  readonly schemaVersion: typeof resultSchemaVersion;
  readonly verdict: Verdict;
  /** One line: why this verdict (first failing criterion / invariant, or what was unknown). */
  readonly reason: string;
  /** `property`, `chaos:partition-kafka`, `load:default`, `verify`. */
  readonly scenario: string;
  readonly seed: number | null;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly durationS: number;
  readonly criteria: readonly Criterion[];
  readonly invariants: readonly InvariantResult[];
  readonly exercised: Partial<Exercised>;
  readonly plantedFaults: readonly string[];
  readonly faults: readonly FaultInterval[];
  /** Free-form figures: throughput, latency percentiles, per-process CPU/memory, recovery time. */
  readonly figures: Record<string, number | string | null>;
  readonly environment: Record<string, string>;
  /** The exact command that replays this run. */
  readonly replay: string;
}

/** PASS only if every criterion passes and every invariant is valid; FAIL beats UNKNOWN. */
export function decideVerdict(
  criteria: readonly Criterion[],
  invariants: readonly InvariantResult[],
): { verdict: Verdict; reason: string } {
  const failedC = criteria.find((c) => !c.pass);
  const failedI = invariants.find((i) => i.valid === false);
  if (failedI)
    return {
      verdict: 'FAIL',
      reason: `invariant ${failedI.name} violated (${failedI.violations} violations)`,
    };
  if (failedC)
    return {
      verdict: 'FAIL',
      reason: `threshold ${failedC.name} ${failedC.threshold} not met (measured ${failedC.measured})`,
    };
  const unknown = invariants.find((i) => i.valid === 'unknown');
  if (unknown)
    return {
      verdict: 'UNKNOWN',
      reason: `invariant ${unknown.name} not exercised: ${unknown.unknownReason ?? 'unknown'}`,
    };
  if (invariants.length === 0 && criteria.length === 0)
    return { verdict: 'UNKNOWN', reason: 'nothing was checked' };
  return { verdict: 'PASS', reason: `${criteria.length} criteria and ${invariants.length} invariants hold` };
}

/** Exit code of a run: 0 PASS, 1 FAIL, 2 UNKNOWN (as Jepsen / Maelstrom). */
export function exitCodeFor(verdict: Verdict): number {
  return verdict === 'PASS' ? 0 : verdict === 'FAIL' ? 1 : 2;
}
