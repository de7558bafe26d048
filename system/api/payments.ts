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
import type { Pool } from '../lib/db.ts';
import { constraintOf, isTransient, sqlState } from '../lib/errors.ts';
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

const confirmSql = `
WITH upd AS (
  UPDATE payments SET status = 'succeeded', provider_payment_id = $2, confirmed_at = now()
  WHERE id = $1 AND status = 'pending'
  RETURNING *
), ev AS (
  INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
  SELECT $3::uuid, 'PURCHASE_CONFIRMED', $4, upd.student_id::text, jsonb_build_object(
    'eventId', $3::text,
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
SELECT upd.* FROM upd`;

export function registerPaymentRoutes(app: FastifyInstance, pool: Pool) {
  const dbError = (reply: Parameters<typeof sendError>[0], err: unknown) => {
    if (isTransient(err))
      return sendError(reply, 503, 'database_unavailable', 'the database is unavailable; retry later');
    throw err;
  };

  app.post<{ Body: CreatePaymentRequest }>(
    '/payments',
    { schema: { body: createPaymentBody } },
    async (req, reply) => {
      const key = req.headers[idempotencyHeader];
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
        const r = await pool.query<PaymentRow>(
          `INSERT INTO payments (id, student_id, course_id, amount_cents, currency, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
          [
            randomUUID(),
            body.studentId,
            body.courseId,
            body.amountCents,
            body.currency ?? 'EUR',
            key ?? null,
            hash,
          ],
        );
        row = r.rows[0];
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
        const r = await pool.query<PaymentRow>(confirmSql, [
          id,
          providerPaymentId,
          eventIdFor('PURCHASE_CONFIRMED', id),
          topics.PURCHASE_CONFIRMED,
        ]);
        const updated = r.rows[0];
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
