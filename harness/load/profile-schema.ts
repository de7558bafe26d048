// The load profile's schema (TypeBox, checked with Ajv before anything runs): every object refuses
// keys it does not know, so a k6 option payproof does not have (`gracefulRampDown` on an executor
// without ramp-down, `exec`, `httpDebug`) is an error that names it, never silently ignored.
import { type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';

const Duration = Type.String({ description: "k6 duration: '500ms', '30s', '1m30s'" });
const Count = Type.Integer({ minimum: 1 });
const Stage = Type.Object(
  { target: Type.Number({ minimum: 0 }), duration: Duration },
  { additionalProperties: false },
);
const Stages = Type.Array(Stage, { minItems: 1 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });

/** Options every executor takes (k6: startTime, gracefulStop; payproof: workload per scenario). */
const common = {
  startTime: Type.Optional(Duration),
  gracefulStop: Type.Optional(Duration),
  workload: Type.Optional(Type.Unknown()), // checked by WorkloadSchema
};

export const WorkloadSchema = Type.Object(
  {
    repeatPurchase: Type.Optional(Fraction),
    doubleConfirm: Type.Optional(Fraction),
    idempotentRetry: Type.Optional(Fraction),
    concurrentRetry: Type.Optional(Fraction),
    dashboardRead: Type.Optional(Fraction),
    forgedWebhook: Type.Optional(Fraction),
    foreignRead: Type.Optional(Fraction),
    lateProviderEvents: Type.Optional(Fraction),
    providerAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    thinkTime: Type.Optional(Duration),
    thinkJitter: Type.Optional(Fraction),
    students: Type.Optional(Count),
  },
  { additionalProperties: false },
);

/** One schema per executor, by name: the scenario's `executor` picks which one judges it. */
export const executorSchemas: Record<string, TSchema> = {
  'constant-vus': Type.Object(
    {
      executor: Type.Literal('constant-vus'),
      vus: Count,
      duration: Duration,
      startSpread: Type.Optional(Duration),
      ...common,
    },
    { additionalProperties: false },
  ),
  'ramping-vus': Type.Object(
    {
      executor: Type.Literal('ramping-vus'),
      startVUs: Type.Optional(Type.Integer({ minimum: 0 })),
      stages: Stages,
      gracefulRampDown: Type.Optional(Duration),
      ...common,
    },
    { additionalProperties: false },
  ),
  'per-vu-iterations': Type.Object(
    {
      executor: Type.Literal('per-vu-iterations'),
      vus: Count,
      iterations: Type.Optional(Count),
      maxDuration: Type.Optional(Duration),
      ...common,
    },
    { additionalProperties: false },
  ),
  'shared-iterations': Type.Object(
    {
      executor: Type.Literal('shared-iterations'),
      vus: Count,
      iterations: Count,
      maxDuration: Type.Optional(Duration),
      ...common,
    },
    { additionalProperties: false },
  ),
  'constant-arrival-rate': Type.Object(
    {
      executor: Type.Literal('constant-arrival-rate'),
      rate: Type.Number({ exclusiveMinimum: 0 }),
      timeUnit: Type.Optional(Duration),
      duration: Duration,
      preAllocatedVUs: Count,
      maxVUs: Type.Optional(Count),
      ...common,
    },
    { additionalProperties: false },
  ),
  'ramping-arrival-rate': Type.Object(
    {
      executor: Type.Literal('ramping-arrival-rate'),
      startRate: Type.Optional(Type.Number({ minimum: 0 })),
      timeUnit: Type.Optional(Duration),
      stages: Stages,
      preAllocatedVUs: Count,
      maxVUs: Type.Optional(Count),
      ...common,
    },
    { additionalProperties: false },
  ),
};

const ThresholdEntry = Type.Union([
  Type.String(),
  Type.Object(
    {
      threshold: Type.String(),
      abortOnFail: Type.Optional(Type.Boolean()),
      delayAbortEval: Type.Optional(Duration),
    },
    { additionalProperties: false },
  ),
]);
const Thresholds = Type.Record(Type.String(), Type.Array(ThresholdEntry));

export const LoadProfileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.String(),
    /** One scenario (payproof's short form). */
    scenario: Type.Optional(Type.Unknown()),
    /** Several scenarios, k6's `scenarios` option: name → executor options (+ startTime). */
    scenarios: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), Type.Unknown())),
    /** k6's `stages` shortcut: a ramping-vus scenario starting at `vus` (default 1). */
    stages: Type.Optional(Stages),
    vus: Type.Optional(Type.Integer({ minimum: 0 })),
    workload: Type.Optional(WorkloadSchema),
    http: Type.Optional(
      Type.Object(
        { timeout: Type.Optional(Duration), connections: Type.Optional(Count) },
        { additionalProperties: false },
      ),
    ),
    warmup: Type.Optional(Duration),
    thresholds: Thresholds,
    phaseThresholds: Type.Optional(
      Type.Object(
        {
          before: Type.Optional(Thresholds),
          during: Type.Optional(Thresholds),
          after: Type.Optional(Thresholds),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const ajv = new Ajv({ allErrors: true, strict: false });
const checkProfile = ajv.compile(LoadProfileSchema);
const checkWorkload = ajv.compile(WorkloadSchema);
const checkExecutor = Object.fromEntries(
  Object.entries(executorSchemas).map(([k, s]) => [k, ajv.compile(s)]),
);

export const executorNames = Object.keys(executorSchemas);

function describe(where: string, at: string, e: ErrorObject): string {
  const sub = e.instancePath
    .split('/')
    .filter(Boolean)
    .map((x) => (/^\d+$/.test(x) ? `[${x}]` : `.${x}`))
    .join('');
  const loc = `${at}${sub}`.replace(/^\./, '');
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    return `${where}: ${loc ? `${loc}.` : ''}${key}: unknown option${hint(key)}`;
  }
  return `${where}: ${loc || '(profile)'}: ${e.message ?? e.keyword}`;
}

/** Why payproof does not take a k6 option it refuses (docs/k6.md has them all). */
function hint(key: string): string {
  const hints: Record<string, string> = {
    exec: ' (payproof has one workload; give a scenario its own `workload` knobs instead)',
    tags: ' (metrics are tagged by op; per-scenario tags are not supported)',
    env: ' (a scenario has no environment of its own here)',
    gracefulRampDown: ' (only ramping-vus ramps VUs down)',
    iterations: ' (per-vu-iterations and shared-iterations take iterations)',
    executor: ' (in `scenario` or in each of `scenarios`)',
  };
  return hints[key] ?? '';
}

/**
 * Ajv reports a union (a threshold is a string or an object) as one error per branch plus `anyOf`;
 * the reader wants the branch that got further: drop `anyOf` and the errors at a path that has a
 * deeper error under it.
 */
function relevant(errors: readonly ErrorObject[]): ErrorObject[] {
  const paths = errors.map((e) => e.instancePath);
  return errors.filter(
    (e) =>
      e.keyword !== 'anyOf' &&
      !(
        e.keyword === 'type' &&
        paths.some((p) => p.length > e.instancePath.length && p.startsWith(e.instancePath))
      ) &&
      !(
        e.keyword === 'type' &&
        errors.some(
          (o) => o !== e && o.instancePath === e.instancePath && o.keyword === 'additionalProperties',
        )
      ),
  );
}

/** Every schema error of a profile, one line each (`profile x: scenario.gracefulRampDown: unknown option`); [] when valid. */
export function profileSchemaErrors(p: unknown): string[] {
  const name = (p as { name?: unknown })?.name;
  const where = `profile ${typeof name === 'string' ? name : '?'}`;
  const out: string[] = [];
  if (!checkProfile(p)) out.push(...relevant(checkProfile.errors ?? []).map((e) => describe(where, '', e)));
  const prof = (p ?? {}) as Record<string, unknown>;
  const given = ['scenario', 'scenarios', 'stages'].filter((k) => prof[k] !== undefined);
  if (given.length !== 1)
    out.push(
      `${where}: give exactly one of scenario, scenarios, stages (found ${given.join(', ') || 'none'})`,
    );
  const entries: [string, unknown][] = [
    ...(prof.scenario !== undefined ? [['scenario', prof.scenario] as [string, unknown]] : []),
    ...Object.entries((prof.scenarios ?? {}) as Record<string, unknown>).map(
      ([k, v]) => [`scenarios.${k}`, v] as [string, unknown],
    ),
  ];
  for (const [at, s] of entries) {
    const ex = (s as { executor?: unknown })?.executor;
    const check = typeof ex === 'string' ? checkExecutor[ex] : undefined;
    if (!check) {
      out.push(
        `${where}: ${at}.executor must be one of ${executorNames.join(', ')}; got ${JSON.stringify(ex)}`,
      );
      continue;
    }
    if (!check(s)) out.push(...relevant(check.errors ?? []).map((e) => describe(where, at, e)));
    const w = (s as { workload?: unknown }).workload;
    if (w !== undefined && !checkWorkload(w))
      out.push(...relevant(checkWorkload.errors ?? []).map((e) => describe(where, `${at}.workload`, e)));
  }
  return out;
}
