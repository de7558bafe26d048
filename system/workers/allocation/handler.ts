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

const allocationColumns = `a.id, a.purchase_id, p.payment_id, a.trainer_id, a.student_id, a.course_id, a.status,
  a.session_count, a.start_date, a.created_at`;

/**
 * A trainer with free capacity, row-locked until commit. SKIP LOCKED spreads concurrent
 * allocators over trainers instead of queueing them (and deadlocking) on the least loaded one.
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
     ORDER BY active_allocations, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
  );
  const t = r.rows[0];
  if (t) return { id: t.id, load: t.active_allocations };
  // Every trainer with room is locked by another allocator right now: wait and retry, do not waitlist.
  const room = await client.query('SELECT 1 FROM trainers WHERE active_allocations < capacity LIMIT 1');
  if ((room.rowCount ?? 0) > 0)
    throw new AppError('capacity_contended', 'every trainer with capacity is being allocated', true);
  return undefined;
}

export const handlePurchaseCreated: EventHandler = async (ctx: EventContext) => {
  if (ctx.event.eventType !== 'PURCHASE_CREATED')
    throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
  const { purchaseId, studentId, courseId } = ctx.event.payload;
  const { client } = ctx;
  const purchase = await client.query<{ student_id: string; course_id: string; is_active: boolean }>(
    'SELECT student_id, course_id, is_active FROM student_course_purchases WHERE id = $1',
    [purchaseId],
  );
  const p = purchase.rows[0];
  if (!p) throw new AppError('handler_error', `unknown purchase ${purchaseId}`, false);
  if (p.student_id !== studentId || p.course_id !== courseId)
    throw new AppError('handler_error', `event does not match purchase ${purchaseId}`, false);
  if (!p.is_active) return 'already-done';

  const existing = await client.query<AllocationRow>(
    `SELECT ${allocationColumns} FROM trainer_allocations a JOIN student_course_purchases p ON p.id = a.purchase_id
     WHERE a.student_id = $1 AND a.course_id = $2 AND a.status IN ('approved', 'active', 'waitlisted') LIMIT 1`,
    [studentId, courseId],
  );
  const found = existing.rows[0];
  if (found) {
    ctx.onConflict('trainer_allocations_one_live');
    if (found.status !== 'waitlisted')
      await enqueueEvent(client, trainerAllocatedEvent(found, ctx.faults.has('random-downstream-ids')));
    return 'already-done';
  }

  const course = await client.query<{ session_count: number }>(
    'SELECT session_count FROM courses WHERE id = $1',
    [courseId],
  );
  const sessionCount = course.rows[0]?.session_count;
  if (sessionCount === undefined) throw new AppError('handler_error', `unknown course ${courseId}`, false);
  const allocationId = allocationIdFor(purchaseId);
  const startDate = startDateFor(ctx.now);
  const trainer = await lockTrainer(ctx);
  if (!trainer) {
    await client.query(
      `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, waitlist_reason, session_count, start_date)
       VALUES ($1, $2, $3, $4, NULL, 'waitlisted', 'no_trainer_capacity', $5, $6) ON CONFLICT DO NOTHING`,
      [allocationId, purchaseId, studentId, courseId, sessionCount, startDate],
    );
    ctx.log.info({ allocationId }, 'waitlisted: no trainer capacity');
    return 'applied';
  }
  const inserted = await client.query<AllocationRow>(
    `WITH a AS (
       INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date)
       VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7) ON CONFLICT DO NOTHING
       RETURNING *)
     SELECT ${allocationColumns} FROM a JOIN student_course_purchases p ON p.id = a.purchase_id`,
    [allocationId, purchaseId, studentId, courseId, trainer.id, sessionCount, startDate],
  );
  const row = inserted.rows[0];
  if (!row) {
    ctx.onConflict('trainer_allocations_one_live');
    return 'already-done';
  }
  if (ctx.faults.has('allocate-without-lock')) {
    await client.query('UPDATE trainers SET active_allocations = $2 WHERE id = $1', [
      trainer.id,
      trainer.load + 1,
    ]);
  } else {
    await client.query('UPDATE trainers SET active_allocations = active_allocations + 1 WHERE id = $1', [
      trainer.id,
    ]);
  }
  await enqueueEvent(client, trainerAllocatedEvent(row, ctx.faults.has('random-downstream-ids')));
  return 'applied';
};
