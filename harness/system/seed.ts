// Seed data the flow needs: students, courses and trainers with capacities. Idempotent.
import pg from 'pg';
import { uuidv5 } from '../../system/contracts/index.ts';

export interface SeedOptions {
  readonly students?: number;
  readonly courses?: number;
  readonly trainers?: number;
  readonly trainerCapacity?: number;
  readonly sessionCount?: number;
}

/** Deterministic ids, so a second seed run finds the same rows and the ids are predictable in tests. */
export const seedIds = {
  student: (i: number) => uuidv5(`seed-student:${i}`),
  course: (i: number) => uuidv5(`seed-course:${i}`),
  trainer: (i: number) => uuidv5(`seed-trainer:${i}`),
};

export async function seed(
  databaseUrl: string,
  opts: SeedOptions = {},
): Promise<{ students: string[]; courses: string[]; trainers: string[] }> {
  const n = { students: 200, courses: 5, trainers: 100, trainerCapacity: 1000, sessionCount: 30, ...opts };
  const students = Array.from({ length: n.students }, (_, i) => seedIds.student(i));
  const courses = Array.from({ length: n.courses }, (_, i) => seedIds.course(i));
  const trainers = Array.from({ length: n.trainers }, (_, i) => seedIds.trainer(i));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO students (id, name) SELECT id, 'student ' || ord FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord) ON CONFLICT DO NOTHING`,
      [students],
    );
    await client.query(
      `INSERT INTO courses (id, title, session_count, purchase_tier)
       SELECT id, 'course ' || ord, $2, 1 + (ord % 3) FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord) ON CONFLICT DO NOTHING`,
      [courses, n.sessionCount],
    );
    await client.query(
      `INSERT INTO trainers (id, name, capacity) SELECT id, 'trainer ' || ord, $2 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord) ON CONFLICT DO NOTHING`,
      [trainers, n.trainerCapacity],
    );
  } finally {
    await client.end();
  }
  return { students, courses, trainers };
}
