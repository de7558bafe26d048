// The load's setup: its own students, and courses and trainers when the database has none, so a
// run works on an empty database. Plain SQL over pg, as a user with database access would do it.
import pg from 'pg';
import { uuidv5 } from '../../system/contracts/index.ts';
import type { Fixtures } from './workload.ts';

export interface FixtureOptions {
  /** Students to insert for this run. */
  readonly students: number;
  /** Distinguishes this run's students from earlier runs' on the same database. */
  readonly runTag: string;
  /** Courses inserted when the database has none (default 5). */
  readonly courses?: number;
  /** Trainers inserted when the database has none (default 20). */
  readonly trainers?: number;
  /** Total trainer capacity to provide when trainers are inserted (spread evenly). */
  readonly trainerCapacity?: number;
  /** At most this many existing courses are used (default 50). */
  readonly maxCourses?: number;
}

export interface PreparedFixtures extends Fixtures {
  readonly inserted: { readonly students: number; readonly courses: number; readonly trainers: number };
}

const chunk = 5_000;

/** Inserts the run's students (and courses/trainers if missing); returns the ids the workload uses. */
export async function prepareFixtures(databaseUrl: string, o: FixtureOptions): Promise<PreparedFixtures> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 60_000,
    application_name: 'payproof-load-setup',
  });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`load setup: cannot connect to the database (${(err as Error).message})`);
  }
  try {
    let insertedCourses = 0;
    let courseIds = (
      await client.query<{ id: string }>('SELECT id FROM courses ORDER BY id LIMIT $1', [o.maxCourses ?? 50])
    ).rows.map((r) => r.id);
    if (courseIds.length === 0) {
      const n = o.courses ?? 5;
      const ids = Array.from({ length: n }, (_, i) => uuidv5(`load-course:${i + 1}`));
      const titles = ids.map((_, i) => `Load course ${i + 1}`);
      const r = await client.query(
        `INSERT INTO courses (id, title, session_count, purchase_tier)
         SELECT id, title, 30, 1 FROM unnest($1::uuid[], $2::text[]) AS t(id, title)
         ON CONFLICT (id) DO NOTHING`,
        [ids, titles],
      );
      insertedCourses = r.rowCount ?? 0;
      courseIds = ids.sort();
    }
    let insertedTrainers = 0;
    const trainerCount = Number(
      (await client.query<{ n: string }>('SELECT count(*)::text AS n FROM trainers')).rows[0]?.n ?? '0',
    );
    if (trainerCount === 0) {
      const n = o.trainers ?? 20;
      const capacity = Math.max(1, Math.ceil((o.trainerCapacity ?? o.students * courseIds.length) / n));
      const ids = Array.from({ length: n }, (_, i) => uuidv5(`load-trainer:${i + 1}`));
      const names = ids.map((_, i) => `Load trainer ${i + 1}`);
      const r = await client.query(
        `INSERT INTO trainers (id, name, capacity)
         SELECT id, name, $3::int FROM unnest($1::uuid[], $2::text[]) AS t(id, name)
         ON CONFLICT (id) DO NOTHING`,
        [ids, names, capacity],
      );
      insertedTrainers = r.rowCount ?? 0;
    }
    const studentIds = Array.from({ length: o.students }, (_, i) =>
      uuidv5(`load-student:${o.runTag}:${i + 1}`),
    );
    let insertedStudents = 0;
    for (let i = 0; i < studentIds.length; i += chunk) {
      const ids = studentIds.slice(i, i + chunk);
      const r = await client.query(
        `INSERT INTO students (id, name)
         SELECT id, 'load ' || $2::text || ' #' || (ord + $3::int) FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)
         ON CONFLICT (id) DO NOTHING`,
        [ids, o.runTag, i],
      );
      insertedStudents += r.rowCount ?? 0;
    }
    return {
      studentIds,
      courseIds,
      inserted: { students: insertedStudents, courses: insertedCourses, trainers: insertedTrainers },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
