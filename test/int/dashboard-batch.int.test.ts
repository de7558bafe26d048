// Concurrent dashboard reads ride together in one statement (system/api/dashboard.ts,
// dashboardReader): each caller still gets its own student's view, an unknown student gets
// nothing, and a batch really is one query. Real PostgreSQL, through the proxy.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dashboardReader } from '../../system/api/dashboard.ts';
import { createPool } from '../../system/lib/db.ts';

const stack = inject('stack');
let pool: pg.Pool;
let students: string[];
let queries = 0;

beforeAll(async () => {
  // Students of this test alone: no other test's payments reach their dashboards.
  students = Array.from({ length: 12 }, () => randomUUID());
  const direct = new pg.Pool({ connectionString: stack.direct.databaseUrl, max: 1 });
  await direct.query(
    `INSERT INTO students (id, name) SELECT id, 'dashboard-batch' FROM unnest($1::uuid[]) AS id`,
    [students],
  );
  await direct.end();
  pool = createPool(stack.databaseUrl, 4, { queryTimeoutMs: 5_000, genericPlans: true });
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...a: unknown[]) => {
    queries++;
    return query(...a);
  };
});

afterAll(async () => {
  await pool?.end();
});

describe('dashboard reads in batches', () => {
  it('gives every concurrent caller its own student, nothing for an unknown one, in fewer queries than reads', async () => {
    const read = dashboardReader(pool, { slots: 1, maxBatch: 64 });
    const unknown = randomUUID();
    // The same student twice, once in upper case: both get the view.
    const asked = [...students, unknown, students[3]!, students[5]!.toUpperCase()];
    queries = 0;
    const views = await Promise.all(asked.map((id) => read(id)));
    // One slot: the first read runs alone, every other one waits for it and rides in the next batch.
    expect(queries).toBe(2);
    for (const [i, id] of asked.entries()) {
      if (id === unknown) expect(views[i]).toBeUndefined();
      else
        expect(views[i]).toEqual({
          studentId: id.toLowerCase(),
          purchases: [],
          allocations: [],
          upcomingSessions: [],
        });
    }
  });

  it('answers a lone read at once, with the view a batch gives', async () => {
    const read = dashboardReader(pool);
    queries = 0;
    expect(await read(students[7]!)).toEqual({
      studentId: students[7],
      purchases: [],
      allocations: [],
      upcomingSessions: [],
    });
    expect(queries).toBe(1);
  });
});
