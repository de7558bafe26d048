// PURCHASE_CONFIRMED → student_course_purchases → PURCHASE_CREATED, a whole chunk at a time; a
// payment for a course the student already owns → PAYMENT_REFUND_REQUESTED (never absorbed);
// PAYMENT_REFUND_REQUESTED → refund_requests (one per capture), for the provider to pay back.
import { randomUUID } from 'node:crypto';
import {
  type DomainEvent,
  eventIdFor,
  type PaymentRefundRequestedEvent,
  type PurchaseConfirmedEvent,
  type PurchaseCreatedEvent,
  purchaseIdFor,
  refundIdFor,
} from '../../contracts/index.ts';
import { AppError } from '../../lib/errors.ts';
import { type ChunkContext, type EventHandler, eventsOfType, type Outcome } from '../../lib/inbox.ts';
import { enqueueEvents, isoTimestamp } from '../../lib/outbox.ts';

interface PurchaseRow {
  id: string;
  payment_id: string;
  student_id: string;
  course_id: string;
  purchase_tier: number;
  created_at: Date | string;
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

interface Checked {
  ord: number;
  status: string | null;
  provider_payment_id: string | null;
  amount_cents: string | null;
  currency: string | null;
  confirmed_at: Date | string | null;
  student_id: string | null;
  course_id: string | null;
  purchase_tier: number | null;
  inserted: PurchaseRow | null;
}

// Nothing without its cause: each payment must exist, have succeeded, and match its event. The
// checks and the inserts of the whole chunk are ONE statement. Two events of the chunk for the
// same student and course insert one purchase: ON CONFLICT DO NOTHING also skips a row that
// conflicts with one inserted earlier by the same statement.
const checkAndInsert = `
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[])
    AS i(ord, purchase_id, payment_id, student_id, course_id)
), src AS (
  SELECT i.*, p.status, p.student_id AS p_student, p.course_id AS p_course, c.purchase_tier,
         p.provider_payment_id, p.amount_cents, p.currency::text AS currency, p.confirmed_at
  FROM input i LEFT JOIN payments p ON p.id = i.payment_id LEFT JOIN courses c ON c.id = p.course_id
), ins AS (
  INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier)
  SELECT purchase_id, payment_id, student_id, course_id, purchase_tier FROM src
  WHERE (status = 'succeeded' OR $6::boolean) AND p_student = student_id AND p_course = course_id AND purchase_tier IS NOT NULL
  ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id, payment_id, student_id, course_id, purchase_tier, created_at
)
SELECT src.ord, src.status, src.p_student AS student_id, src.p_course AS course_id, src.purchase_tier,
       src.provider_payment_id, src.amount_cents::text, src.currency, src.confirmed_at, to_jsonb(ins) AS inserted
FROM src LEFT JOIN ins ON ins.id = src.purchase_id ORDER BY src.ord`;

/** Why an event cannot create a purchase, or undefined when it can. */
function refusal(
  e: { payload: { paymentId: string; studentId: string; courseId: string } },
  c: Checked,
  trust: boolean,
) {
  const { paymentId, studentId, courseId } = e.payload;
  if (c.status === null) return `unknown payment ${paymentId}`;
  if (c.status !== 'succeeded' && !trust) return `payment ${paymentId} is ${c.status}, not succeeded`;
  if (c.student_id !== studentId || c.course_id !== courseId)
    return `event does not match payment ${paymentId} (student/course)`;
  if (c.purchase_tier === null) return `unknown course ${courseId}`;
  return undefined;
}

/** The refund of a capture that cannot become a purchase: identical on every emission. */
export function refundRequestedEvent(e: PurchaseConfirmedEvent, c: Checked): PaymentRefundRequestedEvent {
  const refundId = refundIdFor(c.provider_payment_id!);
  return {
    eventId: eventIdFor('PAYMENT_REFUND_REQUESTED', refundId),
    correlationId: e.payload.paymentId,
    causationId: e.eventId,
    eventType: 'PAYMENT_REFUND_REQUESTED',
    version: 1,
    timestamp: isoTimestamp(c.confirmed_at!),
    payload: {
      refundId,
      paymentId: e.payload.paymentId,
      studentId: e.payload.studentId,
      courseId: e.payload.courseId,
      providerPaymentId: c.provider_payment_id!,
      amountCents: Number(c.amount_cents),
      currency: c.currency!,
      reason: 'course_already_owned',
    },
  };
}

/** The purchase worker's group takes two event types: each part of a chunk goes to its handler. */
export const handlePurchaseWorkerChunk: EventHandler = async (ctx, chunk) => {
  const confirmed = chunk.filter((e) => e.eventType === 'PURCHASE_CONFIRMED');
  const refunds = chunk.filter((e) => e.eventType !== 'PURCHASE_CONFIRMED');
  if (refunds.length === 0) return handlePurchaseConfirmed(ctx, confirmed);
  const a = confirmed.length > 0 ? await handlePurchaseConfirmed(ctx, confirmed) : [];
  const b = await handleRefundRequested(ctx, refunds);
  const byEvent = new Map<DomainEvent, Outcome>();
  for (const [i, e] of confirmed.entries()) byEvent.set(e, a[i]!);
  for (const [i, e] of refunds.entries()) byEvent.set(e, b[i]!);
  return chunk.map((e) => byEvent.get(e)!);
};

// A refund request must have its cause: the payment exists, names this student and course, and
// the capture is the provider's (on the payment, or in a signed provider event).
const insertRefunds = `
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::bigint[], $8::text[], $9::text[])
    AS i(ord, refund_id, payment_id, provider_payment_id, student_id, course_id, amount_cents, currency, reason)
), src AS (
  SELECT i.*, p.id IS NOT NULL AND p.student_id = i.student_id AND p.course_id = i.course_id AS matches,
         (p.provider_payment_id = i.provider_payment_id
          OR EXISTS (SELECT 1 FROM provider_events pe WHERE pe.payment_id = i.payment_id
                     AND pe.provider_payment_id = i.provider_payment_id AND pe.type = 'payment_succeeded')) AS captured
  FROM input i LEFT JOIN payments p ON p.id = i.payment_id
), ins AS (
  INSERT INTO refund_requests (id, payment_id, provider_payment_id, student_id, course_id, amount_cents, currency, reason)
  SELECT refund_id, payment_id, provider_payment_id, student_id, course_id, amount_cents, currency, reason
  FROM src WHERE matches AND captured ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING id
)
SELECT src.ord, src.matches, coalesce(src.captured, false) AS captured, ins.id IS NOT NULL AS inserted
FROM src LEFT JOIN ins ON ins.id = src.refund_id ORDER BY src.ord`;

export const handleRefundRequested: EventHandler = async (ctx, chunk) => {
  const events = eventsOfType(chunk, 'PAYMENT_REFUND_REQUESTED');
  const r = await ctx.client.query<{ ord: number; matches: boolean; captured: boolean; inserted: boolean }>(
    insertRefunds,
    [
      events.map((_, i) => i),
      events.map((e) => e.payload.refundId),
      events.map((e) => e.payload.paymentId),
      events.map((e) => e.payload.providerPaymentId),
      events.map((e) => e.payload.studentId),
      events.map((e) => e.payload.courseId),
      events.map((e) => e.payload.amountCents),
      events.map((e) => e.payload.currency),
      events.map((e) => e.payload.reason),
    ],
  );
  const claimed = new Set<string>();
  return events.map((e, i): Outcome => {
    const c = r.rows[i]!;
    if (!c.matches)
      throw new AppError(
        'handler_error',
        `refund ${e.payload.refundId}: no such payment for this student and course`,
        false,
      );
    if (!c.captured)
      throw new AppError(
        'handler_error',
        `refund ${e.payload.refundId}: ${e.payload.providerPaymentId} was never captured`,
        false,
      );
    // The same refund twice in the chunk: the second copy finds the first's row.
    const first = c.inserted && !claimed.has(e.payload.refundId);
    claimed.add(e.payload.refundId);
    return first ? 'applied' : 'already-done';
  });
};

export const handlePurchaseConfirmed: EventHandler = async (ctx: ChunkContext, chunk) => {
  const events = eventsOfType(chunk, 'PURCHASE_CONFIRMED');
  const { client } = ctx;
  const refunds = new Map<number, PaymentRefundRequestedEvent>();
  // Planted bug trust-event: the event is believed, the payment's status is not checked.
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const trust = ctx.faults.has('trust-event');
  // Planted bug no-purchase-unique: the harness drops the one-active-purchase index with its owner
  // connection (harness/system/plant.ts), as if the migration had never run on this database.
  const r = await client.query<Checked>(checkAndInsert, [
    events.map((_, i) => i),
    events.map((e) => purchaseIdFor(e.payload.paymentId)),
    events.map((e) => e.payload.paymentId),
    events.map((e) => e.payload.studentId),
    events.map((e) => e.payload.courseId),
    trust,
  ]);
  const rows: (PurchaseRow | undefined)[] = [];
  const outcomes: Outcome[] = [];
  const missing: number[] = [];
  for (const [i, e] of events.entries()) {
    const c = r.rows[i]!;
    const why = refusal(e, c, trust);
    if (why) throw new AppError('handler_error', why, false);
    // The same payment twice in the chunk: the second copy finds the first's purchase.
    const inserted = c.inserted && !rows.some((x) => x?.id === c.inserted!.id) ? c.inserted : undefined;
    rows.push(inserted);
    outcomes.push(inserted ? 'applied' : 'already-done');
    if (!inserted) missing.push(i);
  }
  if (missing.length > 0) {
    // Already done: this payment's purchase exists, or the pair already has an active purchase
    // (inserted earlier, or by another event of this chunk).
    const existing = await client.query<PurchaseRow & { ord: number }>(
      `SELECT DISTINCT ON (i.ord) i.ord, p.id, p.payment_id, p.student_id, p.course_id, p.purchase_tier, p.created_at
       FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::uuid[]) AS i(ord, purchase_id, student_id, course_id)
       JOIN student_course_purchases p
         ON p.id = i.purchase_id OR (p.student_id = i.student_id AND p.course_id = i.course_id AND p.is_active)
       ORDER BY i.ord, (p.id = i.purchase_id) DESC`,
      [
        missing,
        missing.map((i) => purchaseIdFor(events[i]!.payload.paymentId)),
        missing.map((i) => events[i]!.payload.studentId),
        missing.map((i) => events[i]!.payload.courseId),
      ],
    );
    const found = new Map(existing.rows.map((x) => [x.ord, x]));
    for (const i of missing) {
      const row = found.get(i);
      if (!row) {
        const { studentId, courseId } = events[i]!.payload;
        throw new AppError('transient_db', `purchase for ${studentId}/${courseId} not visible yet`, true);
      }
      rows[i] = row;
      ctx.onConflict('student_course_purchases_one_active');
      // Another payment already bought this course: this capture is paid back, not absorbed.
      // Planted bug absorb-repeat-capture: the money is kept and nothing is asked of the provider.
      // Stryker disable next-line StringLiteral: planted-bug switch, exercised by the planted-bug matrix
      if (row.payment_id !== events[i]!.payload.paymentId && !ctx.faults.has('absorb-repeat-capture'))
        refunds.set(i, refundRequestedEvent(events[i]!, r.rows[i]!));
    }
  }
  // Re-announcing an existing purchase is a no-op (same event id, one outbox row per id).
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const randomIds = ctx.faults.has('random-downstream-ids');
  const announced = rows.map((row) => purchaseCreatedEvent(row!, randomIds));
  // Stryker disable all: planted bug (PAYPROOF_FAULTS), off in production; proven by the planted-bug matrix
  // Planted bug wrong-causation: the purchase names its payment (the correlation id), not the
  // PURCHASE_CONFIRMED that caused it, as its cause.
  if (ctx.faults.has('wrong-causation'))
    announced.forEach((e, i) => {
      announced[i] = { ...e, causationId: e.correlationId };
    });
  // Stryker restore all
  // In event order: each event's announcement, then its refund request if any.
  await enqueueEvents(
    client,
    announced.flatMap((e, i) => {
      const refund = refunds.get(i);
      return refund ? [e, refund] : [e];
    }),
    // Planted bug bare-outbox-insert: re-announcing an existing purchase (a second payment for a
    // course the student owns) throws a unique violation instead of being a no-op.
    // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
    ctx.faults.has('bare-outbox-insert'),
  );
  return outcomes;
};
