import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import { dlqTopic, dueSessionCount, topics } from '../../system/contracts/index.ts';
import {
  authFor,
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
  system = await startTestSystem(stack);
  pool = directPool(stack);
  courses = await courseIds(pool);
});

afterAll(async () => {
  await system?.stop();
  await pool?.end();
});

describe('a confirmed payment, end to end through Kafka', () => {
  it('yields exactly one purchase, one allocation, the first session window and a fresh dashboard', async () => {
    const [student] = await newStudents(pool, 1);
    // Cache the empty dashboard first: the flow must invalidate it.
    const headers = await authFor(student!);
    const before = await fetch(`${system.apiUrl}/students/${student}/dashboard`, { headers }).then((r) =>
      r.json(),
    );
    expect(before).toMatchObject({ studentId: student, purchases: [], allocations: [] });
    const payment = await pay(system.apiUrl, student!, courses[0]!);
    expect(payment.status).toBe('succeeded');
    const state = await waitForFlows(pool, [student!], 1);
    expect(state.purchases).toBe(1);
    expect(state.allocations).toBe(1);
    const alloc = (
      await pool.query(
        'SELECT start_date::text, session_count, status FROM trainer_allocations WHERE student_id = $1',
        [student],
      )
    ).rows[0];
    expect(alloc.status).toBe('approved');
    const clock = (
      await pool.query<{ now: Date }>(
        'SELECT now() + make_interval(secs => offset_ms / 1000.0) AS now FROM app_clock',
      )
    ).rows[0]!.now;
    await waitFor(
      'the first window',
      async () =>
        (await flowState(pool, [student!])).sessions ===
        dueSessionCount(alloc.start_date, alloc.session_count, clock),
    );
    const dash = await waitFor('a fresh dashboard', async () => {
      const d = (await fetch(`${system.apiUrl}/students/${student}/dashboard`, { headers }).then((r) =>
        r.json(),
      )) as {
        purchases: unknown[];
        upcomingSessions: unknown[];
      };
      return d.purchases.length === 1 && d.upcomingSessions.length > 0 ? d : undefined;
    });
    expect(dash.purchases).toHaveLength(1);
  });

  it('the same events delivered 5 times, and in reverse order, change nothing', async () => {
    const students = await newStudents(pool, 3);
    for (const s of students) await pay(system.apiUrl, s, courses[1]!);
    await waitForFlows(pool, students, 1);
    const before = await flowState(pool, students);
    const rows = await pool.query<{ topic: string; message_key: string; envelope: unknown }>(
      'SELECT topic, message_key, envelope FROM outbox WHERE message_key = ANY($1::text[]) ORDER BY id DESC',
      [students],
    );
    expect(rows.rows.length).toBe(9);
    const hitsBefore = await idempotencyHits(system);
    const producer = harnessKafka(stack.kafkaBrokers, 'dup-test').producer();
    await producer.connect();
    for (let copy = 0; copy < 5; copy++) {
      // newest first: TRAINER_ALLOCATED before PURCHASE_CREATED before PURCHASE_CONFIRMED
      for (const r of rows.rows)
        await producer.send({
          topic: r.topic,
          messages: [{ key: r.message_key, value: JSON.stringify(r.envelope) }],
        });
    }
    await producer.disconnect();
    await waitFor(
      'the 45 copies to be absorbed',
      async () => (await idempotencyHits(system)) - hitsBefore >= 45,
      { timeoutMs: 30_000 },
    );
    expect(await flowState(pool, students)).toEqual(before);
  });

  it('dead-letters bad messages with a reason and keeps the partition moving', async () => {
    const [student] = await newStudents(pool, 1);
    const producer = harnessKafka(stack.kafkaBrokers, 'dlq-test').producer();
    await producer.connect();
    const marker = randomUUID();
    const bad = [
      `{not json ${marker}`,
      JSON.stringify({ eventType: 'SOMETHING_ELSE', marker }),
      JSON.stringify({ eventType: 'PURCHASE_CONFIRMED', eventId: 'not-a-uuid', marker }),
      JSON.stringify({ eventType: 'PURCHASE_CONFIRMED', pad: 'x'.repeat(70_000), marker }),
      JSON.stringify({
        eventId: randomUUID(),
        correlationId: randomUUID(),
        causationId: null,
        eventType: 'PURCHASE_CONFIRMED',
        version: 1,
        timestamp: new Date().toISOString(),
        payload: {
          paymentId: randomUUID(),
          studentId: student,
          courseId: courses[0],
          amountCents: 100,
          metadata: { marker },
        },
      }),
    ];
    // Same key → same partition as the valid payment that follows.
    await producer.send({
      topic: topics.PURCHASE_CONFIRMED,
      messages: bad.map((value) => ({ key: student!, value })),
    });
    await producer.disconnect();
    await pay(system.apiUrl, student!, courses[0]!);
    await waitForFlows(pool, [student!], 1);

    const consumer = harnessKafka(stack.kafkaBrokers, 'dlq-reader').consumer({
      groupId: `dlq-${randomUUID()}`,
    });
    const reasons: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopic('purchase-worker'), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString().includes(marker))
          reasons.push(message.headers!['x-dlq-reason']!.toString());
      },
    });
    await waitFor('5 dead letters', () => reasons.length >= 5, { timeoutMs: 30_000 });
    await consumer.disconnect();
    expect(reasons.sort()).toEqual([
      'handler_error',
      'malformed_json',
      'oversized',
      'schema_violation',
      'unknown_event_type',
    ]);
  });
});

describe('the top-up job', () => {
  it('extends the window as the app clock advances, never past sessionCount', async () => {
    const [student] = await newStudents(pool, 1);
    await pay(system.apiUrl, student!, courses[2]!);
    await waitForFlows(pool, [student!], 1);
    const first = (await flowState(pool, [student!])).sessions;
    try {
      await pool.query('UPDATE app_clock SET offset_ms = offset_ms + $1', [10 * 86_400_000]);
      await waitFor(
        'top-up after 10 days',
        async () => (await flowState(pool, [student!])).sessions >= first + 5,
        { timeoutMs: 20_000 },
      );
      await pool.query('UPDATE app_clock SET offset_ms = offset_ms + $1', [200 * 86_400_000]);
      const count = (
        await pool.query('SELECT session_count FROM trainer_allocations WHERE student_id = $1', [student])
      ).rows[0].session_count;
      await waitFor('the full schedule', async () => (await flowState(pool, [student!])).sessions === count, {
        timeoutMs: 20_000,
      });
      const dup = await pool.query(
        'SELECT allocation_id, seq, count(*) FROM tutoring_sessions WHERE student_id = $1 GROUP BY 1, 2 HAVING count(*) > 1',
        [student],
      );
      expect(dup.rows).toEqual([]);
    } finally {
      await pool.query('UPDATE app_clock SET offset_ms = 0');
    }
  });
});

async function idempotencyHits(sys: RunningSystem): Promise<number> {
  let total = 0;
  for (const p of sys.processes.filter((x) => x.kind !== 'api' && x.kind !== 'relay')) {
    const text = await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`).then((r) => r.text());
    for (const m of text.matchAll(/^payproof_idempotency_hits_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  }
  return total;
}
