// The purchase and allocation handlers' own rules, called directly in one transaction on real
// PostgreSQL (no inbox in front, so a redelivery reaches the handler): what each refuses and with
// which error, what a second copy of an event does, what they count as a conflict, what they
// announce in the outbox, how a chunk is spread over trainers, and what happens when another
// allocator holds the trainers' locks. Written for the mutation score (issue 12): each case fails on
// a mutant of system/workers/{purchase,allocation}/handler.ts that the properties let through.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { seed } from '../../harness/system/seed.ts';
import {
  allocationIdFor,
  type DomainEvent,
  eventIdFor,
  type PaymentRefundRequestedEvent,
  type PurchaseConfirmedEvent,
  type PurchaseCreatedEvent,
  purchaseIdFor,
  refundIdFor,
} from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { AppError, isTransient } from '../../system/lib/errors.ts';
import type { ChunkContext, EventHandler } from '../../system/lib/inbox.ts';
import { createLogger } from '../../system/lib/log.ts';
import { handlePurchaseCreated } from '../../system/workers/allocation/handler.ts';
import { handlePurchaseConfirmed, handlePurchaseWorkerChunk } from '../../system/workers/purchase/handler.ts';

const stack = inject('stack');
const log = createLogger('handler-rules', 'silent');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
});

afterAll(async () => {
  await dbs?.close();
});

/** A fresh database with `students` students, one course, `trainers` trainers of `capacity`. */
async function world(students: number, trainers: number, capacity: number) {
  const db = await dbs.create();
  const ids = await seed(db.url, {
    students,
    courses: 2,
    trainers,
    trainerCapacity: capacity,
    sessionCount: 4,
  });
  const pool = createPool(db.url, 4);
  const q = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => pool.query<R>(text, values);
  /** Runs the handler on the chunk in one transaction (committed when it returns, rolled back when it throws). */
  const run = async (handler: EventHandler, events: readonly DomainEvent[], before?: string) => {
    const client = await pool.connect();
    const conflicts: string[] = [];
    const invalidated: string[] = [];
    try {
      await client.query('BEGIN');
      if (before) await client.query(before);
      const ctx: ChunkContext = {
        client,
        group: 'purchase-worker',
        now: new Date(),
        faults: new Set() as never,
        log,
        onConflict: (c) => conflicts.push(c),
        invalidateDashboard: (s, when) => invalidated.push(`${when}:${s}`),
      };
      const outcomes = await handler(ctx, events);
      await client.query('COMMIT');
      return { outcomes, conflicts, invalidated };
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  };
  const outbox = async (type: string) =>
    (
      await q<{ envelope: DomainEvent }>('SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id', [
        type,
      ])
    ).rows.map((r) => r.envelope);
  return { ...ids, url: db.url, pool, q, run, outbox, close: () => pool.end() };
}
type World = Awaited<ReturnType<typeof world>>;

/** A payment row (succeeded unless told) and the PURCHASE_CONFIRMED that announces it. */
async function payment(w: World, student: string, course: string, status = 'succeeded') {
  const id = randomUUID();
  const succeeded = status === 'succeeded';
  await w.q(
    `INSERT INTO payments (id, student_id, course_id, amount_cents, status, provider_payment_id, confirmed_at, failure_reason)
     VALUES ($1, $2, $3, 1000, $4, $5, $6, $7)`,
    [
      id,
      student,
      course,
      status,
      succeeded ? `pp-${id}` : null,
      succeeded ? new Date() : null,
      status === 'failed' ? 'declined' : null,
    ],
  );
  return confirmedEvent(id, student, course);
}

function confirmedEvent(paymentId: string, student: string, course: string): PurchaseConfirmedEvent {
  return {
    eventId: eventIdFor('PURCHASE_CONFIRMED', paymentId),
    correlationId: paymentId,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: { paymentId, studentId: student, courseId: course, amountCents: 1000, metadata: {} },
  };
}

function refundEvent(paymentId: string, student: string, course: string, providerPaymentId: string) {
  const refundId = refundIdFor(providerPaymentId);
  return {
    eventId: eventIdFor('PAYMENT_REFUND_REQUESTED', refundId),
    correlationId: paymentId,
    causationId: null,
    eventType: 'PAYMENT_REFUND_REQUESTED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: {
      refundId,
      paymentId,
      studentId: student,
      courseId: course,
      providerPaymentId,
      amountCents: 1000,
      currency: 'EUR',
      reason: 'course_already_owned',
    },
  } as PaymentRefundRequestedEvent;
}

function createdEvent(purchaseId: string, student: string, course: string): PurchaseCreatedEvent {
  return {
    eventId: eventIdFor('PURCHASE_CREATED', purchaseId),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    eventType: 'PURCHASE_CREATED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: { purchaseId, studentId: student, courseId: course, purchaseTier: 1, metadata: {} },
  } as PurchaseCreatedEvent;
}

/** A purchase row made directly (its payment too), active unless told. */
async function purchase(w: World, student: string, course: string, active = true) {
  const e = await payment(w, student, course);
  const id = purchaseIdFor(e.payload.paymentId);
  await w.q(
    `INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier, is_active)
     VALUES ($1, $2, $3, $4, 1, $5)`,
    [id, e.payload.paymentId, student, course, active],
  );
  return { id, paymentId: e.payload.paymentId, event: createdEvent(id, student, course) };
}

/** The handler's refusal: a permanent handler_error with this message, and nothing written. */
async function refused(p: Promise<unknown>, message: string) {
  await expect(p).rejects.toMatchObject({ code: 'handler_error', retriable: false, message });
}

describe('purchase handler', () => {
  it('refuses a confirmation without a succeeded payment of that student and course, naming why', async () => {
    const w = await world(2, 1, 10);
    try {
      const [s0, s1] = w.students as [string, string];
      const [c0, c1] = w.courses as [string, string];
      const pending = await payment(w, s0, c0, 'pending');
      await refused(
        w.run(handlePurchaseConfirmed, [pending]),
        `payment ${pending.payload.paymentId} is pending, not succeeded`,
      );
      const ok = await payment(w, s0, c0);
      const otherStudent = confirmedEvent(ok.payload.paymentId, s1, c0);
      await refused(
        w.run(handlePurchaseConfirmed, [otherStudent]),
        `event does not match payment ${ok.payload.paymentId} (student/course)`,
      );
      const otherCourse = confirmedEvent(ok.payload.paymentId, s0, c1);
      await refused(
        w.run(handlePurchaseConfirmed, [otherCourse]),
        `event does not match payment ${ok.payload.paymentId} (student/course)`,
      );
      const ghost = confirmedEvent(randomUUID(), s0, c0);
      await refused(w.run(handlePurchaseConfirmed, [ghost]), `unknown payment ${ghost.payload.paymentId}`);
      // One bad event sinks its chunk: the good one with it is not written either.
      await refused(
        w.run(handlePurchaseConfirmed, [ok, pending]),
        `payment ${pending.payload.paymentId} is pending, not succeeded`,
      );
      expect((await w.q('SELECT 1 FROM student_course_purchases')).rowCount).toBe(0);
      expect(await w.outbox('PURCHASE_CREATED')).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('one payment twice in a chunk, then redelivered: one purchase, one announcement, no refund', async () => {
    const w = await world(1, 1, 10);
    try {
      const e = await payment(w, w.students[0]!, w.courses[0]!);
      const first = await w.run(handlePurchaseConfirmed, [e, structuredClone(e)]);
      expect(first.outcomes).toEqual(['applied', 'already-done']);
      expect(first.conflicts).toEqual(['student_course_purchases_one_active']);
      const again = await w.run(handlePurchaseConfirmed, [e]);
      expect(again.outcomes).toEqual(['already-done']);
      expect(again.conflicts).toEqual(['student_course_purchases_one_active']);
      const rows = await w.q<{ id: string }>('SELECT id FROM student_course_purchases');
      expect(rows.rows).toEqual([{ id: purchaseIdFor(e.payload.paymentId) }]);
      const created = await w.outbox('PURCHASE_CREATED');
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({
        eventId: eventIdFor('PURCHASE_CREATED', rows.rows[0]!.id),
        correlationId: e.payload.paymentId,
        causationId: e.eventId,
        payload: {
          purchaseId: rows.rows[0]!.id,
          studentId: e.payload.studentId,
          courseId: e.payload.courseId,
          metadata: { paymentId: e.payload.paymentId },
        },
      });
      // A redelivery of the purchase's own payment is not a second capture: nothing to pay back.
      expect(await w.outbox('PAYMENT_REFUND_REQUESTED')).toEqual([]);
      // Already done, then a new one, in one chunk: each answered for itself.
      const other = await payment(w, w.students[0]!, w.courses[1]!);
      expect((await w.run(handlePurchaseConfirmed, [e, other])).outcomes).toEqual([
        'already-done',
        'applied',
      ]);
      // The purchase was taken back (inactive): a redelivery still finds it by its own id, and is done.
      await w.q('UPDATE student_course_purchases SET is_active = false WHERE payment_id = $1', [
        e.payload.paymentId,
      ]);
      const late = await w.run(handlePurchaseConfirmed, [e]);
      expect(late.outcomes).toEqual(['already-done']);
      expect(await w.outbox('PAYMENT_REFUND_REQUESTED')).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('a second payment for a course already owned: already done, and that capture is paid back', async () => {
    const w = await world(1, 1, 10);
    try {
      const [s, c] = [w.students[0]!, w.courses[0]!];
      const a = await payment(w, s, c);
      const b = await payment(w, s, c);
      const r = await w.run(handlePurchaseConfirmed, [a, b]);
      expect(r.outcomes).toEqual(['applied', 'already-done']);
      expect(r.conflicts).toEqual(['student_course_purchases_one_active']);
      const refunds = await w.outbox('PAYMENT_REFUND_REQUESTED');
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({
        correlationId: b.payload.paymentId,
        causationId: b.eventId,
        payload: {
          paymentId: b.payload.paymentId,
          providerPaymentId: `pp-${b.payload.paymentId}`,
          refundId: refundIdFor(`pp-${b.payload.paymentId}`),
          reason: 'course_already_owned',
        },
      });
    } finally {
      await w.close();
    }
  });

  it('a mixed chunk: each event answered in its place; a refund twice is applied once; bad refunds refused', async () => {
    const w = await world(2, 1, 10);
    try {
      const [s0, s1] = w.students as [string, string];
      const [c0, c1] = w.courses as [string, string];
      const owned = await payment(w, s0, c0);
      const refund = refundEvent(owned.payload.paymentId, s0, c0, `pp-${owned.payload.paymentId}`);
      const fresh = await payment(w, s1, c1);
      // Each message of a chunk is its own parsed object: the second copy too.
      const mixed = await w.run(handlePurchaseWorkerChunk, [refund, fresh, structuredClone(refund)]);
      expect(mixed.outcomes).toEqual(['applied', 'applied', 'already-done']);
      expect((await w.q('SELECT id FROM refund_requests')).rows).toEqual([{ id: refund.payload.refundId }]);
      expect((await w.q('SELECT payment_id FROM student_course_purchases')).rows).toEqual([
        { payment_id: fresh.payload.paymentId },
      ]);
      // Refunds alone, redelivered: already done.
      expect((await w.run(handlePurchaseWorkerChunk, [refund])).outcomes).toEqual(['already-done']);
      // Confirmations alone.
      expect((await w.run(handlePurchaseWorkerChunk, [fresh])).outcomes).toEqual(['already-done']);
      const stranger = refundEvent(owned.payload.paymentId, s1, c0, `pp-${owned.payload.paymentId}`);
      await refused(
        w.run(handlePurchaseWorkerChunk, [stranger]),
        `refund ${stranger.payload.refundId}: no such payment for this student and course`,
      );
      const never = refundEvent(owned.payload.paymentId, s0, c0, 'pp-never-captured');
      await refused(
        w.run(handlePurchaseWorkerChunk, [never]),
        `refund ${never.payload.refundId}: pp-never-captured was never captured`,
      );
      expect((await w.q('SELECT 1 FROM refund_requests')).rowCount).toBe(1);
    } finally {
      await w.close();
    }
  });
  it('the pair’s active purchase deactivated between the insert and the lookup: "not visible yet", retriable; applied on the retry', async () => {
    const w = await world(1, 1, 10);
    try {
      const [s, c] = [w.students[0]!, w.courses[0]!];
      const owned = await purchase(w, s, c);
      const e = await payment(w, s, c);
      // The race a refund can win in production, made deterministic: a statement trigger on the
      // purchases' insert (it fires after the insert skipped its row: the pair had an active
      // purchase) deactivates that purchase in a transaction of its own, committed at once through
      // dblink, before the handler's lookup takes its snapshot.
      await w.q('CREATE EXTENSION IF NOT EXISTS dblink');
      const deactivate = `UPDATE student_course_purchases SET is_active = false WHERE id = '${owned.id}'`;
      await w.q(
        `CREATE FUNCTION deactivate_owned() RETURNS trigger LANGUAGE plpgsql AS $f$
         BEGIN PERFORM dblink_exec(${pg.escapeLiteral(w.url)}, ${pg.escapeLiteral(deactivate)}); RETURN NULL; END $f$`,
      );
      await w.q(
        'CREATE TRIGGER race AFTER INSERT ON student_course_purchases FOR EACH STATEMENT EXECUTE FUNCTION deactivate_owned()',
      );
      const err = await w.run(handlePurchaseConfirmed, [e]).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({
        code: 'transient_db',
        retriable: true,
        message: `purchase for ${s}/${c} not visible yet`,
      });
      expect(isTransient(err)).toBe(true);
      // Rolled back: no purchase for this payment, no refund asked; the other one deactivated.
      expect((await w.q('SELECT payment_id, is_active FROM student_course_purchases')).rows).toEqual([
        { payment_id: owned.paymentId, is_active: false },
      ]);
      expect(await w.outbox('PAYMENT_REFUND_REQUESTED')).toEqual([]);
      // The retry (as the consumer retries a transient error) finds no active purchase: applied.
      await w.q('DROP TRIGGER race ON student_course_purchases');
      expect((await w.run(handlePurchaseConfirmed, [e])).outcomes).toEqual(['applied']);
      expect((await w.q('SELECT payment_id FROM student_course_purchases WHERE is_active')).rows).toEqual([
        { payment_id: e.payload.paymentId },
      ]);
    } finally {
      await w.close();
    }
  });
});

describe('allocation handler', () => {
  it('refuses an event without its purchase, or naming another student or course', async () => {
    const w = await world(2, 1, 10);
    try {
      const [s0, s1] = w.students as [string, string];
      const [c0, c1] = w.courses as [string, string];
      const ghost = createdEvent(randomUUID(), s0, c0);
      await refused(w.run(handlePurchaseCreated, [ghost]), `unknown purchase ${ghost.payload.purchaseId}`);
      const p = await purchase(w, s0, c0);
      for (const wrong of [createdEvent(p.id, s1, c0), createdEvent(p.id, s0, c1)])
        await refused(w.run(handlePurchaseCreated, [wrong]), `event does not match purchase ${p.id}`);
      expect((await w.q('SELECT 1 FROM trainer_allocations')).rowCount).toBe(0);
    } finally {
      await w.close();
    }
  });

  it('an inactive purchase allocates nothing; a pair with a live allocation re-announces it; a cancelled one is not replaced', async () => {
    const w = await world(3, 1, 10);
    try {
      const [s0, s1, s2] = w.students as [string, string, string];
      const c = w.courses[0]!;
      const inactive = await purchase(w, s0, c, false);
      const r0 = await w.run(handlePurchaseCreated, [inactive.event]);
      expect(r0).toEqual({ outcomes: ['already-done'], conflicts: [], invalidated: [] });
      // s1's pair already has a live allocation, of an older (now inactive) purchase.
      const old = await purchase(w, s1, c, false);
      const live = await purchase(w, s1, c);
      const oldAllocation = allocationIdFor(old.id);
      await w.q(
        `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date)
         VALUES ($1, $2, $3, $4, $5, 'approved', 4, current_date)`,
        [oldAllocation, old.id, s1, c, w.trainers[0]],
      );
      const r1 = await w.run(handlePurchaseCreated, [live.event]);
      expect(r1.outcomes).toEqual(['already-done']);
      expect(r1.conflicts).toEqual(['trainer_allocations_one_live']);
      const announced = await w.outbox('TRAINER_ALLOCATED');
      expect(announced.map((e) => e.eventId)).toEqual([eventIdFor('TRAINER_ALLOCATED', oldAllocation)]);
      expect(announced[0]).toMatchObject({
        correlationId: old.paymentId,
        payload: { allocationId: oldAllocation },
      });
      // Waitlisted instead: still one live allocation for the pair, but nothing to announce.
      await w.q(
        `UPDATE trainer_allocations SET status = 'waitlisted', trainer_id = NULL, waitlist_reason = 'no_trainer_capacity'`,
      );
      await w.q('DELETE FROM outbox');
      const r2 = await w.run(handlePurchaseCreated, [live.event]);
      expect(r2.outcomes).toEqual(['already-done']);
      expect(await w.outbox('TRAINER_ALLOCATED')).toEqual([]);
      // s2's purchase had an allocation that was cancelled: the insert finds its id taken.
      const cancelled = await purchase(w, s2, c);
      await w.q(
        `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date)
         VALUES ($1, $2, $3, $4, NULL, 'cancelled', 4, current_date)`,
        [allocationIdFor(cancelled.id), cancelled.id, s2, c],
      );
      const r3 = await w.run(handlePurchaseCreated, [cancelled.event]);
      expect(r3.outcomes).toEqual(['already-done']);
      expect(r3.conflicts).toEqual(['trainer_allocations_one_live']);
      const t = await w.q<{ active_allocations: number }>('SELECT active_allocations FROM trainers');
      expect(t.rows).toEqual([{ active_allocations: 0 }]);
    } finally {
      await w.close();
    }
  });

  it('spreads a chunk over the least loaded trainers, in id order on ties, locking more when the first few lack room', async () => {
    // 10 allocations, 12 trainers of 2: the first 8 trainers have room for all; each takes one,
    // then the two least loaded (first by id) a second.
    const w = await world(10, 12, 2);
    try {
      const ps = [];
      for (const s of w.students) ps.push(await purchase(w, s, w.courses[0]!));
      const r = await w.run(
        handlePurchaseCreated,
        ps.map((p) => p.event),
      );
      expect(r.outcomes).toEqual(Array(10).fill('applied'));
      const load = await w.q<{ n: number }>('SELECT active_allocations AS n FROM trainers ORDER BY id');
      expect(load.rows.map((x) => x.n)).toEqual([2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
      const real = await w.q<{ n: number }>(
        `SELECT count(a.id)::int AS n FROM trainers t LEFT JOIN trainer_allocations a ON a.trainer_id = t.id
         GROUP BY t.id ORDER BY t.id`,
      );
      expect(real.rows.map((x) => x.n)).toEqual([2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
      expect(await w.outbox('TRAINER_ALLOCATED')).toHaveLength(10);
    } finally {
      await w.close();
    }
    // 10 allocations, 12 trainers of 1: the first 8 lack room, the next 2 are locked too.
    const v = await world(10, 12, 1);
    try {
      const ps = [];
      for (const s of v.students) ps.push(await purchase(v, s, v.courses[0]!));
      const r = await v.run(
        handlePurchaseCreated,
        ps.map((p) => p.event),
      );
      expect(r.outcomes).toEqual(Array(10).fill('applied'));
      const load = await v.q<{ n: number }>('SELECT active_allocations AS n FROM trainers ORDER BY id');
      expect(load.rows.map((x) => x.n)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
      const statuses = await v.q<{ status: string }>('SELECT DISTINCT status FROM trainer_allocations');
      expect(statuses.rows).toEqual([{ status: 'approved' }]);
    } finally {
      await v.close();
    }
  });

  it('counts the room trainers have left, not their capacity: a second lock round when the first few are nearly full', async () => {
    // 12 trainers of 2, each already holding one allocation: the first 8 locked have room for 8 of
    // the 10 wanted, so 4 more are locked; each of the first 10 (by id) takes one.
    const w = await world(10, 12, 2);
    try {
      await w.q('UPDATE trainers SET active_allocations = 1');
      const ps = [];
      for (const s of w.students) ps.push(await purchase(w, s, w.courses[0]!));
      const r = await w.run(
        handlePurchaseCreated,
        ps.map((p) => p.event),
      );
      expect(r.outcomes).toEqual(Array(10).fill('applied'));
      const load = await w.q<{ n: number }>('SELECT active_allocations AS n FROM trainers ORDER BY id');
      expect(load.rows.map((x) => x.n)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1]);
    } finally {
      await w.close();
    }
  });

  it('trainers locked by another allocator: capacity_contended at once (never waits, never waitlists), allocated once free', async () => {
    const w = await world(2, 2, 1);
    try {
      const [t0, t1] = [...w.trainers].sort() as [string, string];
      const ps = [
        await purchase(w, w.students[0]!, w.courses[0]!),
        await purchase(w, w.students[1]!, w.courses[0]!),
      ];
      const other = await w.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT 1 FROM trainers WHERE id = $1 FOR NO KEY UPDATE', [t1]);
        // One trainer free, one held: the chunk cannot place both now, but room exists.
        // lock_timeout: an allocator that waited for the held row would fail with 55P03 instead.
        const contended = {
          code: 'capacity_contended',
          retriable: true,
          message: 'every trainer with capacity is being allocated',
        };
        await expect(
          w.run(
            handlePurchaseCreated,
            ps.map((p) => p.event),
            "SET LOCAL lock_timeout = '3s'",
          ),
        ).rejects.toMatchObject(contended);
        await other.query('SELECT 1 FROM trainers WHERE id = $1 FOR NO KEY UPDATE', [t0]);
        await expect(
          w.run(handlePurchaseCreated, [ps[0]!.event], "SET LOCAL lock_timeout = '3s'"),
        ).rejects.toMatchObject(contended);
        expect((await w.q('SELECT 1 FROM trainer_allocations')).rowCount).toBe(0);
      } finally {
        await other.query('ROLLBACK');
        other.release();
      }
      const r = await w.run(
        handlePurchaseCreated,
        ps.map((p) => p.event),
      );
      expect(r.outcomes).toEqual(['applied', 'applied']);
      const load = await w.q<{ n: number }>('SELECT active_allocations AS n FROM trainers ORDER BY id');
      expect(load.rows.map((x) => x.n)).toEqual([1, 1]);
      // Full now: a third student is waitlisted (no room anywhere), not contended, and their
      // dashboard is invalidated after the commit (nothing downstream announces a waitlist).
      const third = await purchase(w, w.students[0]!, w.courses[1]!);
      const r3 = await w.run(handlePurchaseCreated, [third.event]);
      expect(r3.outcomes).toEqual(['applied']);
      expect(r3.invalidated).toEqual([`after-commit:${w.students[0]}`]);
      const waitlisted = await w.q('SELECT waitlist_reason FROM trainer_allocations WHERE purchase_id = $1', [
        third.id,
      ]);
      expect(waitlisted.rows).toEqual([{ waitlist_reason: 'no_trainer_capacity' }]);
    } finally {
      await w.close();
    }
  });
});
