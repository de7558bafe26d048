// PURCHASE_CREATED → trainer_allocations (never over a trainer's capacity) → TRAINER_ALLOCATED.
import { randomUUID } from 'node:crypto';
import {
  allocationIdFor,
  eventIdFor,
  startDateFor,
  type TrainerAllocatedEvent,
} from '../../contracts/index.ts';
import { AppError } from '../../lib/errors.ts';
import type { EventContext, EventHandler } from '../../lib/inbox.ts';
import { enqueueEvent, isoTimestamp } from '../../lib/outbox.ts';

interface AllocationRow {
  id: string;
  purchase_id: string;
  payment_id: string;
  trainer_id: string | null;
  student_id: string;
  course_id: string;
  status: string;
  session_count: number;
  start_date: string;
  created_at: Date;
}

export function trainerAllocatedEvent(row: AllocationRow, randomIds: boolean): TrainerAllocatedEvent {
  return {
    eventId: randomIds ? randomUUID() : eventIdFor('TRAINER_ALLOCATED', row.id),
    correlationId: row.payment_id,
    causationId: eventIdFor('PURCHASE_CREATED', row.purchase_id),
    eventType: 'TRAINER_ALLOCATED',
    version: 1,
    timestamp: isoTimestamp(row.created_at),
    payload: {
      allocationId: row.id,
      trainerId: row.trainer_id!,
      studentId: row.student_id,
      courseId: row.course_id,
      sessionCount: row.session_count,
      startDate: row.start_date,
    },
  };
}

/**
 * A trainer with free capacity, row-locked until commit. SKIP LOCKED spreads concurrent
 * allocators over trainers instead of queueing them (and deadlocking) on the least loaded one.
 * NO KEY UPDATE (what the counter's UPDATE takes anyway), not FOR UPDATE: the foreign-key checks
 * of other transactions inserting sessions or allocations for this trainer take KEY SHARE, which
 * FOR UPDATE would block (and SKIP LOCKED would then skip trainers that are merely referenced).
 */
async function lockTrainer(ctx: EventContext): Promise<{ id: string; load: number } | undefined> {
  const { client } = ctx;
  if (ctx.faults.has('allocate-without-lock')) {
    const r = await client.query<{ id: string; active_allocations: number }>(
      'SELECT id, active_allocations FROM trainers WHERE active_allocations < capacity ORDER BY active_allocations, id LIMIT 1',
    );
    const t = r.rows[0];
    return t && { id: t.id, load: t.active_allocations };
  }
  const r = await client.query<{ id: string; active_allocations: number }>(
    `SELECT id, active_allocations FROM trainers WHERE active_allocations < capacity
     ORDER BY active_allocations, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED`,
  );
  const t = r.rows[0];
  if (t) return { id: t.id, load: t.active_allocations };
  // Every trainer with room is locked by another allocator right now: wait and retry, do not waitlist.
  const room = await client.query('SELECT 1 FROM trainers WHERE active_allocations < capacity LIMIT 1');
  if ((room.rowCount ?? 0) > 0)
    throw new AppError('capacity_contended', 'every trainer with capacity is being allocated', true);
  return undefined;
}

interface Lookup {
  student_id: string;
  course_id: string;
  is_active: boolean;
  payment_id: string;
  session_count: number | null;
  existing: AllocationRow | null;
}

/**
 * Three round trips on the common path: one lookup (the purchase, its course, any allocation the
 * pair already has), the trainer lock, and one statement that inserts the allocation, bumps the
 * trainer's counter only if the insert happened, and returns the row.
 */
export const handlePurchaseCreated: EventHandler = async (ctx: EventContext) => {
  if (ctx.event.eventType !== 'PURCHASE_CREATED')
    throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
  const { purchaseId, studentId, courseId } = ctx.event.payload;
  const { client } = ctx;
  const lookup = await client.query<Lookup>(
    `SELECT p.student_id, p.course_id, p.is_active, p.payment_id, c.session_count,
       (SELECT to_jsonb(x) FROM (
          SELECT a.id, a.purchase_id, ap.payment_id, a.trainer_id, a.student_id, a.course_id, a.status,
                 a.session_count, to_char(a.start_date, 'YYYY-MM-DD') AS start_date, a.created_at
          FROM trainer_allocations a JOIN student_course_purchases ap ON ap.id = a.purchase_id
          WHERE a.student_id = p.student_id AND a.course_id = p.course_id
            AND a.status IN ('approved', 'active', 'waitlisted')
          LIMIT 1) x) AS existing
     FROM student_course_purchases p LEFT JOIN courses c ON c.id = p.course_id
     WHERE p.id = $1`,
    [purchaseId],
  );
  const p = lookup.rows[0];
  if (!p) throw new AppError('handler_error', `unknown purchase ${purchaseId}`, false);
  if (p.student_id !== studentId || p.course_id !== courseId)
    throw new AppError('handler_error', `event does not match purchase ${purchaseId}`, false);
  if (!p.is_active) return 'already-done';
  if (p.existing) {
    ctx.onConflict('trainer_allocations_one_live');
    if (p.existing.status !== 'waitlisted') {
      const found = { ...p.existing, created_at: new Date(p.existing.created_at) };
      await enqueueEvent(client, trainerAllocatedEvent(found, ctx.faults.has('random-downstream-ids')));
    }
    return 'already-done';
  }
  if (p.session_count === null) throw new AppError('handler_error', `unknown course ${courseId}`, false);
  const allocationId = allocationIdFor(purchaseId);
  const startDate = startDateFor(ctx.now);
  const trainer = await lockTrainer(ctx);
  if (!trainer) {
    await client.query(
      `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, waitlist_reason, session_count, start_date)
       VALUES ($1, $2, $3, $4, NULL, 'waitlisted', 'no_trainer_capacity', $5, $6) ON CONFLICT DO NOTHING`,
      [allocationId, purchaseId, studentId, courseId, p.session_count, startDate],
    );
    ctx.log.info({ allocationId }, 'waitlisted: no trainer capacity');
    // A waitlist entry announces nothing downstream, so nobody else would invalidate the dashboard.
    ctx.invalidateDashboard(studentId, 'after-commit');
    return 'applied';
  }
  // The counter moves in the same statement as the insert, and only if the insert happened.
  const withoutLock = ctx.faults.has('allocate-without-lock');
  // Planted bug: the value read without a lock, plus one (a lost update under concurrency).
  const counter = withoutLock ? '$9::int' : 'active_allocations + 1';
  const inserted = await client.query<AllocationRow>(
    `WITH a AS (
       INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date)
       VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7) ON CONFLICT DO NOTHING
       RETURNING *),
     t AS (UPDATE trainers SET active_allocations = ${counter} WHERE id = $5 AND EXISTS (SELECT 1 FROM a) RETURNING 1)
     SELECT a.id, a.purchase_id, $8::uuid AS payment_id, a.trainer_id, a.student_id, a.course_id, a.status,
            a.session_count, to_char(a.start_date, 'YYYY-MM-DD') AS start_date, a.created_at,
            (SELECT count(*) FROM t) AS bumped
     FROM a`,
    [
      allocationId,
      purchaseId,
      studentId,
      courseId,
      trainer.id,
      p.session_count,
      startDate,
      p.payment_id,
      ...(withoutLock ? [trainer.load + 1] : []),
    ],
  );
  const row = inserted.rows[0];
  if (!row) {
    ctx.onConflict('trainer_allocations_one_live');
    return 'already-done';
  }
  await enqueueEvent(client, trainerAllocatedEvent(row, ctx.faults.has('random-downstream-ids')));
  return 'applied';
};
