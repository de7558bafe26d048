// Property 1 (issue 4): handler level, real Postgres, no Kafka. Generated payments and delivery
// schedules (each event 1..k times, shuffled, interleaved across 2-3 concurrent instances of each
// worker at the level of single SQL statements, transactions aborted mid-way, chunks redelivered
// after commit, copies held back to the end) through the real API, relay and handler code. The
// final state must equal that of the same payments delivered once, in order, and every invariant
// must hold. PAYPROOF_FAULTS plants a bug: then this property must fail.
// Replay a failure with the command it prints: npm run property -- --seed <seed> --path <path>
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reuseScratch, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { parseFaults } from '../../system/lib/faults.ts';
import { coverage, describeCoverage } from './sim/floor.ts';
import { handlerProperty, type PropertyEnv } from './sim/property.ts';
import { RunTally, record } from './sim/report-out.ts';

const stack = inject('stack');
const faults = parseFaults(process.env);
const numRuns = Number(process.env.PAYPROOF_PROPERTY_RUNS ?? 25);
const seed = process.env.PAYPROOF_PROPERTY_SEED ? Number(process.env.PAYPROOF_PROPERTY_SEED) : undefined;
const path = process.env.PAYPROOF_PROPERTY_PATH;

let env: PropertyEnv;
let close: () => Promise<void>;
const tally = new RunTally();

beforeAll(async () => {
  const dbs = await scratchDatabases(stack.direct.databaseUrl, undefined, {
    reuse: reuseScratch(faults),
  });
  const redis = new Redis(stack.direct.redisUrl);
  const referenceRedis = new Redis(`${stack.direct.redisUrl}/1`);
  env = { dbs, redis, redisUrl: stack.direct.redisUrl, referenceRedis, onRun: (r) => tally.add(r) };
  close = async () => {
    await dbs.close();
    redis.disconnect();
    referenceRedis.disconnect();
  };
});

afterAll(async () => close?.());

describe(`handler-level property${faults.size ? ` with planted ${[...faults].join(',')}` : ''}`, () => {
  it('duplicate, reordered, concurrent and crashing deliveries end in the state of one in-order delivery, with every invariant holding', async () => {
    const t0 = performance.now();
    const out = await fc.check(handlerProperty(env, faults), {
      numRuns,
      ...(seed !== undefined ? { seed } : {}),
      ...(path ? { path } : {}),
      // Shrinking is time-boxed: a failing run ends in minutes with the smallest case found so far.
      interruptAfterTimeLimit: Number(process.env.PAYPROOF_PROPERTY_TIME_LIMIT_MS ?? 180_000),
      markInterruptAsFailure: false,
      // Mutation testing (npm run mutate) needs to know THAT a mutant fails, not its smallest case:
      // shrinking would outlast Stryker's time limit and turn every kill into a timeout.
      endOnFailure: process.env.PAYPROOF_PROPERTY_END_ON_FAILURE === '1',
    });
    const s = (performance.now() - t0) / 1000;
    const cov = coverage(numRuns, out, path !== undefined);
    console.log(
      `[property] ${describeCoverage(cov)}: ${out.numRuns} histories in ${s.toFixed(1)} s (${(out.numRuns / s).toFixed(2)}/s), seed ${out.seed}`,
    );
    const replay = `npm run property -- --seed ${out.seed}${out.counterexamplePath ? ` --path ${out.counterexamplePath}` : ''}${faults.size ? ` --faults ${[...faults].join(',')}` : ''}`;
    if (out.failed) console.log(`[property] replay: ${replay}`);
    record('handlers', {
      failed: out.failed,
      numRuns: out.numRuns,
      coverage: cov,
      numShrinks: out.numShrinks,
      seed: out.seed,
      path: out.counterexamplePath,
      seconds: s,
      counterexample: out.failed ? fc.stringify(out.counterexample?.slice(0, 3)) : null,
      error: out.failed ? String(out.errorInstance).slice(0, 4000) : null,
      replay,
      tally: tally.toJSON(),
    });
    expect(out.failed, fc.defaultReportMessage(out) ?? '').toBe(false);
    expect(out.numRuns, `cut short: ${describeCoverage(cov)}`).toBeGreaterThanOrEqual(cov.floor);
  }, 600_000);
});
