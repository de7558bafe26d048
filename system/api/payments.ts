// Payment routes. Students create and read their own payments (bearer token); the payment provider
// confirms them with a signed webhook (docs/payments.md). Applying a provider event is ONE
// statement: the event's record, the status change and the outbox event commit together or not
// at all, and nothing else (no Kafka, no Redis) is on the path.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  type CreatePaymentRequest,
  eventIdFor,
  idempotencyHeader,
  type PaymentView,
  type ProviderWebhook,
  refundIdFor,
  signatureHeader,
  topics,
  type WebhookAnswer,
  type WebhookOutcome,
} from '../contracts/index.ts';
import { Batcher, settleEach } from '../lib/batcher.ts';
import type { Pool } from '../lib/db.ts';
import { constraintOf, isTransient, sqlState } from '../lib/errors.ts';
import type { FaultSet } from '../lib/faults.ts';
import { metrics } from '../lib/metrics.ts';
import type { Secrets } from '../lib/secrets.ts';
import type { Authenticator } from './auth.ts';
import { sendError } from './errors.ts';
import { createPaymentBody, idempotencyKeyPattern, providerWebhookBody, uuidParam } from './schemas.ts';
import { verifySignature } from './signature.ts';

interface PaymentRow {
  id: string;
  student_id: string;
  course_id: string;
  amount_cents: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed' | 'flagged';
  provider_payment_id: string | null;
  idempotency_key: string | null;
  created_at: Date;
  confirmed_at: Date | null;
}

function view(row: PaymentRow): PaymentView {
  return {
    id: row.id,
    studentId: row.student_id,
    courseId: row.course_id,
    amountCents: row.amount_cents,
    currency: row.currency,
    status: row.status,
    providerPaymentId: row.provider_payment_id,
    createdAt: row.created_at.toISOString(),
    confirmedAt: row.confirmed_at ? row.confirmed_at.toISOString() : null,
  };
}

/** The answer to a create: the payment as it was created, so a retried create answers identically. */
function creationView(row: PaymentRow): PaymentView {
  return { ...view(row), status: 'pending', providerPaymentId: null, confirmedAt: null };
}

/**
 * Whether a create repeats the one that made `row` (same Idempotency-Key): the same course, and the
 * amount and currency, where the client sent them, equal to the payment's (which are the course's
 * price: an omitted amount and the price spelled out are the same request, as the checker judges).
 */
function sameRequest(row: PaymentRow, body: CreatePaymentRequest, studentId: string): boolean {
  return (
    row.student_id === studentId &&
    row.course_id === body.courseId &&
    (body.amountCents === undefined || Number(row.amount_cents) === body.amountCents) &&
    (body.currency === undefined || row.currency.trim() === body.currency)
  );
}

const paymentColumns = [
  'id',
  'student_id',
  'course_id',
  'amount_cents',
  'currency',
  'status',
  'provider_payment_id',
  'idempotency_key',
  'created_at',
  'confirmed_at',
];

// One webhook event per payment per batch (a second event for the same payment waits for the next
// round), so every event sees the payment as the previous one left it. The statement records each
// new provider event with its outcome, applies it (pending → succeeded / failed / flagged), writes
// PURCHASE_CONFIRMED for a confirmation and PAYMENT_REFUND_REQUESTED for money that cannot become a
// purchase, all in one commit. FOR UPDATE serialises two deliveries of events for one payment; an
// event id seen before inserts nothing and is answered from provider_events.
export const webhookBatchSql = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::uuid[], $8::uuid[], $9::uuid[])
    AS i(event_id, payment_id, type, provider_payment_id, amount_cents, currency, confirm_event_id, refund_id, refund_event_id)
), cur AS (
  SELECT i.*, p.status, p.amount_cents AS p_amount, p.currency::text AS p_currency, p.provider_payment_id AS p_ppid,
         p.student_id, p.course_id,
         EXISTS (SELECT 1 FROM payments o WHERE o.provider_payment_id = i.provider_payment_id AND o.id <> i.payment_id)
           AS capture_of_another
  FROM input i JOIN payments p ON p.id = i.payment_id
  -- A scalar subquery, not NOT EXISTS: an anti-join lets the planner hash the whole of
  -- provider_events (a sequential scan per webhook while its statistics are stale, measured at
  -- 4 ms of a 4.4 ms statement with 3,000 rows); this is one primary-key probe per event.
  WHERE (SELECT pe.id FROM provider_events pe WHERE pe.id = i.event_id) IS NULL
  FOR UPDATE OF p
), decided AS (
  SELECT cur.*, CASE
    WHEN capture_of_another THEN 'rejected_capture_of_another_payment'
    WHEN type = 'payment_failed' AND status = 'pending' THEN 'failed'
    WHEN type = 'payment_failed' THEN 'ignored_' || status
    WHEN status = 'pending' AND ($11::boolean OR (amount_cents = p_amount AND currency = p_currency)) THEN 'confirmed'
    WHEN status = 'pending' THEN 'flagged_amount_mismatch'
    WHEN status = 'succeeded' AND provider_payment_id = p_ppid THEN 'already_confirmed'
    WHEN status = 'succeeded' THEN 'refund_duplicate_capture'
    ELSE 'refund_captured_after_failure'
  END AS outcome FROM cur
), rec AS (
  INSERT INTO provider_events (id, payment_id, type, provider_payment_id, amount_cents, currency, outcome)
  SELECT event_id, payment_id, type, provider_payment_id, amount_cents, currency, outcome FROM decided
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), applied AS (
  SELECT d.* FROM decided d JOIN rec ON rec.id = d.event_id
), upd AS (
  UPDATE payments p SET
    status = CASE a.outcome WHEN 'confirmed' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'flagged' END,
    provider_payment_id = CASE WHEN a.outcome = 'confirmed' THEN a.provider_payment_id END,
    confirmed_at = CASE WHEN a.outcome = 'confirmed' THEN now() END,
    failure_reason = CASE a.outcome WHEN 'failed' THEN 'provider_failed' WHEN 'flagged_amount_mismatch' THEN 'amount_mismatch' END
  FROM applied a
  WHERE p.id = a.payment_id AND a.outcome IN ('confirmed', 'failed', 'flagged_amount_mismatch')
  RETURNING p.*, a.confirm_event_id
), confirmed AS (
  INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
  SELECT upd.confirm_event_id, 'PURCHASE_CONFIRMED', $10, upd.student_id::text, jsonb_build_object(
    'eventId', upd.confirm_event_id::text,
    'correlationId', upd.id::text,
    'causationId', NULL,
    'eventType', 'PURCHASE_CONFIRMED',
    'version', 1,
    'timestamp', to_char(upd.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'payload', jsonb_build_object(
      'paymentId', upd.id::text, 'studentId', upd.student_id::text, 'courseId', upd.course_id::text,
      'amountCents', upd.amount_cents, 'metadata', jsonb_build_object('currency', upd.currency::text)))
  FROM upd WHERE upd.status = 'succeeded'
  RETURNING 1
), refunds AS (
  INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
  SELECT a.refund_event_id, 'PAYMENT_REFUND_REQUESTED', $12, a.student_id::text, jsonb_build_object(
    'eventId', a.refund_event_id::text,
    'correlationId', a.payment_id::text,
    'causationId', NULL,
    'eventType', 'PAYMENT_REFUND_REQUESTED',
    'version', 1,
    'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'payload', jsonb_build_object(
      'refundId', a.refund_id::text, 'paymentId', a.payment_id::text, 'studentId', a.student_id::text,
      'courseId', a.course_id::text, 'providerPaymentId', a.provider_payment_id, 'amountCents', a.amount_cents,
      'currency', a.currency,
      'reason', CASE a.outcome WHEN 'flagged_amount_mismatch' THEN 'amount_mismatch'
                WHEN 'refund_duplicate_capture' THEN 'duplicate_capture' ELSE 'captured_after_failure' END))
  FROM applied a
  WHERE a.outcome IN ('flagged_amount_mismatch', 'refund_duplicate_capture', 'refund_captured_after_failure')
  ON CONFLICT (event_id) DO NOTHING
  RETURNING 1
)
SELECT a.event_id, a.outcome, ${paymentColumns.map((c) => `u.${c}`).join(', ')}
FROM applied a LEFT JOIN upd u ON u.id = a.payment_id`;

/**
 * The stored answer of events the batch did not change a payment for (a redelivery, an event
 * recorded by a concurrent batch, an outcome that leaves the payment as it was). LATERAL with LIMIT
 * keeps it a primary-key probe per event whatever the statistics say (a join was planned as a
 * sequential scan of provider_events).
 */
const storedOutcomesSql = `SELECT pe.id AS event_id, pe.outcome, ${paymentColumns.map((c) => `p.${c}`).join(', ')}
FROM unnest($1::text[]) AS i(id)
CROSS JOIN LATERAL (SELECT * FROM provider_events e WHERE e.id = i.id LIMIT 1) pe
JOIN payments p ON p.id = pe.payment_id`;

// Creation, of one payment or a batch: one statement; the amount and currency are the course's.
// A key used twice by one student inserts once. A client-sent amount or currency that is not the
// course's inserts nothing (the caller answers 422).
const createBatchSql = `INSERT INTO payments (id, student_id, course_id, amount_cents, currency, idempotency_key)
SELECT i.id, i.student_id, i.course_id, CASE WHEN $8::boolean THEN coalesce(i.amount, c.price_cents) ELSE c.price_cents END,
       coalesce(i.currency, c.currency), i.key
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::int[])
  AS i(id, student_id, course_id, amount, currency, key, ord)
JOIN courses c ON c.id = i.course_id
WHERE $8::boolean OR ((i.amount IS NULL OR i.amount = c.price_cents) AND (i.currency IS NULL OR i.currency = c.currency::text))
ORDER BY i.ord
ON CONFLICT (student_id, idempotency_key) DO NOTHING RETURNING *`;

interface NewPayment {
  readonly id: string;
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number | null;
  readonly currency: string | null;
  readonly key: string | null;
}

/** A LEFT JOIN's missing side: every column null. */
type NullRow<T> = { [K in keyof T]: null };

type WebhookResult = { readonly outcome: WebhookOutcome; readonly row: PaymentRow } | undefined;

/** Splits items so that no key appears twice in a round; rounds keep the arrival order. */
export function roundsByKey<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const rounds: T[][] = [];
  const seen: Set<string>[] = [];
  for (const item of items) {
    const k = key(item);
    let r = 0;
    while (seen[r]?.has(k)) r++;
    if (!rounds[r]) {
      rounds[r] = [];
      seen[r] = new Set();
    }
    rounds[r]!.push(item);
    seen[r]!.add(k);
  }
  return rounds;
}

/** Concurrent webhooks and creates ride together while the pool is busy (system/lib/batcher.ts). */
function paymentBatchers(pool: Pool, slots: number, spreadMs: number | undefined, faults: FaultSet) {
  const opts = { slots, maxBatch: 64, spreadMs };
  // Planted bug trust-client-amount: the amount the client sent is the price, and the provider's
  // captured amount is not compared with the payment's.
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const trustAmount = faults.has('trust-client-amount');
  const runRound = async (ev: readonly ProviderWebhook[]): Promise<[string, WebhookResult][]> => {
    const refundIds = ev.map((e) => refundIdFor(e.data.providerPaymentId));
    const r = await pool.query<
      (PaymentRow | NullRow<PaymentRow>) & { event_id: string; outcome: WebhookOutcome }
    >(webhookBatchSql, [
      ev.map((e) => e.id),
      ev.map((e) => e.data.paymentId),
      ev.map((e) => e.type),
      ev.map((e) => e.data.providerPaymentId),
      ev.map((e) => e.data.amountCents),
      ev.map((e) => e.data.currency),
      ev.map((e) => eventIdFor('PURCHASE_CONFIRMED', e.data.paymentId)),
      refundIds,
      refundIds.map((id) => eventIdFor('PAYMENT_REFUND_REQUESTED', id)),
      topics.PURCHASE_CONFIRMED,
      trustAmount,
      topics.PAYMENT_REFUND_REQUESTED,
    ]);
    const answers: [string, WebhookResult][] = [];
    for (const x of r.rows) {
      metrics.webhookEvents.inc({ outcome: x.outcome });
      // The payment as this statement left it, where it changed it (the usual case: a capture).
      if (x.id !== null) {
        answers.push([x.event_id, { outcome: x.outcome, row: x as PaymentRow }]);
        // Its PURCHASE_CONFIRMED was written by this statement: counted here, once. A repeat of the
        // provider event is answered from the record below and writes nothing (issue 12: it was
        // counted again on every repeat).
        if (x.outcome === 'confirmed') metrics.eventsEmitted.inc({ type: 'PURCHASE_CONFIRMED' });
      }
    }
    if (answers.length === ev.length) return answers;
    const answered = new Set(answers.map(([id]) => id));
    const stored = await pool.query<PaymentRow & { event_id: string; outcome: WebhookOutcome }>(
      storedOutcomesSql,
      [ev.map((e) => e.id).filter((id) => !answered.has(id))],
    );
    for (const x of stored.rows) answers.push([x.event_id, { outcome: x.outcome, row: x }]);
    return answers;
  };
  const webhookAll = async (all: readonly ProviderWebhook[]) => {
    const answers = new Map<string, WebhookResult>();
    for (const round of roundsByKey(all, (e) => e.data.paymentId)) {
      for (const [k, v] of await runRound(round)) answers.set(k, v);
    }
    return all.map((e) => answers.get(e.id));
  };
  const webhooks = new Batcher<ProviderWebhook, WebhookResult>(
    (items) => settleEach(items, webhookAll, async (e) => (await webhookAll([e]))[0], isTransient),
    opts,
  );
  const createAll = async (all: readonly NewPayment[]) => {
    const r = await pool.query<PaymentRow>(createBatchSql, [
      all.map((p) => p.id),
      all.map((p) => p.studentId),
      all.map((p) => p.courseId),
      all.map((p) => p.amountCents),
      all.map((p) => p.currency),
      all.map((p) => p.key),
      all.map((_, i) => i),
      trustAmount,
    ]);
    const byId = new Map(r.rows.map((x) => [x.id, x]));
    return all.map((p) => byId.get(p.id));
  };
  const creates = new Batcher<NewPayment, PaymentRow | undefined>(
    (items) => settleEach(items, createAll, async (p) => (await createAll([p]))[0], isTransient),
    opts,
  );
  return { webhooks, creates };
}

// Stryker disable all: planted bug (PAYPROOF_FAULTS), off in production; proven by the planted-bug matrix
/** Planted bug confirm-two-transactions: the event of a pending payment, on its own. */
const confirmEventFirstSql = `
INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
SELECT $2::uuid, 'PURCHASE_CONFIRMED', $3, p.student_id::text, jsonb_build_object(
  'eventId', $2::text, 'correlationId', p.id::text, 'causationId', NULL,
  'eventType', 'PURCHASE_CONFIRMED', 'version', 1,
  'timestamp', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'payload', jsonb_build_object(
    'paymentId', p.id::text, 'studentId', p.student_id::text, 'courseId', p.course_id::text,
    'amountCents', p.amount_cents, 'metadata', jsonb_build_object('currency', p.currency::text)))
FROM payments p WHERE p.id = $1 AND p.status = 'pending'
ON CONFLICT (event_id) DO NOTHING`;
const confirmStatusOnlySql = `UPDATE payments SET status = 'succeeded', provider_payment_id = $2, confirmed_at = now()
WHERE id = $1 AND status = 'pending' RETURNING *`;

/** Planted bug confirm-two-transactions: the event committed first, the status in a second transaction. */
async function confirmInTwoTransactions(pool: Pool, e: ProviderWebhook): Promise<WebhookResult> {
  const id = e.data.paymentId;
  await pool.query(confirmEventFirstSql, [
    id,
    eventIdFor('PURCHASE_CONFIRMED', id),
    topics.PURCHASE_CONFIRMED,
  ]);
  const row = (await pool.query<PaymentRow>(confirmStatusOnlySql, [id, e.data.providerPaymentId])).rows[0];
  if (row) metrics.eventsEmitted.inc({ type: 'PURCHASE_CONFIRMED' });
  return row ? { outcome: 'confirmed', row } : undefined;
}
// Stryker restore all

export interface PaymentRouteDeps {
  readonly pool: Pool;
  readonly batchSlots: number;
  /** BatcherOptions.spreadMs of the creates' and the confirmations' batchers (absent or 0: none). */
  readonly batchSpreadMs?: number;
  readonly faults: FaultSet;
  readonly secrets: Secrets;
  readonly auth: Authenticator;
  /** Webhooks signed longer ago (or later) than this are refused as stale. */
  readonly webhookToleranceS: number;
}

/** Largest webhook body accepted (a provider event is a few hundred bytes). */
export const webhookBodyLimitBytes = 8 * 1024;

export function registerPaymentRoutes(app: FastifyInstance, deps: PaymentRouteDeps) {
  const { pool, faults, batchSlots } = deps;
  if (!Number.isInteger(batchSlots) || batchSlots < 1) throw new RangeError(`batch slots ${batchSlots}`);
  const { webhooks, creates } = paymentBatchers(pool, batchSlots, deps.batchSpreadMs, faults);
  // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
  const ownershipChecked = !faults.has('no-ownership-check');
  const dbError = (reply: Parameters<typeof sendError>[0], err: unknown) => {
    if (isTransient(err))
      return sendError(reply, 503, 'database_unavailable', 'the database is unavailable; retry later');
    throw err;
  };

  app.post<{ Body: CreatePaymentRequest }>(
    '/payments',
    { schema: { body: createPaymentBody }, onRequest: deps.auth.hook, config: { rateLimit: {} } },
    async (req, reply) => {
      const principal = req.principal!;
      const body = req.body;
      // Stryker disable next-line LogicalOperator: planted-bug switch, exercised by the planted-bug matrix
      const studentId = ownershipChecked ? principal : (body.studentId ?? principal);
      if (body.studentId !== undefined && body.studentId !== studentId)
        return sendError(reply, 403, 'forbidden', 'a student creates payments only for themselves');
      // Planted bug ignore-idempotency-key: the header is not read, so a retried create pays twice.
      // Stryker disable next-line StringLiteral: planted-bug switch, exercised by the planted-bug matrix
      const key = faults.has('ignore-idempotency-key') ? undefined : req.headers[idempotencyHeader];
      if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) {
        return sendError(
          reply,
          400,
          'validation_failed',
          'Idempotency-Key must be 1-200 printable ASCII characters',
        );
      }
      let row: PaymentRow | undefined;
      try {
        row = await creates.submit({
          id: randomUUID(),
          studentId,
          courseId: body.courseId,
          amountCents: body.amountCents ?? null,
          currency: body.currency ?? null,
          key: key ?? null,
        });
        if (!row && key) {
          const existing = await pool.query<PaymentRow>(
            'SELECT * FROM payments WHERE student_id = $1 AND idempotency_key = $2',
            [studentId, key],
          );
          row = existing.rows[0];
          if (row && !sameRequest(row, body, studentId)) {
            return sendError(
              reply,
              422,
              'idempotency_key_reused',
              'this Idempotency-Key was used with a different request body',
            );
          }
        }
        if (!row) {
          const course = (
            await pool.query<{ price_cents: string; currency: string }>(
              'SELECT price_cents, currency FROM courses WHERE id = $1',
              [body.courseId],
            )
          ).rows[0];
          if (!course) return sendError(reply, 404, 'unknown_course', `no course ${body.courseId}`);
          return sendError(
            reply,
            422,
            'amount_mismatch',
            `course ${body.courseId} costs ${course.price_cents} ${course.currency}; omit amountCents or send the price`,
          );
        }
      } catch (err) {
        if (sqlState(err) === '23503') {
          return constraintOf(err) === 'payments_student_id_fkey'
            ? sendError(reply, 404, 'unknown_student', `no student ${studentId}`)
            : sendError(reply, 404, 'unknown_course', `no course ${body.courseId}`);
        }
        return dbError(reply, err);
      }
      return reply.code(201).send(creationView(row));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/payments/:id',
    { schema: { params: uuidParam }, onRequest: deps.auth.hook, config: { rateLimit: {} } },
    async (req, reply) => {
      try {
        const r = await pool.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [req.params.id]);
        const row = r.rows[0];
        // Another student's payment is answered as if it did not exist: no way to probe ids.
        if (!row || (ownershipChecked && row.student_id !== req.principal))
          return sendError(reply, 404, 'payment_not_found', `no payment ${req.params.id}`);
        return view(row);
      } catch (err) {
        return dbError(reply, err);
      }
    },
  );

  // The provider's webhook: its own body parser keeps the raw bytes, because the signature is over
  // them; nothing is parsed before the signature is valid.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: webhookBodyLimitBytes },
      (req, raw: Buffer, done) => {
        // Stryker disable next-line StringLiteral: planted-bug switch, exercised by the planted-bug matrix
        const verdict = faults.has('skip-signature-check')
          ? ({ ok: true, timestamp: 0 } as const)
          : verifySignature(
              req.headers[signatureHeader],
              raw,
              deps.secrets.webhookSecrets,
              Math.floor(Date.now() / 1000),
              deps.webhookToleranceS,
            );
        if (!verdict.ok) {
          metrics.webhookRefused.inc({ reason: verdict.reason });
          done(new SignatureError(verdict.reason), undefined);
          return;
        }
        try {
          done(null, JSON.parse(raw.toString('utf8')));
        } catch (err) {
          (err as { statusCode?: number }).statusCode = 400;
          done(err as Error, undefined);
        }
      },
    );
    scope.post<{ Body: ProviderWebhook }>(
      '/webhooks/provider',
      { schema: { body: providerWebhookBody } },
      async (req, reply) => {
        const event = req.body;
        try {
          const result =
            // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
            faults.has('confirm-two-transactions') && event.type === 'payment_succeeded'
              ? await confirmInTwoTransactions(pool, event)
              : await webhooks.submit(event);
          if (!result) {
            return sendError(reply, 404, 'payment_not_found', `no payment ${event.data.paymentId}`);
          }
          if (result.outcome === 'rejected_capture_of_another_payment')
            return sendError(
              reply,
              409,
              'provider_payment_id_in_use',
              `${event.data.providerPaymentId} is the capture of another payment`,
            );
          return reply.code(200).send({
            ...view(result.row),
            providerEventId: event.id,
            outcome: result.outcome,
          } satisfies WebhookAnswer);
        } catch (err) {
          if (sqlState(err) === '23505' && constraintOf(err) === 'payments_provider_payment_id_key') {
            return sendError(
              reply,
              409,
              'provider_payment_id_in_use',
              'this providerPaymentId confirmed another payment',
            );
          }
          return dbError(reply, err);
        }
      },
    );
  });
}

/** A webhook whose signature is missing, malformed, stale or wrong: 401 invalid_signature. */
export class SignatureError extends Error {
  readonly statusCode = 401;
  readonly code = 'PAYPROOF_INVALID_SIGNATURE';
  readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch';
  constructor(reason: 'missing' | 'malformed' | 'stale' | 'mismatch') {
    super(
      {
        missing: `no ${signatureHeader} header`,
        malformed: `${signatureHeader} must be t=<unix seconds>,v1=<hex HMAC-SHA256>`,
        stale: 'the signature timestamp is outside the tolerance window (replayed or clock skew)',
        mismatch: 'the signature does not match the body',
      }[reason],
    );
    this.reason = reason;
  }
}
