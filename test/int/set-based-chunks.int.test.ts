// The set-based handlers (issue 11) keep the per-event rules inside one chunk: capacity runs out
// mid-chunk and the rest is waitlisted, one bad event is dead-lettered alone while the others
// commit, two payments of one student and course make one purchase, a redelivered chunk changes
// nothing. Real PostgreSQL and Redis, the real consumer framework (processChunk).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { seed } from '../../harness/system/seed.ts';
import {
  type ConsumerGroup,
  type DomainEvent,
  eventIdFor,
  type PurchaseConfirmedEvent,
  purchaseIdFor,
} from '../../system/contracts/index.ts';
import { processChunk } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool } from '../../system/lib/db.ts';
import type { EventHandler } from '../../system/lib/inbox.ts';
import { createLogger } from '../../system/lib/log.ts';
import { handlePurchaseCreated } from '../../system/workers/allocation/handler.ts';
import { handlePurchaseConfirmed, purchaseCreatedEvent } from '../../system/workers/purchase/handler.ts';

const stack = inject('stack');
const log = createLogger('set-based-chunks', 'silent');
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

/** A fresh database with `students` students, one course, and `trainers` trainers of `capacity`. */
async function world(students: number, trainers: number, capacity: number, faults: readonly string[] = []) {
  const db: ScratchDatabase = await dbs.create();
  const ids = await seed(db.url, {
    students,
    courses: 1,
    trainers,
    trainerCapacity: capacity,
    sessionCount: 4,
  });
  const pool = createPool(db.url, 3);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const run = (group: ConsumerGroup, handler: EventHandler, events: readonly DomainEvent[]) =>
    processChunk(
      {
        group,
        pool,
        consumer: null as never,
        producer: null as never,
        handler,
        dashboards: redisDashboardCache(redis),
        faults: new Set(faults) as never,
        log,
        clockSkewMs: 0,
        maxAttempts: 2,
      },
      events.map((event, i) => ({
        message: { key: null, value: Buffer.from(JSON.stringify(event)), offset: String(i) } as never,
        event,
      })),
    );
  const close = async () => {
    await sql.end();
    await pool.end();
  };
  return { ...ids, sql, run, close };
}

/** A succeeded payment of `student` for `course`, and the PURCHASE_CONFIRMED that announces it. */
async function paid(sql: pg.Client, student: string, course: string): Promise<PurchaseConfirmedEvent> {
  const id = randomUUID();
  await sql.query(
    `INSERT INTO payments (id, student_id, course_id, amount_cents, status, provider_payment_id, confirmed_at)
     VALUES ($1, $2, $3, 1000, 'succeeded', $4, now())`,
    [id, student, course, `pp-${id}`],
  );
  return {
    eventId: eventIdFor('PURCHASE_CONFIRMED', id),
    correlationId: id,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: { paymentId: id, studentId: student, courseId: course, amountCents: 1000, metadata: {} },
  };
}

describe('set-based chunks keep the per-event rules', () => {
  it('allocation: capacity runs out mid-chunk, the rest is waitlisted, counters equal the rows; a redelivery changes nothing', async () => {
    const w = await world(5, 2, 2);
    try {
      const confirmed = await Promise.all(w.students.map((s) => paid(w.sql, s, w.courses[0]!)));
      expect((await w.run('purchase-worker', handlePurchaseConfirmed, confirmed)).outcomes).toEqual(
        Array(5).fill('applied'),
      );
      const purchases = await w.sql.query(
        'SELECT id, payment_id, student_id, course_id, purchase_tier, created_at FROM student_course_purchases',
      );
      const created = purchases.rows.map((r) => purchaseCreatedEvent(r, false));
      const first = await w.run('allocation-worker', handlePurchaseCreated, created);
      expect(first).toEqual({ outcomes: Array(5).fill('applied'), dead: [] });
      const rows = await w.sql.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM trainer_allocations GROUP BY status ORDER BY status',
      );
      expect(rows.rows).toEqual([
        { status: 'approved', n: 4 },
        { status: 'waitlisted', n: 1 },
      ]);
      const trainers = await w.sql.query<{ active_allocations: number; real: number }>(
        `SELECT t.active_allocations, (SELECT count(*)::int FROM trainer_allocations a
           WHERE a.trainer_id = t.id AND a.status IN ('approved', 'active')) AS real FROM trainers t`,
      );
      // Each trainer got two in one statement: its counter moved by two, not by one.
      expect(trainers.rows.map((t) => [t.active_allocations, t.real])).toEqual([
        [2, 2],
        [2, 2],
      ]);
      const announced = await w.sql.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE event_type = 'TRAINER_ALLOCATED'",
      );
      expect(announced.rows[0]!.n).toBe(4);
      const again = await w.run('allocation-worker', handlePurchaseCreated, created);
      expect(again.outcomes).toEqual(Array(5).fill('duplicate'));
      const after = await w.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM trainer_allocations');
      expect(after.rows[0]!.n).toBe(5);
    } finally {
      await w.close();
    }
  });

  it('allocation without the inbox: a purchase delivered twice in one chunk takes one seat, not two (the last seat goes to the next student)', async () => {
    const w = await world(2, 1, 2, ['skip-inbox']);
    try {
      const confirmed = await Promise.all(w.students.map((s) => paid(w.sql, s, w.courses[0]!)));
      await w.run('purchase-worker', handlePurchaseConfirmed, confirmed);
      const purchases = await w.sql.query(
        'SELECT id, payment_id, student_id, course_id, purchase_tier, created_at FROM student_course_purchases ORDER BY student_id',
      );
      const [a, b] = purchases.rows.map((r) => purchaseCreatedEvent(r, false));
      const r = await w.run('allocation-worker', handlePurchaseCreated, [a!, a!, b!]);
      expect(r.outcomes).toEqual(['applied', 'already-done', 'applied']);
      const rows = await w.sql.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM trainer_allocations GROUP BY status',
      );
      expect(rows.rows).toEqual([{ status: 'approved', n: 2 }]);
    } finally {
      await w.close();
    }
  });

  it('purchase: one event without its payment is dead-lettered alone; the others commit; its inbox row is gone so a redelivery retries it', async () => {
    const w = await world(3, 1, 10);
    try {
      const good = await Promise.all(w.students.slice(0, 2).map((s) => paid(w.sql, s, w.courses[0]!)));
      const orphanId = randomUUID();
      const orphan: PurchaseConfirmedEvent = {
        ...good[0]!,
        eventId: eventIdFor('PURCHASE_CONFIRMED', orphanId),
        correlationId: orphanId,
        payload: { ...good[0]!.payload, paymentId: orphanId, studentId: w.students[2]! },
      };
      const r = await w.run('purchase-worker', handlePurchaseConfirmed, [good[0]!, orphan, good[1]!]);
      expect(r.outcomes).toEqual(['applied', 'dead-lettered', 'applied']);
      expect(r.dead.map((d) => [d.reason, d.detail])).toEqual([
        ['handler_error', `unknown payment ${orphanId}`],
      ]);
      const purchases = await w.sql.query<{ id: string }>(
        'SELECT id FROM student_course_purchases ORDER BY id',
      );
      expect(purchases.rows.map((p) => p.id).sort()).toEqual(
        good.map((e) => purchaseIdFor(e.payload.paymentId)).sort(),
      );
      const inbox = await w.sql.query<{ event_id: string }>(
        "SELECT event_id FROM processed_events WHERE consumer = 'purchase-worker'",
      );
      expect(inbox.rows.map((x) => x.event_id).sort()).toEqual(good.map((e) => e.eventId).sort());
    } finally {
      await w.close();
    }
  });

  it('purchase: two payments of one student for one course in one chunk make one purchase, announced once', async () => {
    const w = await world(1, 1, 10);
    try {
      const [a, b] = [
        await paid(w.sql, w.students[0]!, w.courses[0]!),
        await paid(w.sql, w.students[0]!, w.courses[0]!),
      ];
      const r = await w.run('purchase-worker', handlePurchaseConfirmed, [a!, b!]);
      expect(r.outcomes).toEqual(['applied', 'already-done']);
      const purchases = await w.sql.query<{ payment_id: string }>(
        'SELECT payment_id FROM student_course_purchases',
      );
      expect(purchases.rows).toEqual([{ payment_id: a!.payload.paymentId }]);
      const outbox = await w.sql.query<{ event_id: string }>(
        "SELECT event_id FROM outbox WHERE event_type = 'PURCHASE_CREATED'",
      );
      expect(outbox.rows).toEqual([
        { event_id: eventIdFor('PURCHASE_CREATED', purchaseIdFor(a!.payload.paymentId)) },
      ]);
    } finally {
      await w.close();
    }
  });
});
