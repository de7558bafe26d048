// The handler-level property as a value, so that the suite and the planted-bug matrix run the
// very same property (with and without a bug).
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import type { CheckedInvariant } from '../../../harness/checker/judge.ts';
import type { ScratchDatabase } from '../../../harness/checker/scratch-database.ts';
import type { HistoryOp } from '../../../harness/run/history.ts';
import type { FaultSet } from '../../../system/lib/faults.ts';
import { checkWorld, failedInvariants } from './check-world.ts';
import { project } from './projection.ts';
import {
  type Delivery,
  type Gate,
  openGate,
  type PaymentPlan,
  type RunStats,
  runScenario,
} from './run-scenario.ts';
import { newIds, plainPool, World, type WorldShape } from './world.ts';

export const shapeArb: fc.Arbitrary<WorldShape> = fc.record({
  students: fc.integer({ min: 1, max: 3 }),
  courses: fc.integer({ min: 1, max: 2 }),
  trainers: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
  sessionCount: fc.integer({ min: 1, max: 12 }),
});

export const planArb: fc.Arbitrary<PaymentPlan> = fc.record({
  student: fc.nat(2),
  course: fc.nat(1),
  doubleConfirm: fc.boolean(),
  retryCreate: fc.boolean(),
  stolenProviderId: fc.boolean(),
  lostAnswer: fc.constantFrom('none', 'none', 'before', 'after'),
  attack: fc.constantFrom('none', 'none', 'none', 'forge', 'foreign-read', 'tamper-amount'),
});

export const deliveryArb: fc.Arbitrary<Delivery> = fc.record({
  maxCopies: fc.integer({ min: 1, max: 3 }),
  instances: fc.integer({ min: 2, max: 3 }),
  chunkSize: fc.integer({ min: 1, max: 4 }),
  abortRate: fc.constantFrom(0, 0.2, 0.4),
  redeliverRate: fc.constantFrom(0, 0.3, 0.6),
  lateRate: fc.constantFrom(0, 0.3),
  relayFailures: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer(),
});

/** fast-check's scheduler decides which instance's next SQL statement runs. */
export function schedulerGate(s: fc.Scheduler): Gate {
  return {
    pass: (label) => s.schedule(Promise.resolve(label), label).then(() => {}),
    run: (all) => s.waitFor(all),
  };
}

export interface PropertyEnv {
  readonly dbs: { create(): Promise<ScratchDatabase> };
  readonly redis: Redis;
  readonly redisUrl: string;
  /** A second Redis database for the reference runs, so they never touch the run under test. */
  readonly referenceRedis: Redis;
  /**
   * Judge by harm only (the defense-in-depth matrix): a run fails when an invariant a user would
   * notice fails or the final state differs from one in-order delivery; invariants that read a
   * mechanism (mechanismInvariants) only flag, through `onFlag`, and the run goes on.
   */
  readonly harmOnly?: boolean;
  readonly onFlag?: (invariants: readonly string[]) => void;
  /** Sees every run's checker results, stats and history (the property CLI aggregates them). */
  readonly onRun?: (r: {
    results: readonly CheckedInvariant[];
    stats: RunStats;
    history: readonly HistoryOp[];
  }) => void;
}

/**
 * Invariants that read a MECHANISM of the system rather than an effect a user sees, and the layer
 * they read. A planted bug that disables that very mechanism makes them fail by construction: such a
 * failure is a flag, not proof of harm (issue 12).
 */
export const mechanismInvariants: Readonly<Record<string, string>> = {
  'events-processed': 'inbox (reads processed_events)',
  'processing-success-rate': 'inbox (reads processed_events)',
  'event-identity': 'deterministic ids (reads event ids)',
  'outbox-drained': 'outbox (reads published_at)',
};

/** The pseudo-invariant of a final state that differs from one in-order delivery. */
export const finalStateDiffers = 'final-state';

/**
 * Thrown when the run's state is wrong; `invariants` names every invariant that failed, `harm` those
 * a user would notice (plus `final-state` when the projection differs from the in-order reference).
 */
export class PropertyViolation extends Error {
  readonly invariants: readonly string[];
  readonly harm: readonly string[];
  constructor(invariants: readonly string[], detail: string, harm?: readonly string[]) {
    super(
      `${invariants.length ? `invariants violated: ${invariants.join(', ')}` : 'final state differs from one in-order delivery'}\n${detail}`,
    );
    this.invariants = invariants;
    this.harm = harm ?? invariants.filter((n) => !(n in mechanismInvariants));
  }
}

/**
 * One property run: the scenario under the generated delivery, then the same payments delivered
 * once in order on a twin database; every invariant must hold and both projections must agree.
 */
export async function checkOneRun(
  env: PropertyEnv,
  faults: FaultSet,
  shape: WorldShape,
  plans: readonly PaymentPlan[],
  delivery: Delivery,
  gate: Gate,
): Promise<void> {
  const ids = newIds(shape);
  const [dbA, dbB] = await Promise.all([env.dbs.create(), env.dbs.create()]);
  const world = await World.create(dbA, env.redis, shape, ids, undefined, faults);
  const reference = await World.create(dbB, env.referenceRedis, shape, ids);
  try {
    const stats = await runScenario(world, plans, delivery, gate, faults);
    const refDelivery: Delivery = {
      ...delivery,
      maxCopies: 1,
      instances: 1,
      chunkSize: 1,
      abortRate: 0,
      redeliverRate: 0,
      lateRate: 0,
      relayFailures: 0,
    };
    await runScenario(reference, plans, refDelivery, openGate, new Set());
    const results = await checkWorld(world, stats, env.redisUrl);
    env.onRun?.({ results, stats, history: world.history });
    const failed = failedInvariants(results);
    const names = failed.map((f) => f.name);
    const harmful = names.filter((n) => !(n in mechanismInvariants));
    if (failed.length > 0 && (!env.harmOnly || harmful.length > 0))
      throw new PropertyViolation(names, JSON.stringify(failed, null, 1));
    if (failed.length > 0) env.onFlag?.(names);
    const checkPool = plainPool(world.db.url);
    const refPool = plainPool(reference.db.url);
    try {
      const [got, want] = await Promise.all([project(checkPool), project(refPool)]);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new PropertyViolation(names, `got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`, [
          finalStateDiffers,
        ]);
      }
    } finally {
      await checkPool.end();
      await refPool.end();
    }
  } finally {
    await world.close();
    await reference.close();
    await dbA.drop();
    await dbB.drop();
  }
}

export function handlerProperty(env: PropertyEnv, faults: FaultSet) {
  return fc.asyncProperty(
    shapeArb,
    fc.array(planArb, { minLength: 1, maxLength: 6 }),
    deliveryArb,
    fc.scheduler(),
    (shape, plans, delivery, s) => checkOneRun(env, faults, shape, plans, delivery, schedulerGate(s)),
  );
}
