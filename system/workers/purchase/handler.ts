// PURCHASE_CONFIRMED → student_course_purchases → PURCHASE_CREATED.
import { randomUUID } from 'node:crypto';
import { eventIdFor, type PurchaseCreatedEvent, purchaseIdFor } from '../../contracts/index.ts';
import { AppError } from '../../lib/errors.ts';
import type { EventContext, EventHandler } from '../../lib/inbox.ts';
import { enqueueEvent, isoTimestamp } from '../../lib/outbox.ts';

interface PurchaseRow {
  id: string;
  payment_id: string;
  student_id: string;
  course_id: string;
  purchase_tier: number;
  created_at: Date;
}

/** The one PURCHASE_CREATED that announces a purchase: identical on every emission. */
export function purchaseCreatedEvent(row: PurchaseRow, randomIds: boolean): PurchaseCreatedEvent {
  return {
    eventId: randomIds ? randomUUID() : eventIdFor('PURCHASE_CREATED', row.id),
    correlationId: row.payment_id,
    causationId: eventIdFor('PURCHASE_CONFIRMED', row.payment_id),
    eventType: 'PURCHASE_CREATED',
    version: 1,
    timestamp: isoTimestamp(row.created_at),
    payload: {
      purchaseId: row.id,
      studentId: row.student_id,
      courseId: row.course_id,
      purchaseTier: row.purchase_tier,
      metadata: { paymentId: row.payment_id },
    },
  };
}

export const handlePurchaseConfirmed: EventHandler = async (ctx: EventContext) => {
  if (ctx.event.eventType !== 'PURCHASE_CONFIRMED')
    throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
  const { paymentId, studentId, courseId } = ctx.event.payload;
  const { client } = ctx;
  if (ctx.faults.has('no-purchase-unique')) {
    // Planted bug: as if the migration that creates the guard had never run on this database.
    await client.query('DROP INDEX IF EXISTS student_course_purchases_one_active');
  }
  // Nothing without its cause: the payment must exist, have succeeded, and match the event. The
  // check and the insert are one statement (one round trip on the common path).
  const r = await client.query<{
    status: string;
    student_id: string;
    course_id: string;
    purchase_tier: number | null;
    inserted: PurchaseRow | null;
  }>(
    `WITH src AS (
       SELECT p.status, p.student_id, p.course_id, c.purchase_tier
       FROM payments p LEFT JOIN courses c ON c.id = p.course_id WHERE p.id = $2
     ), ins AS (
       INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier)
       SELECT $1, $2, $3, $4, src.purchase_tier FROM src
       WHERE src.status = 'succeeded' AND src.student_id = $3 AND src.course_id = $4 AND src.purchase_tier IS NOT NULL
       ON CONFLICT DO NOTHING
       RETURNING id, payment_id, student_id, course_id, purchase_tier, created_at
     )
     SELECT src.status, src.student_id, src.course_id, src.purchase_tier, to_jsonb(ins) AS inserted
     FROM src LEFT JOIN ins ON true`,
    [purchaseIdFor(paymentId), paymentId, studentId, courseId],
  );
  const payment = r.rows[0];
  if (!payment) throw new AppError('handler_error', `unknown payment ${paymentId}`, false);
  if (payment.status !== 'succeeded')
    throw new AppError('handler_error', `payment ${paymentId} is ${payment.status}, not succeeded`, false);
  if (payment.student_id !== studentId || payment.course_id !== courseId) {
    throw new AppError('handler_error', `event does not match payment ${paymentId} (student/course)`, false);
  }
  if (payment.purchase_tier === null)
    throw new AppError('handler_error', `unknown course ${courseId}`, false);
  let row: PurchaseRow | undefined = payment.inserted
    ? { ...payment.inserted, created_at: new Date(payment.inserted.created_at) }
    : undefined;
  let outcome: 'applied' | 'already-done' = 'applied';
  if (!row) {
    // Already done: this payment's purchase exists, or the pair already has an active purchase.
    const existing = await client.query<PurchaseRow>(
      `SELECT id, payment_id, student_id, course_id, purchase_tier, created_at FROM student_course_purchases
       WHERE id = $1 OR (student_id = $2 AND course_id = $3 AND is_active) ORDER BY (id = $1) DESC LIMIT 1`,
      [purchaseIdFor(paymentId), studentId, courseId],
    );
    row = existing.rows[0];
    if (!row)
      throw new AppError('transient_db', `purchase for ${studentId}/${courseId} not visible yet`, true);
    ctx.onConflict('student_course_purchases_one_active');
    outcome = 'already-done';
  }
  // Re-announcing an existing purchase is a no-op (same event id, one outbox row per id).
  await enqueueEvent(client, purchaseCreatedEvent(row, ctx.faults.has('random-downstream-ids')));
  return outcome;
};
