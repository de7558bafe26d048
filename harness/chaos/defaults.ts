// What scenarios share: the chaos load (short, an open model, every risky client path switched on),
// the standard steady-state probes and the usual expectations. Sized for this kind of machine: 2
// cores shared by Kafka, PostgreSQL, Redis, Toxiproxy, the load generator and 6+ Node processes.
import type { LoadProfile } from '../load/profile.ts';
import type { Thresholds } from '../load/thresholds.ts';
import type { Expectations, LoadSpec, Probe } from './scenario.ts';

/**
 * The default chaos load: 100 payments/s, an open model, at most 200 in flight. Until 2026-12-02 it
 * was a closed model, 60 users thinking 250 ms, which takes whatever the machine gives: ~220
 * payments/s once issue 11 made the system faster, 192-197% of the 200% busy before any fault, the
 * largest lag peaking at 282-1,050 and the outbox backlog at 252-825 (21 scenarios of that day's
 * `npm run verify`): the growth alerts' first conditions held before any fault. At 100 payments/s
 * the medians of those peaks were 144 and 75 (`chaos all`, 24 of 24 PASS), then 102 and 62 (a verify;
 * docs/chaos.md, eighth and ninth runs): what a fault does stands out from what the load does, and a
 * seed means the same work anywhere. The eleventh run (a verify) passed 28 of 28 at this rate.
 */
export const defaultRate = 100;
/** In-flight bound of the open models (a stalled API holds at most this many requests). */
export const defaultMaxVus = 200;
/** The closed model's users, for scenarios that ask for one by `vus` alone (the cluster's). */
export const defaultVus = 60;
export const defaultDuration = '40s';

/**
 * The load of the scenarios whose pipeline must catch up while the load goes on (partition-kafka,
 * partition-kafka-long, pause-worker), and of those that time a growth alert from a quiet steady
 * state (latency-kafka): an open model, 80 payments/s, at most 200 in flight. The closed default
 * takes whatever the machine gives (~220 payments/s here on 2026-12-02, the whole machine), and the
 * workers, niced below the API, then catch up on what is left, which varies far more than the
 * machine does.
 */
export const catchUpLoad = { rate: 80, vus: defaultMaxVus } as const satisfies LoadSpec;

/**
 * The load of a chaos run: `rate` payments a second (default 100), create → confirm → (dashboard),
 * whatever the machine does, at most `vus` in flight, for `duration`. With `vus` and no `rate`, a
 * closed model instead: `vus` users, each thinking ~250 ms between payments.
 */
export function chaosProfile(name: string, spec: LoadSpec = {}, expect: Expectations = {}): LoadProfile {
  if (spec.profile) return spec.profile;
  const rate = spec.rate ?? (spec.vus === undefined ? defaultRate : undefined);
  const vus = spec.vus ?? (rate === undefined ? defaultVus : defaultMaxVus);
  const duration = spec.duration ?? defaultDuration;
  return {
    name: `chaos-${name}`,
    description:
      rate === undefined
        ? `${vus} VUs, create → confirm → dashboard → think ~250 ms, for ${duration}, under ${name}`
        : `${rate} payments/s (open model, at most ${vus} in flight), create → confirm → dashboard, for ${duration}, under ${name}`,
    scenario:
      rate === undefined
        ? { executor: 'constant-vus', vus, duration, gracefulStop: '10s', startSpread: '2s' }
        : {
            executor: 'constant-arrival-rate',
            rate,
            timeUnit: '1s',
            duration,
            preAllocatedVUs: Math.min(vus, 20),
            maxVUs: vus,
            gracefulStop: '10s',
          },
    workload: {
      // An open model's iterations do not think: the rate paces them.
      thinkTime: rate === undefined ? '250ms' : '0s',
      thinkJitter: 0.25,
      repeatPurchase: 0.03,
      doubleConfirm: 0.05,
      idempotentRetry: 0.05,
      dashboardRead: 0.5,
      forgedWebhook: 0.02,
      foreignRead: 0.02,
      // The provider's realism: a capture delivered again later, and a payment_failed after it.
      lateProviderEvents: 0.02,
      ...spec.workload,
    },
    http: { timeout: '5s' },
    thresholds: expect.run ?? {},
    phaseThresholds: {
      ...(expect.before ? { before: expect.before } : { before: {} }),
      ...(expect.during ? { during: expect.during } : { during: {} }),
      ...(expect.after ? { after: expect.after } : { after: {} }),
    },
  };
}

/**
 * The chaos runs' confirmation bound, p95 in ms, before the first fault, after the last heal and
 * during faults the API never sees: 250 ms (issue 11's goal 7; 1 s until 2026-12-03, 3 s until its
 * ninth round). At the chaos load (100 payments/s, open model) on a quiet 2-core machine the whole
 * phase's p95 was 6-20 ms before the fault, 2-15 ms during faults the API never sees and 5-48 ms
 * after the heal in `npm run chaos -- all` of 2026-12-03 (06:36-07:02 UTC), 13-82 and 9-22 ms before
 * and after in the verify of 2026-12-02 14:48 (docs/chaos.md, "Latency bounds"): 3× room over the
 * slowest phase measured on a quiet machine, 5× over today's. What it does not cover: a host stealing
 * a third of the CPU (a phase p95 of 367 ms, 2026-12-02); such a run FAILS, and its result.json has
 * the steal and `machine_warning`.
 */
export const confirmP95BoundMs = 250;

/** Tolerances of the standard probes; override per scenario. */
export interface ProbeTolerances {
  readonly confirmP95Ms?: number;
  readonly errorPct?: number;
  readonly lag?: number;
  readonly backlog?: number;
  /** While the fault is on; omitted ones are not checked during the fault. */
  readonly during?: { readonly confirmP95Ms?: number; readonly errorPct?: number };
}

/**
 * Confirmation latency p95, error share, largest consumer lag, outbox backlog. The defaults are the
 * steady state measured on this machine under the chaos load, with room for its noise. The confirm
 * bound is `confirmP95BoundMs` (250 ms since issue 11's goal 7; 1 s before, 3 s before its ninth
 * round). The per-phase figures in result.json say how fast it really was, the invariants say
 * whether it was right.
 */
export function standardProbes(t: ProbeTolerances = {}): Probe[] {
  const during = t.during ?? {};
  return [
    {
      name: 'confirm latency p95 (ms)',
      metric: 'confirm_p95_ms',
      max: t.confirmP95Ms ?? confirmP95BoundMs,
      ...(during.confirmP95Ms === undefined ? {} : { during: during.confirmP95Ms }),
    },
    {
      name: 'failed requests (%)',
      metric: 'error_pct',
      max: t.errorPct ?? 1,
      ...(during.errorPct === undefined ? {} : { during: during.errorPct }),
    },
    { name: 'consumer lag, largest group (messages)', metric: 'consumer_lag', max: t.lag ?? 1_000 },
    { name: 'outbox backlog (rows)', metric: 'outbox_backlog', max: t.backlog ?? 1_000 },
  ];
}

/**
 * Before any fault: the seed's goals, loosened for a 2-core machine shared by everything. A request
 * belongs to the phase it started in, so the requests in flight when a fault begins (up to one per
 * VU) count here when the fault fails them: hence 10%, not 1%. The steady-state gate's per-second
 * error share (median <= 1%) is the sharp check of the time before the fault.
 */
export const steadyBefore: Thresholds = {
  'http_req_duration{op:confirm}': [`p(95)<${confirmP95BoundMs}`],
  http_req_failed: ['rate<0.1'],
};

/**
 * After recovery: almost nothing fails (the first seconds after a heal are part of "after"), and
 * confirmation is back under the bound (5-48 ms measured, see confirmP95BoundMs).
 */
export const steadyAfter: Thresholds = {
  'http_req_duration{op:confirm}': [`p(95)<${confirmP95BoundMs}`],
  http_req_failed: ['rate<0.05'],
  payments_confirmed: ['count>0'],
};

/** The whole run: the load did run and confirmed payments. */
export const ranAtAll: Thresholds = {
  payments_confirmed: ['count>100'],
};

/** Faults the API never sees (Kafka, Redis, workers): confirmation stays fast and nothing fails. */
export const apiUnaffected: Thresholds = {
  'http_req_duration{op:confirm}': [`p(95)<${confirmP95BoundMs}`],
  http_req_failed: ['rate<0.01'],
  payments_confirmed: ['count>50'],
};

/** Invariants a run without any 5xx or timeout cannot exercise (no answer was lost). */
export const noLostAnswers = ['no-half-done'] as const;

/**
 * For scenarios about latency, bandwidth, one dependency's outage or the clock: nothing in them
 * has to redeliver a TRAINER_ALLOCATED (no restart, no rebalance, no duplicate in that topic), so
 * the session duplicate guard may go unexercised; the run reports that without counting it. The
 * scenarios about redelivery (kills, pauses, rebalances, Kafka partitions and restarts, the
 * duplicate flood) keep it deciding.
 */
export const notAboutRedelivery = [...noLostAnswers, 'no-duplicate-sessions'] as const;

/**
 * Alerts that say the system is broken whatever the fault (issue 13: each scenario declares what
 * must fire and what must not): a dead letter, or a constraint error thrown instead of absorbed,
 * is a bug, not a symptom of a network fault. Only poison-flood, whose bad messages must be
 * dead-lettered, expects the first.
 */
export const bugAlerts = ['PayproofDeadLetterQueueGrowing', 'PayproofConstraintViolations'] as const;

/**
 * While PostgreSQL is reachable, the API answers (no 5xx storm) and no retry loop gives up: Kafka,
 * the workers, the clock and the cache are not the API's dependencies. Redis scenarios keep only
 * the first (invalidations Redis refuses are parked, and may count as given up).
 */
export const databaseUpAlerts = ['PayproofApiUnavailable', 'PayproofRetriesExhausted'] as const;

/**
 * The standard probes of a cluster scenario (three JVMs on the same two cores): the standard confirm
 * bound, 5 s while a broker is away. Until 2026-12-03 the cluster's bound was 3 s, never re-measured;
 * its four scenarios then measured a phase p95 of 16-26 ms before the fault, 10-12 ms during and
 * 8-12 ms after (one run each, 08:16-08:27 UTC, docs/targets.md), so they share `confirmP95BoundMs`.
 */
export function clusterProbes(): Probe[] {
  return standardProbes({ during: { confirmP95Ms: 5000 } });
}

/** before / during / after of a cluster scenario: the standard ones (a broker's fault is not the API's). */
export const clusterExpect = { before: steadyBefore, during: apiUnaffected, after: steadyAfter };
