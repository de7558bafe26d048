// The load's setup against the real (migrated) Postgres of the test stack: it inserts its own
// students, finds or creates courses and trainers, and re-running it with the same tag adds nothing.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { prepareFixtures } from '../../harness/load/fixtures.ts';

const stack = inject('stack');
let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: stack.direct.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db.end();
});

describe('load setup prepares its own fixtures on any database', () => {
  it('inserts the run’s students and uses courses and trainers that exist (creating them if none do)', async () => {
    const runTag = `it-${randomUUID()}`;
    const f = await prepareFixtures(stack.databaseUrl, { students: 120, runTag });
    expect(f.studentIds).toHaveLength(120);
    expect(new Set(f.studentIds).size).toBe(120);
    expect(f.inserted.students).toBe(120);
    expect(f.courseIds.length).toBeGreaterThan(0);

    const students = await db.query('SELECT count(*)::int AS n FROM students WHERE id = ANY($1::uuid[])', [
      f.studentIds,
    ]);
    expect(students.rows[0].n).toBe(120);
    const courses = await db.query('SELECT count(*)::int AS n FROM courses WHERE id = ANY($1::uuid[])', [
      f.courseIds,
    ]);
    expect(courses.rows[0].n).toBe(f.courseIds.length);
    const trainers = await db.query(
      'SELECT count(*)::int AS n, sum(capacity)::int AS capacity FROM trainers',
    );
    expect(trainers.rows[0].n).toBeGreaterThan(0);

    const again = await prepareFixtures(stack.databaseUrl, { students: 120, runTag });
    expect(again.studentIds).toEqual(f.studentIds);
    expect(again.inserted).toEqual({ students: 0, courses: 0, trainers: 0 });
  });

  it('fails with a clear message when the database is unreachable', async () => {
    await expect(
      prepareFixtures('postgres://payproof@127.0.0.1:1/payproof', { students: 1, runTag: 'x' }),
    ).rejects.toThrow(/load setup: cannot connect to the database/);
  });
});
