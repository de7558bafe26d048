import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../harness/lib/wait-for.ts';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import {
  courseIds,
  directPool,
  flowState,
  newStudents,
  pay,
  startTestSystem,
  waitForFlows,
} from '../support/system.ts';

const stack = inject('stack');
let system: RunningSystem;
let pool: pg.Pool;
let courses: string[];

beforeAll(async () => {
  system = await startTestSystem(stack, { instances: { purchase: 2, allocation: 2, session: 2, cache: 2 } });
  pool = directPool(stack);
  courses = await courseIds(pool);
});

afterAll(async () => {
  await system?.stop();
  await pool?.end();
});

/** Pays for every student in the background, a few at a time; resolves when all are confirmed. */
async function payAll(students: readonly string[], course: string, concurrency = 8) {
  const queue = [...students];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) await pay(system.apiUrl, s, course);
    }),
  );
}

async function assertNoDuplicates(students: readonly string[]) {
  const dups = await pool.query(
    `SELECT 'purchase' AS kind, student_id, course_id FROM student_course_purchases WHERE student_id = ANY($1) AND is_active GROUP BY 2, 3 HAVING count(*) > 1
     UNION ALL SELECT 'allocation', student_id, course_id FROM trainer_allocations WHERE student_id = ANY($1) AND status IN ('approved','active') GROUP BY 2, 3 HAVING count(*) > 1
     UNION ALL SELECT 'session', allocation_id, NULL FROM tutoring_sessions WHERE student_id = ANY($1) GROUP BY allocation_id, seq HAVING count(*) > 1`,
    [students],
  );
  expect(dups.rows).toEqual([]);
}

describe('two instances of each worker', () => {
  it('converge with a rebalance in the middle (one instance of each kind added, another removed)', async () => {
    const students = await newStudents(pool, 120);
    const paying = payAll(students, courses[0]!);
    await waitFor('some flows done', async () => (await flowState(pool, students)).purchases >= 20, {
      timeoutMs: 30_000,
    });
    for (const kind of ['purchase', 'allocation', 'session', 'cache'] as const) await system.add(kind);
    await waitFor('more flows done', async () => (await flowState(pool, students)).purchases >= 60, {
      timeoutMs: 30_000,
    });
    for (const kind of ['purchase', 'allocation', 'session', 'cache'] as const)
      await system.remove(system.ofKind(kind)[0]!.name);
    await paying;
    const state = await waitForFlows(pool, students, 1, 90_000);
    expect(state.purchases).toBe(120);
    expect(state.allocations).toBe(120);
    await assertNoDuplicates(students);
  });

  it('a worker killed with SIGKILL mid-stream is restarted and the flow converges', async () => {
    const students = await newStudents(pool, 100);
    const restartsBefore = system.restarts;
    const paying = payAll(students, courses[1]!);
    await waitFor('some flows done', async () => (await flowState(pool, students)).purchases >= 15, {
      timeoutMs: 30_000,
    });
    const victims = (['purchase', 'allocation', 'session', 'cache'] as const).map(
      (k) => system.ofKind(k)[0]!,
    );
    const oldPids = victims.map((v) => v.proc.pid);
    for (const v of victims) expect(system.signal(v.name, 'SIGKILL')).toBe(true);
    await paying;
    await waitFor(
      'every killed worker restarted',
      () => victims.every((v, i) => v.proc.running && v.proc.pid !== oldPids[i]),
      { timeoutMs: 20_000 },
    );
    expect(system.restarts - restartsBefore).toBeGreaterThanOrEqual(4);
    const state = await waitForFlows(pool, students, 1, 90_000);
    expect(state.purchases).toBe(100);
    expect(state.allocations).toBe(100);
    await assertNoDuplicates(students);
  });
});
