// Load profiles are data (one file each in scenarios/), written with k6's vocabulary: an executor
// with its options, workload knobs, and thresholds that are the pass criteria.
import type { Duration } from './duration.ts';
import { parseDurationMs } from './duration.ts';
import { builtinMetrics } from './metrics.ts';
import { profileSchemaErrors } from './profile-schema.ts';
import type { ArrivalPlan } from './schedule.ts';
import { ArrivalSchedule } from './schedule.ts';
import type { Thresholds } from './thresholds.ts';
import { parseThresholds } from './thresholds.ts';

/** N virtual users, each looping iterations back to back for `duration` (closed model). */
export interface ConstantVusScenario {
  readonly executor: 'constant-vus';
  readonly vus: number;
  readonly duration: Duration;
  /** Time given to iterations still running when the duration ends (k6 default 30s). */
  readonly gracefulStop?: Duration;
  /**
   * payproof extension (k6 starts every VU at once): VU i starts at i/vus × startSpread, so a
   * steady-state profile measures the steady state, not 1000 simultaneous TCP handshakes (the
   * burst-1000 profile measures those). Default '0s'.
   */
  readonly startSpread?: Duration;
}

/** Each of N VUs runs `iterations` iterations, all VUs starting at once (the burst). */
export interface PerVuIterationsScenario {
  readonly executor: 'per-vu-iterations';
  readonly vus: number;
  /** Default 1. */
  readonly iterations?: number;
  /** Hard bound on the whole scenario (k6 default 10m). */
  readonly maxDuration?: Duration;
  readonly gracefulStop?: Duration;
}

/** VUs ramped linearly from stage to stage (closed model), k6's ramping-vus. */
export interface RampingVusScenario {
  readonly executor: 'ramping-vus';
  /** VUs at t = 0; default 1. */
  readonly startVUs?: number;
  readonly stages: readonly { readonly target: number; readonly duration: Duration }[];
  /** Time an iteration still running gets when its VU is ramped down (k6 default 30s); then it is interrupted. */
  readonly gracefulRampDown?: Duration;
  readonly gracefulStop?: Duration;
}

/** `iterations` in all, shared by `vus` VUs: each VU takes the next one as soon as it is free. */
export interface SharedIterationsScenario {
  readonly executor: 'shared-iterations';
  readonly vus: number;
  readonly iterations: number;
  /** Hard bound on the whole scenario (k6 default 10m). */
  readonly maxDuration?: Duration;
  readonly gracefulStop?: Duration;
}

/** Open model: `rate` iterations per `timeUnit`, started on schedule whether or not earlier ones finished. */
export interface ConstantArrivalRateScenario {
  readonly executor: 'constant-arrival-rate';
  readonly rate: number;
  /** Default '1s'. */
  readonly timeUnit?: Duration;
  readonly duration: Duration;
  /** VUs ready at the start. */
  readonly preAllocatedVUs: number;
  /** At most this many iterations in flight; when all are busy a due iteration is dropped and counted. */
  readonly maxVUs?: number;
  readonly gracefulStop?: Duration;
}

/** Open model with a rate that moves linearly from stage to stage. */
export interface RampingArrivalRateScenario {
  readonly executor: 'ramping-arrival-rate';
  /** Iterations per timeUnit at t = 0; default 0. */
  readonly startRate?: number;
  readonly timeUnit?: Duration;
  readonly stages: readonly { readonly target: number; readonly duration: Duration }[];
  readonly preAllocatedVUs: number;
  readonly maxVUs?: number;
  readonly gracefulStop?: Duration;
}

export type Scenario =
  | ConstantVusScenario
  | RampingVusScenario
  | PerVuIterationsScenario
  | SharedIterationsScenario
  | ConstantArrivalRateScenario
  | RampingArrivalRateScenario;

/** One of several scenarios (k6's `scenarios` option): an executor, when it starts, its own workload. */
export type ScenarioEntry = Scenario & {
  /** When this scenario starts, from the start of the run (k6's startTime); default '0s'. */
  readonly startTime?: Duration;
  /** This scenario's workload knobs, over the profile's `workload` (payproof's stand-in for `exec`). */
  readonly workload?: Workload;
};

export type ExecutorName = Scenario['executor'];

/**
 * What one iteration does: create a payment → confirm it → (maybe) read the dashboard → think.
 * Fractions are of iterations, each drawn independently from the seeded generator.
 */
export interface Workload {
  /** A second payment for a (student, course) pair that already bought: exercises the purchase unique guard. */
  readonly repeatPurchase?: number;
  /** Confirm sent twice, concurrently, with the same providerPaymentId. */
  readonly doubleConfirm?: number;
  /** The create request resent with the same Idempotency-Key and the same body. */
  readonly idempotentRetry?: number;
  /** Of those retries, the share sent concurrently with the original (a race on the key) rather than after its answer; default 0.5. */
  readonly concurrentRetry?: number;
  /** GET /students/:id/dashboard after the confirmation. */
  readonly dashboardRead?: number;
  /** An attacker sends a capture webhook signed with a wrong secret before the provider's (must be a 401). */
  readonly forgedWebhook?: number;
  /** The student also asks for another student's dashboard with its own token (must be a 403). */
  readonly foreignRead?: number;
  /**
   * After a capture was confirmed, the provider later (50-500 ms) delivers the capture again and a
   * `payment_failed` of the same payment, in either order (both must answer 200 and change nothing).
   */
  readonly lateProviderEvents?: number;
  /** Deliveries of one provider event at most: again after a 5xx, a 429 or no answer; default 3. */
  readonly providerAttempts?: number;
  /** Sleep at the end of each iteration (k6's `sleep(1)`); default '0s'. Meant for closed-model executors. */
  readonly thinkTime?: Duration;
  /** Think time is drawn uniformly within ±thinkJitter of thinkTime, so VUs do not march in lockstep; default 0.25. */
  readonly thinkJitter?: number;
  /** Students the setup inserts; default: enough for every iteration to buy a fresh pair. */
  readonly students?: number;
}

export interface HttpOptions {
  /** Whole-request deadline; a request that misses it is recorded `info` (outcome unknown). Default '10s'. */
  readonly timeout?: Duration;
  /** Keep-alive connections to the API; default: one per VU (as k6 VUs each hold their own), at most 2048. */
  readonly connections?: number;
}

export type PhaseName = 'before' | 'during' | 'after';

export interface LoadProfile {
  readonly name: string;
  readonly description: string;
  /** One scenario. Exactly one of `scenario`, `scenarios`, `stages` is given. */
  readonly scenario?: Scenario;
  /** Several scenarios run side by side, each from its `startTime` (k6's `scenarios`). */
  readonly scenarios?: Readonly<Record<string, ScenarioEntry>>;
  /** k6's shortcut: a ramping-vus scenario over these stages, starting at `vus` VUs (default 1). */
  readonly stages?: readonly { readonly target: number; readonly duration: Duration }[];
  /** With `stages`: the VUs at t = 0. */
  readonly vus?: number;
  readonly workload?: Workload;
  readonly http?: HttpOptions;
  /**
   * payproof extension: before the measured run, this long at a few VUs (at most 50, think
   * ~100 ms), so the first measured requests do not pay for a cold system (JIT, new database
   * connections and their first plans). Its requests are in the history and so in the checker's
   * judgement, but not in any figure or threshold. Default: none.
   */
  readonly warmup?: Duration;
  /** k6 thresholds over the whole run: the pass criteria. */
  readonly thresholds: Thresholds;
  /**
   * Thresholds per phase when a fault timeline is given; a phase not listed here is judged with
   * `thresholds`. `during: {}` judges nothing while the fault is on.
   */
  readonly phaseThresholds?: Readonly<Partial<Record<PhaseName, Thresholds>>>;
}

/** Durations in ms, defaults applied: what the executors run. */
export type ResolvedScenario =
  | {
      readonly executor: 'constant-vus';
      readonly vus: number;
      readonly durationMs: number;
      readonly gracefulStopMs: number;
      readonly startSpreadMs: number;
    }
  | {
      readonly executor: 'per-vu-iterations';
      readonly vus: number;
      /** Per VU. */
      readonly iterations: number;
      readonly maxDurationMs: number;
      readonly gracefulStopMs: number;
    }
  | {
      readonly executor: 'shared-iterations';
      readonly vus: number;
      /** In all, shared by the VUs. */
      readonly iterations: number;
      readonly maxDurationMs: number;
      readonly gracefulStopMs: number;
    }
  | {
      readonly executor: 'ramping-vus';
      readonly startVUs: number;
      readonly stages: readonly { readonly target: number; readonly durationMs: number }[];
      readonly gracefulRampDownMs: number;
      readonly gracefulStopMs: number;
    }
  | {
      readonly executor: 'constant-arrival-rate' | 'ramping-arrival-rate';
      readonly arrivals: ArrivalPlan;
      readonly preAllocatedVUs: number;
      readonly maxVUs: number;
      readonly gracefulStopMs: number;
    };

export interface ResolvedWorkload {
  readonly repeatPurchase: number;
  readonly doubleConfirm: number;
  readonly idempotentRetry: number;
  readonly concurrentRetry: number;
  readonly dashboardRead: number;
  readonly forgedWebhook: number;
  readonly foreignRead: number;
  readonly lateProviderEvents: number;
  readonly providerAttempts: number;
  readonly thinkTimeMs: number;
  readonly thinkJitter: number;
  readonly students: number | undefined;
}

const defaultGracefulStop = '30s';

function positiveInt(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function fraction(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new Error(`${what} must be a fraction within 0..1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Applies k6's defaults and checks every option; throws a message naming the offending field. */
export function resolveScenario(s: Scenario, where = 'scenario'): ResolvedScenario {
  const graceful = (g: Duration | undefined) =>
    parseDurationMs(g ?? defaultGracefulStop, `${where}.gracefulStop`);
  switch (s?.executor) {
    case 'constant-vus':
      return {
        executor: s.executor,
        vus: positiveInt(s.vus, `${where}.vus`),
        durationMs: parseDurationMs(s.duration, `${where}.duration`),
        gracefulStopMs: graceful(s.gracefulStop),
        startSpreadMs: parseDurationMs(s.startSpread ?? '0s', `${where}.startSpread`),
      };
    case 'per-vu-iterations':
    case 'shared-iterations':
      return {
        executor: s.executor as 'per-vu-iterations',
        vus: positiveInt(s.vus, `${where}.vus`),
        iterations: positiveInt(s.iterations ?? 1, `${where}.iterations`),
        maxDurationMs: parseDurationMs(s.maxDuration ?? '10m', `${where}.maxDuration`),
        gracefulStopMs: graceful(s.gracefulStop),
      };
    case 'ramping-vus': {
      if (!Array.isArray(s.stages) || s.stages.length === 0)
        throw new Error(`${where}.stages must be a non-empty array`);
      const count = (v: unknown, what: string) => {
        if (!Number.isInteger(v) || (v as number) < 0)
          throw new Error(`${what} must be an integer >= 0, got ${JSON.stringify(v)}`);
        return v as number;
      };
      const stages = s.stages.map((st, i) => ({
        target: count(st.target, `${where}.stages[${i}].target`),
        durationMs: parseDurationMs(st.duration, `${where}.stages[${i}].duration`),
      }));
      const startVUs = count(s.startVUs ?? 1, `${where}.startVUs`);
      if (Math.max(startVUs, ...stages.map((x) => x.target)) < 1)
        throw new Error(`${where}: every stage targets 0 VUs: nothing would run`);
      return {
        executor: s.executor,
        startVUs,
        stages,
        gracefulRampDownMs: parseDurationMs(s.gracefulRampDown ?? '30s', `${where}.gracefulRampDown`),
        gracefulStopMs: graceful(s.gracefulStop),
      };
    }
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      const unitMs = parseDurationMs(s.timeUnit ?? '1s', `${where}.timeUnit`);
      if (unitMs <= 0) throw new Error(`${where}.timeUnit must be > 0`);
      const perS = (r: number, what: string) => {
        if (typeof r !== 'number' || !(r >= 0))
          throw new Error(`${what} must be a number >= 0, got ${JSON.stringify(r)}`);
        return (r * 1_000) / unitMs;
      };
      let arrivals: ArrivalPlan;
      if (s.executor === 'constant-arrival-rate') {
        const rate = perS(s.rate, `${where}.rate`);
        if (rate <= 0) throw new Error(`${where}.rate must be > 0`);
        arrivals = {
          startRatePerS: rate,
          stages: [{ targetPerS: rate, durationMs: parseDurationMs(s.duration, `${where}.duration`) }],
        };
      } else {
        if (!Array.isArray(s.stages) || s.stages.length === 0)
          throw new Error(`${where}.stages must be a non-empty array`);
        arrivals = {
          startRatePerS: perS(s.startRate ?? 0, `${where}.startRate`),
          stages: s.stages.map((st, i) => ({
            targetPerS: perS(st.target, `${where}.stages[${i}].target`),
            durationMs: parseDurationMs(st.duration, `${where}.stages[${i}].duration`),
          })),
        };
      }
      const preAllocatedVUs = positiveInt(s.preAllocatedVUs, `${where}.preAllocatedVUs`);
      const maxVUs = positiveInt(s.maxVUs ?? preAllocatedVUs, `${where}.maxVUs`);
      if (maxVUs < preAllocatedVUs)
        throw new Error(`${where}.maxVUs (${maxVUs}) must be >= preAllocatedVUs (${preAllocatedVUs})`);
      return {
        executor: s.executor,
        arrivals,
        preAllocatedVUs,
        maxVUs,
        gracefulStopMs: graceful(s.gracefulStop),
      };
    }
    default:
      throw new Error(
        `${where}.executor must be one of constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate, ramping-arrival-rate; got ${JSON.stringify((s as { executor?: unknown })?.executor)}`,
      );
  }
}

export function resolveWorkload(w: Workload = {}, where = 'workload'): ResolvedWorkload {
  return {
    repeatPurchase: fraction(w.repeatPurchase, `${where}.repeatPurchase`, 0),
    doubleConfirm: fraction(w.doubleConfirm, `${where}.doubleConfirm`, 0),
    idempotentRetry: fraction(w.idempotentRetry, `${where}.idempotentRetry`, 0),
    concurrentRetry: fraction(w.concurrentRetry, `${where}.concurrentRetry`, 0.5),
    dashboardRead: fraction(w.dashboardRead, `${where}.dashboardRead`, 0),
    forgedWebhook: fraction(w.forgedWebhook, `${where}.forgedWebhook`, 0),
    foreignRead: fraction(w.foreignRead, `${where}.foreignRead`, 0),
    lateProviderEvents: fraction(w.lateProviderEvents, `${where}.lateProviderEvents`, 0),
    providerAttempts:
      w.providerAttempts === undefined ? 3 : positiveInt(w.providerAttempts, `${where}.providerAttempts`),
    thinkTimeMs: parseDurationMs(w.thinkTime ?? '0s', `${where}.thinkTime`),
    thinkJitter: fraction(w.thinkJitter, `${where}.thinkJitter`, 0.25),
    students: w.students === undefined ? undefined : positiveInt(w.students, `${where}.students`),
  };
}

/** The most VUs the scenario can have busy at once. */
export function maxVusOf(s: ResolvedScenario): number {
  switch (s.executor) {
    case 'constant-vus':
    case 'per-vu-iterations':
    case 'shared-iterations':
      return s.vus;
    case 'ramping-vus':
      return Math.max(s.startVUs, ...s.stages.map((x) => x.target));
    default:
      return s.maxVUs;
  }
}

/** How long the scenario schedules iterations (without gracefulStop). */
export function scheduledDurationMs(s: ResolvedScenario): number {
  if (s.executor === 'constant-vus') return s.durationMs;
  if (s.executor === 'per-vu-iterations' || s.executor === 'shared-iterations') return s.maxDurationMs;
  if (s.executor === 'ramping-vus') return s.stages.reduce((a, x) => a + x.durationMs, 0);
  return new ArrivalSchedule(s.arrivals).durationMs;
}

/**
 * An upper estimate of the iterations a scenario will run, to size the fixtures: closed loops are
 * assumed to take at least their think time (and at least 20 ms without one).
 */
export function estimateIterations(s: ResolvedScenario, w: ResolvedWorkload): number {
  switch (s.executor) {
    case 'constant-vus': {
      const perIterationMs = Math.max(20, w.thinkTimeMs * (1 - w.thinkJitter));
      return s.vus * Math.ceil(s.durationMs / perIterationMs);
    }
    case 'per-vu-iterations':
      return s.vus * s.iterations;
    case 'shared-iterations':
      return s.iterations;
    case 'ramping-vus': {
      // VU-milliseconds under the ramp (trapezoids), each iteration taking at least the think time.
      const perIterationMs = Math.max(20, w.thinkTimeMs * (1 - w.thinkJitter));
      let vus = s.startVUs;
      let vuMs = 0;
      for (const st of s.stages) {
        vuMs += ((vus + st.target) / 2) * st.durationMs;
        vus = st.target;
      }
      return Math.ceil(vuMs / perIterationMs) + Math.max(s.startVUs, ...s.stages.map((x) => x.target));
    }
    default:
      return new ArrivalSchedule(s.arrivals).expectedCount;
  }
}

/** One scenario of a profile, resolved: its name, when it starts, its executor and its workload. */
export interface NamedScenario {
  readonly name: string;
  readonly startTimeMs: number;
  readonly scenario: ResolvedScenario;
  readonly workload: ResolvedWorkload;
}

/** The profile's scenarios as written: `scenario` (named `default`), `scenarios`, or `stages`. */
export function scenarioEntries(p: LoadProfile): [string, ScenarioEntry][] {
  if (p.scenarios) return Object.entries(p.scenarios);
  if (p.stages) return [['default', { executor: 'ramping-vus', startVUs: p.vus ?? 1, stages: p.stages }]];
  return p.scenario ? [['default', p.scenario]] : [];
}

/**
 * Validates a whole profile up front (k6 refuses to start on a bad option; so does this): the
 * schema first (profile-schema.ts: unknown keys are refused by name), then every value.
 */
export function validateProfile(p: LoadProfile): {
  /** The first scenario (the only one, for most profiles). */
  scenario: ResolvedScenario;
  workload: ResolvedWorkload;
  scenarios: NamedScenario[];
  timeoutMs: number;
  connections: number;
} {
  if (!p || typeof p.name !== 'string' || p.name === '')
    throw new Error('profile.name must be a non-empty string');
  const errors = profileSchemaErrors(p);
  if (errors.length > 0)
    throw new Error(
      errors.length === 1
        ? errors[0]
        : `${errors[0]} (and ${errors.length - 1} more: ${errors.slice(1, 4).join('; ')})`,
    );
  const workload = resolveWorkload(p.workload, `profile ${p.name}: workload`);
  const scenarios = scenarioEntries(p).map(([name, entry]) => {
    const where = p.scenarios ? `profile ${p.name}: scenarios.${name}` : `profile ${p.name}: scenario`;
    const { startTime, workload: own, ...executor } = entry;
    return {
      name,
      startTimeMs: parseDurationMs(startTime ?? '0s', `${where}.startTime`),
      scenario: resolveScenario(executor as Scenario, where),
      workload: own ? resolveWorkload({ ...p.workload, ...own }, `${where}.workload`) : workload,
    };
  });
  const kindOf = (m: string) => builtinMetrics[m];
  parseThresholds(p.thresholds ?? {}, kindOf);
  for (const [phase, t] of Object.entries(p.phaseThresholds ?? {})) {
    if (!['before', 'during', 'after'].includes(phase)) {
      throw new Error(`profile ${p.name}: phaseThresholds.${phase}: phases are before, during, after`);
    }
    parseThresholds(t ?? {}, kindOf);
  }
  const timeoutMs = parseDurationMs(p.http?.timeout ?? '10s', `profile ${p.name}: http.timeout`);
  const connections =
    p.http?.connections === undefined
      ? Math.min(
          2048,
          scenarios.reduce((a, x) => a + maxVusOf(x.scenario), 0),
        )
      : positiveInt(p.http.connections, `profile ${p.name}: http.connections`);
  return { scenario: scenarios[0]!.scenario, workload, scenarios, timeoutMs, connections };
}

/** Iterations of every scenario together (fixtures are sized for all of them). */
export function estimateProfileIterations(scenarios: readonly NamedScenario[]): number {
  return scenarios.reduce((a, x) => a + estimateIterations(x.scenario, x.workload), 0);
}

/** Seconds from the start of the run to the end of the last scenario's schedule (gracefulStop not included). */
export function plannedDurationMs(scenarios: readonly NamedScenario[]): number {
  return Math.max(0, ...scenarios.map((x) => x.startTimeMs + scheduledDurationMs(x.scenario)));
}

/** Command-line style overrides: `--duration 30s`, `--vus 200`, `--rate 800`. */
export interface ProfileOverrides {
  readonly duration?: Duration;
  readonly vus?: number;
  readonly rate?: number;
}

/**
 * A copy of the profile with overrides applied: `duration` replaces the duration (ramping stages
 * are scaled to it, per-vu-iterations gets it as maxDuration), `vus` the VU count (or maxVUs),
 * `rate` the arrival rate (ramping targets are scaled so that the peak equals it).
 */
export function applyOverrides(p: LoadProfile, o: ProfileOverrides = {}): LoadProfile {
  if (o.duration === undefined && o.vus === undefined && o.rate === undefined) return p;
  if (p.scenarios) {
    const out: Record<string, ScenarioEntry> = {};
    for (const [name, entry] of Object.entries(p.scenarios))
      out[name] = { ...entry, ...overrideOne(entry, o) };
    return { ...p, scenarios: out };
  }
  if (p.stages) {
    const { stages, vus, ...rest } = p;
    return { ...rest, scenario: overrideOne({ executor: 'ramping-vus', startVUs: vus ?? 1, stages }, o) };
  }
  return { ...p, scenario: overrideOne(p.scenario!, o) };
}

function scaleStages<T extends { readonly duration: Duration }>(stages: readonly T[], ms: number): T[] {
  const total = stages.reduce((acc, st) => acc + parseDurationMs(st.duration), 0);
  const scale = total > 0 ? ms / total : 1;
  return stages.map((st) => ({ ...st, duration: `${Math.round(parseDurationMs(st.duration) * scale)}ms` }));
}

function overrideOne(scenario: Scenario, o: ProfileOverrides): Scenario {
  let s: Scenario = scenario;
  if (o.duration !== undefined) {
    const ms = parseDurationMs(o.duration, '--duration');
    switch (s.executor) {
      case 'constant-vus':
      case 'constant-arrival-rate':
        s = { ...s, duration: o.duration };
        break;
      case 'per-vu-iterations':
      case 'shared-iterations':
        s = { ...s, maxDuration: o.duration };
        break;
      case 'ramping-arrival-rate':
      case 'ramping-vus':
        s = { ...s, stages: scaleStages(s.stages, ms) };
        break;
    }
  }
  if (o.vus !== undefined) {
    positiveInt(o.vus, '--vus');
    if (
      s.executor === 'constant-vus' ||
      s.executor === 'per-vu-iterations' ||
      s.executor === 'shared-iterations'
    )
      s = { ...s, vus: o.vus };
    else if (s.executor === 'ramping-vus') {
      // The peak becomes --vus; the ramp keeps its shape.
      const peak = Math.max(s.startVUs ?? 1, ...s.stages.map((st) => st.target));
      const k = peak > 0 ? o.vus / peak : 1;
      s = {
        ...s,
        startVUs: Math.round((s.startVUs ?? 1) * k),
        stages: s.stages.map((st) => ({ ...st, target: Math.round(st.target * k) })),
      };
    } else s = { ...s, maxVUs: o.vus, preAllocatedVUs: Math.min(s.preAllocatedVUs, o.vus) };
  }
  if (o.rate !== undefined) {
    if (!(o.rate > 0)) throw new Error(`--rate must be > 0, got ${o.rate}`);
    if (s.executor === 'constant-arrival-rate') s = { ...s, rate: o.rate };
    else if (s.executor === 'ramping-arrival-rate') {
      const peak = Math.max(s.startRate ?? 0, ...s.stages.map((st) => st.target));
      const k = peak > 0 ? o.rate / peak : 1;
      s = {
        ...s,
        startRate: (s.startRate ?? 0) * k,
        stages: s.stages.map((st) => ({ ...st, target: st.target * k })),
      };
    } else throw new Error(`--rate applies to arrival-rate executors, not ${s.executor}`);
  }
  return s;
}
