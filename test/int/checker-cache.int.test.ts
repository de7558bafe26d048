// cache-converged against a real Redis: the dashboard is built by hand from the ids the test
// created (not by the checker's SQL), so a correct cache passes on its own merits.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { cacheConverged } from '../../harness/checker/cache-converged.ts';
import { loadContext } from '../../harness/checker/context.ts';
import { type PaidChain, ReferenceWorld } from '../../harness/checker/reference-state.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import type { Exercised } from '../../harness/run/result.ts';
import { type DashboardView, dashboardCacheKey } from '../../system/contracts/api.ts';
import { sessionDate, sessionTime, startDateFor } from '../../system/contracts/schedule.ts';

const stack = inject('stack');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let redis: Redis;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  redis = new Redis(stack.direct.redisUrl);
});
afterAll(async () => {
  redis?.disconnect();
  await dbs?.close();
});

async function fresh() {
  const scratch = await dbs.create();
  const db = new pg.Pool({ connectionString: scratch.url, max: 2 });
  const keys: string[] = [];
  onTestFinished(async () => {
    if (keys.length > 0) await redis.del(...keys);
    await db.end();
    await scratch.drop();
  });
  const w = await ReferenceWorld.open(db);
  /** Caches a dashboard the way the API does: `{gen, view}` under the student's key. */
  const cache = async (studentId: string, raw: string, gen = 0) => {
    const key = dashboardCacheKey(studentId);
    keys.push(key, `${key}:gen`);
    await redis.set(key, raw);
    if (gen > 0) await redis.set(`${key}:gen`, String(gen));
  };
  let exercised: Exercised | undefined;
  const check = async () => {
    const ctx = await loadContext({ databaseUrl: scratch.url, redisUrl: stack.direct.redisUrl });
    exercised = ctx.exercised;
    try {
      return await cacheConverged(ctx);
    } finally {
      await ctx.close();
    }
  };
  return { w, db, cache, check, exercised: () => exercised };
}

/** The dashboard of a student who paid `chains` (each with a live allocation), written out by hand. */
function expectedView(
  w: ReferenceWorld,
  studentId: string,
  trainerId: string,
  chains: { chain: PaidChain; courseId: string }[],
): DashboardView {
  const start = startDateFor(w.now);
  const byCourse = [...chains].sort((a, b) => (a.courseId < b.courseId ? -1 : 1));
  return {
    studentId,
    purchases: byCourse.map(({ chain, courseId }) => ({
      purchaseId: chain.purchaseId,
      courseId,
      purchaseTier: 1,
    })),
    allocations: byCourse.map(({ chain, courseId }) => ({
      allocationId: chain.allocationId,
      courseId,
      trainerId,
      status: 'approved',
    })),
    upcomingSessions: chains
      .flatMap(({ chain }) =>
        [1, 2, 3, 4, 5, 6, 7].map((seq) => ({
          allocationId: chain.allocationId,
          seq,
          date: sessionDate(start, seq),
          time: sessionTime,
        })),
      )
      .sort(
        (a, b) =>
          a.date.localeCompare(b.date) || a.allocationId.localeCompare(b.allocationId) || a.seq - b.seq,
      ),
  };
}

describe('cache-converged', () => {
  it('passes when the cached dashboard equals the database, ignoring keys of students of other databases', async () => {
    const { w, cache, check, exercised } = await fresh();
    const t = await w.trainer();
    const [s, c] = [await w.student(), await w.course()];
    const chain = await w.pay(s, c);
    await cache(s, JSON.stringify({ gen: 2, view: expectedView(w, s, t, [{ chain, courseId: c }]) }), 2);
    await cache(randomUUID(), 'belongs to another run', 7);
    const r = await check();
    expect(r).toMatchObject({ valid: true, violations: 0, checked: 1 });
    expect(exercised()).toMatchObject({ cachedDashboards: 1, cacheInvalidations: 2 });
  });

  it('fails with the student and the first stale field when the cache missed an invalidation', async () => {
    const { w, cache, check } = await fresh();
    const t = await w.trainer();
    const [s, c1, c2] = [await w.student(), await w.course(), await w.course()];
    const first = await w.pay(s, c1);
    await cache(
      s,
      JSON.stringify({ gen: 2, view: expectedView(w, s, t, [{ chain: first, courseId: c1 }]) }),
      2,
    );
    // A second course is bought; the cache worker recorded the events but did not invalidate.
    await w.pay(s, c2);
    const other = await w.student();
    await cache(other, 'not json');
    const r = await check();
    expect(r.valid).toBe(false);
    expect(r.violations).toBe(2);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'stale-dashboard',
          studentId: s,
          cachedGen: 2,
          currentGen: 2,
          path: expect.stringMatching(/^\$\.(allocations|purchases|upcomingSessions)\[/),
        }),
        expect.objectContaining({ kind: 'unreadable-entry', studentId: other, found: 'not json' }),
      ]),
    );
  });

  it('is unknown when nothing was cached, or the cache was never invalidated', async () => {
    const { w, db, cache, check } = await fresh();
    const t = await w.trainer();
    const [s, c] = [await w.student(), await w.course()];
    const chain = await w.pay(s, c);
    const none = await check();
    expect(none.valid).toBe('unknown');
    expect(none.unknownReason).toBe('no dashboard was cached');
    await db.query(`DELETE FROM processed_events WHERE consumer = 'cache-worker'`);
    await cache(s, JSON.stringify({ gen: 0, view: expectedView(w, s, t, [{ chain, courseId: c }]) }));
    const never = await check();
    expect(never.valid).toBe('unknown');
    expect(never.unknownReason).toMatch(/never invalidated/);
  });
});
