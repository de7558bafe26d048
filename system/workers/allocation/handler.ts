// PURCHASE_CREATED → trainer_allocations (never over a trainer's capacity) → TRAINER_ALLOCATED,
// a whole chunk in a few statements: one lookup, one trainer lock, one insert, one outbox insert.
import { randomUUID } from 'node:crypto';
import {
  allocationIdFor,
  eventIdFor,
  startDateFor,
  type TrainerAllocatedEvent,
} from '../../contracts/index.ts';
import { AppError } from '../../lib/errors.ts';
import { type ChunkContext, type EventHandler, eventsOfType, type Outcome } from '../../lib/inbox.ts';
import { enqueueEvents, isoTimestamp } from '../../lib/outbox.ts';

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
  created_at: Date | string;
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

interface Trainer {
  id: string;
  /** Allocations the trainer has, plus those this chunk gives it. */
  load: number;
  capacity: number;
  /** The load as read (the planted bug writes it back plus its own, a lost update). */
  read: number;
}

/** Trainers locked per chunk at first: the least loaded few, so concurrent allocators spread. */
const firstLock = 8;

/**
 * Trainers with free capacity, row-locked until commit, enough for `wanted` allocations if the
 * database has them. SKIP LOCKED spreads concurrent allocators over trainers instead of queueing
 * them (and deadlocking) on the least loaded ones. NO KEY UPDATE (what the counter's UPDATE takes
 * anyway), not FOR UPDATE: the foreign-key checks of other transactions inserting sessions or
 * allocations for a trainer take KEY SHARE, which FOR UPDATE would block (and SKIP LOCKED would
 * then skip trainers that are merely referenced).
 */
async function lockTrainers(ctx: ChunkContext, wanted: number): Promise<Trainer[]> {
  const { client } = ctx;
  const lock = ctx.faults.has('allocate-without-lock') ? '' : 'FOR NO KEY UPDATE SKIP LOCKED';
  const held: Trainer[] = [];
  let room = 0;
  for (const limit of [Math.min(wanted, firstLock), wanted]) {
    const r = await client.query<{ id: string; active_allocations: number; capacity: number }>(
      `SELECT id, active_allocations, capacity FROM trainers
       WHERE active_allocations < capacity AND id <> ALL($2::uuid[])
       ORDER BY active_allocations, id LIMIT $1 ${lock}`,
      [limit, held.map((t) => t.id)],
    );
    for (const t of r.rows) {
      held.push({ id: t.id, load: t.active_allocations, capacity: t.capacity, read: t.active_allocations });
      room += t.capacity - t.active_allocations;
    }
    if (room >= wanted || r.rows.length < limit) break;
  }
  return held;
}

/** The locked trainer with the most room left (least loaded first), or undefined when all are full. */
function leastLoaded(trainers: readonly Trainer[]): Trainer | undefined {
  let best: Trainer | undefined;
  for (const t of trainers) if (t.load < t.capacity && (!best || t.load < best.load)) best = t;
  return best;
}

interface Lookup {
  ord: number;
  student_id: string | null;
  course_id: string | null;
  is_active: boolean | null;
  payment_id: string | null;
  session_count: number | null;
  existing: AllocationRow | null;
}

// Per event: the purchase, its course, and any allocation the pair already has.
const lookupSql = `
SELECT i.ord, p.student_id, p.course_id, p.is_active, p.payment_id, c.session_count,
  (SELECT to_jsonb(x) FROM (
     SELECT a.id, a.purchase_id, ap.payment_id, a.trainer_id, a.student_id, a.course_id, a.status,
            a.session_count, to_char(a.start_date, 'YYYY-MM-DD') AS start_date, a.created_at
     FROM trainer_allocations a JOIN student_course_purchases ap ON ap.id = a.purchase_id
     WHERE a.student_id = p.student_id AND a.course_id = p.course_id
       AND a.status IN ('approved', 'active', 'waitlisted')
     LIMIT 1) x) AS existing
FROM unnest($1::int[], $2::uuid[]) AS i(ord, purchase_id)
LEFT JOIN student_course_purchases p ON p.id = i.purchase_id
LEFT JOIN courses c ON c.id = p.course_id
ORDER BY i.ord`;

// The allocations (approved, or waitlisted with a reason) in one statement, and each trainer's
// counter moved by the number of allocations REALLY inserted for it (a conflict inserts nothing).
// With the planted bug allocate-without-lock the counter is the value read without a lock plus
// this chunk's own: a lost update under concurrency.
const insertSql = (withoutLock: boolean) => `
WITH a AS (
  INSERT INTO trainer_allocations
    (id, purchase_id, student_id, course_id, trainer_id, status, waitlist_reason, session_count, start_date)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[],
                       $8::int[], $9::date[])
  ON CONFLICT DO NOTHING
  RETURNING *
), n AS (
  SELECT trainer_id, count(*)::int AS n FROM a WHERE trainer_id IS NOT NULL GROUP BY trainer_id
), t AS (
  UPDATE trainers t SET active_allocations = ${withoutLock ? 'r.read + n.n' : 't.active_allocations + n.n'}
  FROM n JOIN unnest($10::uuid[], $11::int[]) AS r(id, read) ON r.id = n.trainer_id
  WHERE t.id = n.trainer_id
  RETURNING 1
)
SELECT a.id, a.purchase_id, a.trainer_id, a.student_id, a.course_id, a.status, a.session_count,
       to_char(a.start_date, 'YYYY-MM-DD') AS start_date, a.created_at, (SELECT count(*) FROM t) AS bumped
FROM a`;

export const handlePurchaseCreated: EventHandler = async (ctx: ChunkContext, chunk) => {
  const events = eventsOfType(chunk, 'PURCHASE_CREATED');
  const { client } = ctx;
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const randomIds = ctx.faults.has('random-downstream-ids');
  // Planted bug no-allocation-unique: no one-live-allocation guard (the pair is not looked up; the
  // harness drops the index with its owner connection, harness/system/plant.ts).
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const unguarded = ctx.faults.has('no-allocation-unique');
  const lookup = await client.query<Lookup>(lookupSql, [
    events.map((_, i) => i),
    events.map((e) => e.payload.purchaseId),
  ]);
  const outcomes: Outcome[] = events.map(() => 'already-done');
  const announce: TrainerAllocatedEvent[] = [];
  const todo: { i: number; paymentId: string; sessionCount: number }[] = [];
  // What this chunk already allocates (by purchase, and by student and course): a second event for
  // either is done by the first and must not take a trainer's seat from someone else in the chunk.
  const claimed = new Set<string>();
  for (const [i, e] of events.entries()) {
    const { purchaseId, studentId, courseId } = e.payload;
    const p = lookup.rows[i]!;
    if (p.student_id === null) throw new AppError('handler_error', `unknown purchase ${purchaseId}`, false);
    if (p.student_id !== studentId || p.course_id !== courseId)
      throw new AppError('handler_error', `event does not match purchase ${purchaseId}`, false);
    if (!p.is_active) continue;
    if (p.existing && !unguarded) {
      ctx.onConflict('trainer_allocations_one_live');
      if (p.existing.status !== 'waitlisted') announce.push(trainerAllocatedEvent(p.existing, randomIds));
      continue;
    }
    if (p.session_count === null) throw new AppError('handler_error', `unknown course ${courseId}`, false);
    const pair = `${studentId}/${courseId}`;
    if (claimed.has(purchaseId) || (!unguarded && claimed.has(pair))) {
      ctx.onConflict('trainer_allocations_one_live');
      continue;
    }
    claimed.add(purchaseId).add(pair);
    todo.push({ i, paymentId: p.payment_id!, sessionCount: p.session_count });
  }
  if (todo.length > 0) {
    const trainers = await lockTrainers(ctx, todo.length);
    const picked = todo.map(() => {
      const t = leastLoaded(trainers);
      if (t) t.load++;
      return t;
    });
    if (picked.some((t) => !t)) {
      // Every trainer with room is locked by another allocator right now: wait and retry, do not waitlist.
      const room = await client.query(
        'SELECT 1 FROM trainers WHERE active_allocations < capacity AND id <> ALL($1::uuid[]) LIMIT 1',
        [trainers.map((t) => t.id)],
      );
      if ((room.rowCount ?? 0) > 0)
        throw new AppError('capacity_contended', 'every trainer with capacity is being allocated', true);
    }
    const startDate = startDateFor(ctx.now);
    const rows = todo.map(({ i }) => events[i]!.payload);
    // Stryker disable next-line StringLiteral: planted-bug switch, exercised by the planted-bug matrix
    const inserted = await client.query<AllocationRow>(insertSql(ctx.faults.has('allocate-without-lock')), [
      rows.map((e) => allocationIdFor(e.purchaseId)),
      rows.map((e) => e.purchaseId),
      rows.map((e) => e.studentId),
      rows.map((e) => e.courseId),
      picked.map((t) => t?.id ?? null),
      picked.map((t) => (t ? 'approved' : 'waitlisted')),
      picked.map((t) => (t ? null : 'no_trainer_capacity')),
      todo.map((x) => x.sessionCount),
      todo.map(() => startDate),
      trainers.map((t) => t.id),
      trainers.map((t) => t.read),
    ]);
    const byId = new Map(inserted.rows.map((r) => [r.id, r]));
    for (const [k, { i, paymentId }] of todo.entries()) {
      const row = byId.get(allocationIdFor(rows[k]!.purchaseId));
      if (!row) {
        ctx.onConflict('trainer_allocations_one_live');
        continue;
      }
      outcomes[i] = 'applied';
      if (row.status === 'waitlisted') {
        ctx.log.info({ allocationId: row.id, correlationId: paymentId }, 'waitlisted: no trainer capacity');
        // A waitlist entry announces nothing downstream, so nobody else would invalidate the dashboard.
        ctx.invalidateDashboard(row.student_id, 'after-commit');
      } else announce.push(trainerAllocatedEvent({ ...row, payment_id: paymentId }, randomIds));
    }
  }
  // Stryker disable next-line StringLiteral: planted-bug switch, exercised by the planted-bug matrix
  await enqueueEvents(client, announce, ctx.faults.has('bare-outbox-insert'));
  return outcomes;
};
