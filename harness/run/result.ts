// result.json: the machine-readable verdict of one run (schema version 1). Written by every run
// (property, chaos, load, verify) next to history.jsonl; the HTML report is rendered from it.

import { type Static, Type } from '@sinclair/typebox';

export const resultSchemaVersion = 1;

// The types below are derived from these TypeBox schemas, so the published JSON Schema
// (docs/result.schema.json, `resultJsonSchema()`) and the code cannot disagree.

export const VerdictSchema = Type.Union([
  Type.Literal('PASS'),
  Type.Literal('FAIL'),
  Type.Literal('UNKNOWN'),
]);
export type Verdict = Static<typeof VerdictSchema>;
export const ValiditySchema = Type.Union([Type.Literal(true), Type.Literal(false), Type.Literal('unknown')]);
export type Validity = Static<typeof ValiditySchema>;

/** A threshold (k6 style) or any other pass criterion with a measured value. */
export const CriterionSchema = Type.Object(
  {
    /** e.g. `http_req_duration{op:confirm} p(95)` or `checks rate`. */
    name: Type.String({ description: 'e.g. `http_req_duration{op:confirm} p(95)` or `checks rate`' }),
    /** The bound as written, e.g. `p(95)<100`. */
    threshold: Type.String({ description: 'the bound as written, e.g. `p(95)<100`' }),
    /** What was measured, in the unit of the threshold (ms, ratio, count), or null when not measurable. */
    measured: Type.Union([Type.Number(), Type.Null()], {
      description: 'in the unit of the threshold (ms, ratio, count); null when not measurable (fails)',
    }),
    pass: Type.Boolean(),
    /** Phase this criterion applies to: whole run, or before / during / after a fault. */
    phase: Type.Optional(
      Type.Union([
        Type.Literal('run'),
        Type.Literal('before'),
        Type.Literal('during'),
        Type.Literal('after'),
      ]),
    ),
    unit: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Criterion = Readonly<Static<typeof CriterionSchema>>;

/** One invariant of DESIGN.md, as judged by the checker. */
export const InvariantResultSchema = Type.Object(
  {
    /** Stable id, e.g. `no-duplicate-purchases`. */
    name: Type.String({ description: 'stable id, e.g. `no-duplicate-purchases`' }),
    /** One line: what must hold. */
    description: Type.String(),
    valid: ValiditySchema,
    /** Number of violating rows (0 when valid). */
    violations: Type.Integer({ minimum: 0 }),
    /** A few concrete counterexamples: ids, what was expected, what was found. */
    examples: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    /** How many items were examined (payments, events, rows): a check over nothing is `unknown`. */
    checked: Type.Integer({ minimum: 0 }),
    /** Why the result is `unknown`, when it is. */
    unknownReason: Type.Optional(Type.String()),
    /** A figure some invariants report (e.g. the success rate), in their own unit. */
    measured: Type.Optional(Type.Number()),
    /** How long the check took, seconds (junit.xml's testcase time). */
    durationS: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type InvariantResult = Readonly<Static<typeof InvariantResultSchema>> & {
  readonly examples: readonly Record<string, unknown>[];
};

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
export const ExercisedSchema = Type.Record(Type.String(), Type.Number(), {
  description: 'counters of what the run exercised (paymentsCreated, duplicatesDelivered, ...)',
});

/** A fault applied during the run, for the timeline and the per-phase figures. */
export const FaultIntervalSchema = Type.Object(
  {
    /** e.g. `partition-kafka`, `latency-postgres`, `kill purchase-worker#1`. */
    label: Type.String(),
    /** Which proxy / toxic / process. */
    target: Type.String(),
    kind: Type.String(),
    /** Seconds since the run started. */
    startS: Type.Number(),
    /** null: never healed. */
    endS: Type.Union([Type.Number(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type FaultInterval = Readonly<Static<typeof FaultIntervalSchema>>;

/** One sample of the time series (scraped every second or so). Keys are free-form numbers. */
export interface Sample {
  /** Seconds since the run started. */
  readonly t: number;
  readonly [metric: string]: number;
}

export const RunResultSchema = Type.Object(
  {
    schemaVersion: Type.Literal(resultSchemaVersion),
    verdict: VerdictSchema,
    /** One line: why this verdict (first failing criterion / invariant, or what was unknown). */
    reason: Type.String({ description: 'one line: why this verdict' }),
    /** `property`, `chaos:partition-kafka`, `load:default`, `verify`. */
    scenario: Type.String({ description: '`property`, `chaos:partition-kafka`, `load:default`, `verify`' }),
    seed: Type.Union([Type.Integer(), Type.Null()]),
    /** ISO 8601. */
    startedAt: Type.String({ format: 'date-time' }),
    durationS: Type.Number({ minimum: 0 }),
    criteria: Type.Array(CriterionSchema),
    invariants: Type.Array(InvariantResultSchema),
    exercised: ExercisedSchema,
    plantedFaults: Type.Array(Type.String()),
    faults: Type.Array(FaultIntervalSchema),
    /** Free-form figures: throughput, latency percentiles, per-process CPU/memory, recovery time. */
    figures: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Null()])),
    environment: Type.Record(Type.String(), Type.String()),
    /** The exact command that replays this run. */
    replay: Type.String(),
  },
  {
    title: 'payproof result.json',
    description: 'The machine-readable verdict of one payproof run (harness/run/result.ts).',
    additionalProperties: false,
  },
);

/** result.json: the schema's type, read-only, with the nested types above and named counters. */
export type RunResult = Readonly<
  Omit<Static<typeof RunResultSchema>, 'criteria' | 'invariants' | 'faults' | 'plantedFaults' | 'exercised'>
> & {
  readonly criteria: readonly Criterion[];
  readonly invariants: readonly InvariantResult[];
  readonly exercised: Partial<Exercised>;
  readonly plantedFaults: readonly string[];
  readonly faults: readonly FaultInterval[];
};

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
