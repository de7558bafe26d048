// Proof that the harness has teeth: for every planted bug, the handler-level property FAILS, and
// the invariant that fails is the one that names the bug. Seeds and run counts are fixed so each
// bug is caught on every run, not by luck.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { type PlantedFault, plantedFaults } from '../../system/lib/faults.ts';
import { handlerProperty, type PropertyEnv, PropertyViolation } from './sim/property.ts';
import { record } from './sim/report-out.ts';

const stack = inject('stack');

/** The invariant that names each bug. */
const namedBy: Record<PlantedFault, string> = {
  'skip-inbox': 'events-processed',
  'no-purchase-unique': 'no-duplicate-purchases',
  'publish-before-commit': 'nothing-lost',
  'random-downstream-ids': 'event-identity',
  'skip-cache-invalidation': 'cache-converged',
  'allocate-without-lock': 'trainer-capacity',
};

const only = (process.env.PAYPROOF_PLANTED ?? 'all').split(',');
const selected = plantedFaults.filter((f) => only.includes('all') || only.includes(f));
/** Bugs whose shrunk counterexample is printed (shrinking costs a few seconds each). */
const shrink = new Set<PlantedFault>(['no-purchase-unique', 'random-downstream-ids']);

let env: PropertyEnv;
let close: () => Promise<void>;

beforeAll(async () => {
  const dbs = await scratchDatabases(stack.direct.databaseUrl);
  const redis = new Redis(stack.direct.redisUrl);
  const referenceRedis = new Redis(`${stack.direct.redisUrl}/1`);
  env = { dbs, redis, redisUrl: stack.direct.redisUrl, referenceRedis };
  close = async () => {
    await dbs.close();
    redis.disconnect();
    referenceRedis.disconnect();
  };
});

afterAll(async () => close?.());

describe('planted bugs are caught by the invariant that names them', () => {
  it.each(selected)(
    '%s',
    async (fault) => {
      const t0 = performance.now();
      const out = await fc.check(handlerProperty(env, new Set([fault])), {
        seed: 20261126,
        numRuns: 40,
        endOnFailure: !shrink.has(fault),
        interruptAfterTimeLimit: 120_000,
      });
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      const err0 = out.errorInstance;
      record('planted', {
        fault,
        expected: namedBy[fault],
        caught: out.failed,
        invariants: err0 instanceof PropertyViolation ? err0.invariants : [],
        runs: out.numRuns,
        seconds: Number(s),
        numShrinks: out.numShrinks,
        counterexample:
          shrink.has(fault) && out.failed ? fc.stringify(out.counterexample?.slice(0, 3)) : null,
      });
      expect(out.failed, `${fault} was NOT caught in ${out.numRuns} runs`).toBe(true);
      const err = out.errorInstance;
      expect(err).toBeInstanceOf(PropertyViolation);
      expect((err as PropertyViolation).invariants).toContain(namedBy[fault]);
      console.log(
        `[planted] ${fault}: caught after ${out.numRuns} run(s) in ${s} s by ${(err as PropertyViolation).invariants.join(', ')}` +
          (shrink.has(fault)
            ? `; shrunk ${out.numShrinks} times to ${fc.stringify(out.counterexample?.slice(0, 3))}`
            : ''),
      );
    },
    300_000,
  );
});
