// Payment routes. Confirmation is ONE statement: the status change and the outbox event commit
// together or not at all, and nothing else (no Kafka, no Redis) is on the path.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  type CreatePaymentRequest,
  eventIdFor,
  idempotencyHeader,
  type PaymentView,
  topics,
} from '../contracts/index.ts';
import { Batcher, settleEach } from '../lib/batcher.ts';
import type { Pool } from '../lib/db.ts';
import { constraintOf, isTransient, sqlState } from '../lib/errors.ts';
import type { FaultSet } from '../lib/faults.ts';
import { metrics } from '../lib/metrics.ts';
import { sendError } from './errors.ts';
import { confirmPaymentBody, createPaymentBody, idempotencyKeyPattern, uuidParam } from './schemas.ts';

interface PaymentRow {
  id: string;
  student_id: string;
  course_id: string;
  amount_cents: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  provider_payment_id: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
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

function requestHash(body: CreatePaymentRequest): string {
  const canonical = JSON.stringify([body.studentId, body.courseId, body.amountCents, body.currency ?? 'EUR']);
  return createHash('sha256').update(canonical).digest('hex');
}

// Confirmation: the status change and the outbox event commit together or not at all, for one
// payment or for a batch of them (group commit: one statement, one commit).
// A payment named twice in a batch is updated once; the request whose providerPaymentId is the one
// written gets the row, the other finds the payment already confirmed, as it would one at a time.
const confirmBatchSql = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS i(id, provider_payment_id, event_id)
), upd AS (
  UPDATE payments p SET status = 'succeeded', provider_payment_id = i.provider_payment_id, confirmed_at = now()
  FROM input i WHERE p.id = i.id AND p.status = 'pending'
  RETURNING p.*, i.event_id
), ev AS (
  INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
  SELECT upd.event_id, 'PURCHASE_CONFIRMED', $4, upd.student_id::text, jsonb_build_object(
    'eventId', upd.event_id::text,
    'correlationId', upd.id::text,
    'causationId', NULL,
    'eventType', 'PURCHASE_CONFIRMED',
    'version', 1,
    'timestamp', to_char(upd.confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'payload', jsonb_build_object(
      'paymentId', upd.id::text, 'studentId', upd.student_id::text, 'courseId', upd.course_id::text,
      'amountCents', upd.amount_cents, 'metadata', jsonb_build_object('currency', upd.currency::text)))
  FROM upd
  RETURNING 1
)
SELECT id, student_id, course_id, amount_cents, currency, status, provider_payment_id, idempotency_key,
       request_hash, created_at, confirmed_at FROM upd`;

// Creation, of one payment or a batch: one statement; a key used twice in a batch inserts once.
const createBatchSql = `INSERT INTO payments (id, student_id, course_id, amount_cents, currency, idempotency_key, request_hash)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[])
ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`;

interface NewPayment {
  readonly id: string;
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly key: string | null;
  readonly hash: string;
}

/** Concurrent confirmations and creates ride together while the pool is busy (system/lib/batcher.ts). */
function paymentBatchers(pool: Pool, slots: number) {
  const opts = { slots, maxBatch: 64 };
  type Confirm = { id: string; providerPaymentId: string };
  const confirmAll = async (all: readonly Confirm[]) => {
    const r = await pool.query<PaymentRow>(confirmBatchSql, [
      all.map((c) => c.id),
      all.map((c) => c.providerPaymentId),
      all.map((c) => eventIdFor('PURCHASE_CONFIRMED', c.id)),
      topics.PURCHASE_CONFIRMED,
    ]);
    // The row answers the request whose providerPaymentId it holds (a payment named twice is updated once).
    const written = new Map(r.rows.map((x) => [`${x.id} ${x.provider_payment_id}`, x]));
    return all.map((c) => written.get(`${c.id} ${c.providerPaymentId}`));
  };
  const confirms = new Batcher<Confirm, PaymentRow | undefined>(
    (items) => settleEach(items, confirmAll, async (c) => (await confirmAll([c]))[0], isTransient),
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
      all.map((p) => p.hash),
    ]);
    const byId = new Map(r.rows.map((x) => [x.id, x]));
    return all.map((p) => byId.get(p.id));
  };
  const creates = new Batcher<NewPayment, PaymentRow | undefined>(
    (items) => settleEach(items, createAll, async (p) => (await createAll([p]))[0], isTransient),
    opts,
  );
  return { confirms, creates };
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
async function confirmInTwoTransactions(pool: Pool, id: string, providerPaymentId: string) {
  await pool.query(confirmEventFirstSql, [
    id,
    eventIdFor('PURCHASE_CONFIRMED', id),
    topics.PURCHASE_CONFIRMED,
  ]);
  return (await pool.query<PaymentRow>(confirmStatusOnlySql, [id, providerPaymentId])).rows[0];
}
// Stryker restore all

export function registerPaymentRoutes(
  app: FastifyInstance,
  pool: Pool,
  batchSlots = 4,
  faults: FaultSet = new Set(),
) {
  if (!Number.isInteger(batchSlots) || batchSlots < 1) throw new RangeError(`batch slots ${batchSlots}`);
  const { confirms, creates } = paymentBatchers(pool, batchSlots);
  const dbError = (reply: Parameters<typeof sendError>[0], err: unknown) => {
    if (isTransient(err))
      return sendError(reply, 503, 'database_unavailable', 'the database is unavailable; retry later');
    throw err;
  };

  app.post<{ Body: CreatePaymentRequest }>(
    '/payments',
    { schema: { body: createPaymentBody } },
    async (req, reply) => {
      // Planted bug ignore-idempotency-key: the header is not read, so a retried create pays twice.
      const key = faults.has('ignore-idempotency-key') ? undefined : req.headers[idempotencyHeader];
      if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key))) {
        return sendError(
          reply,
          400,
          'validation_failed',
          'Idempotency-Key must be 1-200 printable ASCII characters',
        );
      }
      const body = req.body;
      const hash = requestHash(body);
      let row: PaymentRow | undefined;
      try {
        row = await creates.submit({
          id: randomUUID(),
          studentId: body.studentId,
          courseId: body.courseId,
          amountCents: body.amountCents,
          currency: body.currency ?? 'EUR',
          key: key ?? null,
          hash,
        });
        if (!row && key) {
          const existing = await pool.query<PaymentRow>('SELECT * FROM payments WHERE idempotency_key = $1', [
            key,
          ]);
          row = existing.rows[0];
          if (row && row.request_hash !== hash) {
            return sendError(
              reply,
              422,
              'idempotency_key_reused',
              'this Idempotency-Key was used with a different request body',
            );
          }
        }
      } catch (err) {
        if (sqlState(err) === '23503') {
          return constraintOf(err) === 'payments_student_id_fkey'
            ? sendError(reply, 404, 'unknown_student', `no student ${body.studentId}`)
            : sendError(reply, 404, 'unknown_course', `no course ${body.courseId}`);
        }
        return dbError(reply, err);
      }
      if (!row)
        return sendError(reply, 503, 'database_unavailable', 'the payment could not be read back; retry');
      return reply.code(201).send(creationView(row));
    },
  );

  app.post<{ Params: { id: string }; Body: { providerPaymentId: string } }>(
    '/payments/:id/confirm',
    { schema: { params: uuidParam, body: confirmPaymentBody } },
    async (req, reply) => {
      const { id } = req.params;
      const { providerPaymentId } = req.body;
      try {
        const updated = faults.has('confirm-two-transactions')
          ? await confirmInTwoTransactions(pool, id, providerPaymentId)
          : await confirms.submit({ id, providerPaymentId });
        if (updated) {
          metrics.eventsEmitted.inc({ type: 'PURCHASE_CONFIRMED' });
          return reply.code(200).send(view(updated));
        }
        const current = (await pool.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id])).rows[0];
        if (!current) return sendError(reply, 404, 'payment_not_found', `no payment ${id}`);
        if (current.status === 'succeeded' && current.provider_payment_id === providerPaymentId)
          return reply.code(200).send(view(current));
        return sendError(
          reply,
          409,
          'provider_payment_id_conflict',
          `payment ${id} is ${current.status} with another providerPaymentId`,
        );
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

  app.get<{ Params: { id: string } }>(
    '/payments/:id',
    { schema: { params: uuidParam } },
    async (req, reply) => {
      try {
        const r = await pool.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [req.params.id]);
        const row = r.rows[0];
        if (!row) return sendError(reply, 404, 'payment_not_found', `no payment ${req.params.id}`);
        return view(row);
      } catch (err) {
        return dbError(reply, err);
      }
    },
  );
}
