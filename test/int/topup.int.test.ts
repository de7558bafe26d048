// The top-up job is safe with several instances running it at once, and fills exactly the window
// the schedule contract says is due.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { seed } from '../../harness/system/seed.ts';
import { dueSessionCount, isoDate } from '../../system/contracts/index.ts';
import { appNow } from '../../system/lib/clock.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool } from '../../system/lib/db.ts';
import type { DashboardCache } from '../../system/lib/inbox.ts';
import { topUp } from '../../system/workers/session/topup.ts';

const stack = inject('stack');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pools: pg.Pool[];
// Real Redis: the top-up invalidates the dashboards it changes.
let redis: Redis;
let dashboards: DashboardCache;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pools = [createPool(db.url, 3), createPool(db.url, 3), createPool(db.url, 3)];
  redis = new Redis(stack.direct.redisUrl);
  dashboards = redisDashboardCache(redis);
});

afterAll(async () => {
  for (const p of pools ?? []) await p.end();
  redis?.disconnect();
  await dbs?.close();
});

async function allocations(n: number, startDate: string, sessionCount: number): Promise<string[]> {
  const { students, courses, trainers } = await seed(db.url, {
    students: n,
    courses: 1,
    trainers: 1,
    trainerCapacity: n,
    sessionCount,
  });
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const ids: string[] = [];
  try {
    for (const student of students) {
      const payment = randomUUID();
      const purchase = randomUUID();
      const allocation = randomUUID();
      await c.query(
        `INSERT INTO payments (id, student_id, course_id, amount_cents, status, provider_payment_id, confirmed_at) VALUES ($1, $2, $3, 100, 'succeeded', $4, now())`,
        [payment, student, courses[0], `pp-${payment}`],
      );
      await c.query(
        'INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier) VALUES ($1, $2, $3, $4, 1)',
        [purchase, payment, student, courses[0]],
      );
      await c.query(
        `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date) VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7)`,
        [allocation, purchase, student, courses[0], trainers[0], sessionCount, startDate],
      );
      ids.push(allocation);
    }
  } finally {
    await c.end();
  }
  return ids;
}

async function sessionsPerAllocation(): Promise<
  Map<string, { n: number; maxSeq: number; dupSlots: number }>
> {
  const r = await pools[0]!.query<{ allocation_id: string; n: number; max_seq: number; slots: number }>(
    `SELECT allocation_id, count(*)::int AS n, max(seq) AS max_seq, count(DISTINCT (scheduled_date, scheduled_time))::int AS slots
     FROM tutoring_sessions GROUP BY allocation_id`,
  );
  return new Map(
    r.rows.map((x) => [x.allocation_id, { n: x.n, maxSeq: x.max_seq, dupSlots: x.n - x.slots }]),
  );
}

describe('top-up', () => {
  it('three instances at once fill exactly the due window, then extend it as days pass, never past sessionCount', async () => {
    const now = await appNow(pools[0]!);
    const start = isoDate(now);
    const ids = await allocations(300, start, 12);

    const created = await Promise.all(pools.map((p) => topUp(p, dashboards, { batch: 50 })));
    const due = dueSessionCount(start, 12, await appNow(pools[0]!));
    expect(created.reduce((a, b) => a + b, 0)).toBe(300 * due);
    let per = await sessionsPerAllocation();
    for (const id of ids) expect(per.get(id)).toEqual({ n: due, maxSeq: due, dupSlots: 0 });

    await pools[0]!.query('UPDATE app_clock SET offset_ms = $1', [100 * 86_400_000]);
    await Promise.all(pools.map((p) => topUp(p, dashboards, { batch: 50 })));
    await Promise.all(pools.map((p) => topUp(p, dashboards, { batch: 50 })));
    per = await sessionsPerAllocation();
    for (const id of ids) expect(per.get(id)).toEqual({ n: 12, maxSeq: 12, dupSlots: 0 });
    // Nothing left to do: a further pass creates nothing.
    expect(await topUp(pools[1]!, dashboards)).toBe(0);
  });
});
