// Proof that the harness has teeth (issue 12), in two tables, both through the handler-level
// property in harm-only mode (a run fails only when an invariant a USER would notice fails, or the
// final state differs from one in-order delivery; invariants that read the mechanism a bug disables
// only flag):
// - the catalogue: for every invariant, a planted bug (or pair) that makes it FAIL through a
//   user-visible effect, named among the failed invariants of the failing run;
// - the defense-in-depth matrix: each layer (inbox, unique constraints, deterministic ids, row
//   locks, outbox) removed alone, and the pairs that matter: harm (and what caught it) or absorbed.
// Seeds and run counts are fixed; PAYPROOF_PLANTED_SEEDS=n runs n seeds per catalogue row (time to
// catch as a median).
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { coverage } from './sim/floor.ts';
import { type MatrixRow, selectRows } from './sim/matrix.ts';
import { handlerProperty, type PropertyEnv, PropertyViolation } from './sim/property.ts';
import { record } from './sim/report-out.ts';

const stack = inject('stack');

const spec = process.env.PAYPROOF_PLANTED || 'all';
const rows = selectRows(spec);
const seeds = Array.from(
  { length: Math.max(1, Number(process.env.PAYPROOF_PLANTED_SEEDS ?? 1)) },
  (_, i) => 20261126 + i * 7919,
);
/** Cases per row: a bug must be caught within them; a layer is "absorbed" only after all of them. */
const numRuns = Number(process.env.PAYPROOF_PLANTED_RUNS ?? 40);
const timeLimitMs = Number(process.env.PAYPROOF_PLANTED_TIME_LIMIT_MS ?? 150_000);

let base: Omit<PropertyEnv, 'harmOnly' | 'onFlag'>;
let close: () => Promise<void>;

beforeAll(async () => {
  const dbs = await scratchDatabases(stack.direct.databaseUrl);
  const redis = new Redis(stack.direct.redisUrl);
  const referenceRedis = new Redis(`${stack.direct.redisUrl}/1`);
  base = { dbs, redis, redisUrl: stack.direct.redisUrl, referenceRedis };
  close = async () => {
    await dbs.close();
    redis.disconnect();
    referenceRedis.disconnect();
  };
});

afterAll(async () => close?.());

interface Outcome {
  readonly seed: number;
  readonly harm: boolean;
  readonly runs: number;
  readonly seconds: number;
  readonly invariants: readonly string[];
  readonly harmBy: readonly string[];
  /** Mechanism invariants that failed in runs without harm. */
  readonly flagged: readonly string[];
  readonly coverage: ReturnType<typeof coverage>;
  readonly counterexample: string | null;
  /** The failure: which invariants, or the final state got vs wanted. */
  readonly detail: string | null;
}

async function runRow(row: MatrixRow, seed: number): Promise<Outcome> {
  const flagged = new Set<string>();
  const env: PropertyEnv = {
    ...base,
    harmOnly: true,
    onFlag: (names) => {
      for (const n of names) flagged.add(n);
    },
  };
  const t0 = performance.now();
  const out = await fc.check(handlerProperty(env, new Set(row.faults)), {
    seed,
    numRuns,
    endOnFailure: true,
    interruptAfterTimeLimit: timeLimitMs,
  });
  const err = out.errorInstance;
  const violation = err instanceof PropertyViolation ? err : undefined;
  if (out.failed && !violation) throw err;
  return {
    seed,
    harm: out.failed,
    runs: out.numRuns,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    invariants: violation?.invariants ?? [],
    harmBy: violation?.harm ?? [],
    flagged: [...flagged],
    coverage: coverage(numRuns, out),
    counterexample: out.failed ? fc.stringify(out.counterexample?.slice(0, 2)).slice(0, 600) : null,
    detail: out.failed ? String(err).slice(0, 2000) : null,
  };
}

const bugRows = rows.filter((r) => r.kind === 'bug');
const matrixRows = rows.filter((r) => r.kind !== 'bug');

describe.runIf(bugRows.length > 0)(
  'every invariant is caught by a planted bug through a user-visible effect',
  () => {
    it.each(bugRows.map((r) => [`${r.expect} ← ${r.name}`, r] as const))(
      '%s',
      async (_, row) => {
        const outcomes: Outcome[] = [];
        for (const seed of seeds) outcomes.push(await runRow(row, seed));
        if (process.env.PAYPROOF_PLANTED_DEBUG)
          console.log(outcomes.map((o) => `${o.counterexample}\n${o.detail}`).join('\n'));
        const times = outcomes.map((o) => o.seconds).sort((a, b) => a - b);
        const caught = outcomes.filter((o) => o.harm && o.invariants.includes(row.expect!));
        record('planted', {
          row: row.name,
          faults: row.faults,
          what: row.what,
          fault: row.name,
          expected: row.expect,
          caught: caught.length === outcomes.length,
          invariants: [...new Set(outcomes.flatMap((o) => o.invariants))],
          harmBy: [...new Set(outcomes.flatMap((o) => o.harmBy))],
          runs: outcomes.map((o) => o.runs).join('/'),
          seconds: times[Math.floor((times.length - 1) / 2)],
          secondsAll: times,
          seeds: outcomes.map((o) => o.seed),
          counterexample: outcomes[0]?.counterexample ?? null,
        });
        console.log(
          `[planted] ${row.expect} ← ${row.name}: ${outcomes
            .map(
              (o) =>
                `seed ${o.seed}: ${o.harm ? `caught after ${o.runs} run(s) in ${o.seconds} s by ${o.invariants.join(', ')} (harm: ${o.harmBy.join(', ')})` : `NOT caught in ${o.runs} runs`}`,
            )
            .join('; ')}`,
        );
        for (const o of outcomes) {
          expect(o.harm, `${row.name} (seed ${o.seed}) caused no user-visible harm in ${o.runs} runs`).toBe(
            true,
          );
          expect(o.invariants, `${row.name} (seed ${o.seed})`).toContain(row.expect);
          expect(o.harmBy.length).toBeGreaterThan(0);
        }
      },
      seeds.length * (timeLimitMs + 60_000),
    );
  },
);

describe.runIf(matrixRows.length > 0)(
  'defense in depth: each layer removed alone, and the pairs that matter',
  () => {
    it.each(matrixRows.map((r) => [r.what, r] as const))(
      '%s',
      async (_, row) => {
        const o = await runRow(row, seeds[0]!);
        record('matrix', {
          row: row.name,
          rowKind: row.kind,
          layers: row.layers,
          faults: row.faults,
          harm: o.harm,
          harmBy: o.harmBy,
          invariants: o.invariants,
          flagged: o.flagged,
          runs: o.runs,
          seconds: o.seconds,
          coverage: o.coverage,
          counterexample: o.counterexample,
          detail: o.detail,
        });
        console.log(
          `[matrix] ${row.what}: ${o.harm ? `HARM after ${o.runs} run(s) in ${o.seconds} s: ${o.harmBy.join(', ')} (failed: ${o.invariants.join(', ')})` : `no harm in ${o.runs} runs (${o.seconds} s)${o.flagged.length ? `; flagged only by ${o.flagged.join(', ')}` : ''}`}`,
        );
        // An absorbed row is a finding only if the property really ran its cases.
        if (!o.harm)
          expect(o.coverage.enough, `absorbed after only ${o.runs} of ${numRuns} cases`).toBe(true);
        else expect(o.harmBy.length).toBeGreaterThan(0);
      },
      timeLimitMs + 60_000,
    );
  },
);
