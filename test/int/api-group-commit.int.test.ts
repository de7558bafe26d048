// Concurrent creates and provider webhooks ride together in one statement when the API is busy
// (group commit, system/lib/batcher.ts), and every request still gets the answer it would have had
// alone: a redelivered provider event answers the same, a second capture of a payment is refunded,
// a stolen providerPaymentId is refused, a retried create with the same Idempotency-Key is one
// payment, an unknown student is a 404 that sinks no one else.
// Real PostgreSQL and Redis; one batch slot, so that requests queue and batch for sure.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { providerEvent, signedWebhook } from '../../harness/lib/provider.ts';
import { TokenBook } from '../../harness/lib/tokens.ts';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import type { ProviderWebhook } from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let students: string[];
let course: string;
/** Statements the API's pool ran: to show that batches happened. */
let statements = 0;

beforeAll(async () => {
  const s = await seed(stack.direct.databaseUrl, { students: 40 });
  // (students 0-19 pay twice: a create and a confirm in two tests, with distinct payments)
  students = s.students;
  course = s.courses[0]!;
  pool = createPool(stack.direct.databaseUrl, 2);
  const query = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { query: unknown }).query = (...a: unknown[]) => {
    statements++;
    return query(...a);
  };
  redis = createRedis(stack.direct.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-test', 'silent'), paymentBatchSlots: 1 });
  await app.ready();
  direct = new pg.Pool({ connectionString: stack.direct.databaseUrl, max: 2 });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  redis?.disconnect();
  await direct?.end();
});

const json = { 'content-type': 'application/json' };
const tokens = new TokenBook();

async function create(studentId: string, key?: string) {
  return app.inject({
    method: 'POST',
    url: '/payments',
    headers: {
      ...json,
      authorization: await tokens.bearerFor(studentId),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    payload: { courseId: course },
  });
}

/** One provider event per (payment, capture): a second call for the same pair is its redelivery. */
const events = new Map<string, ProviderWebhook>();

async function confirm(id: string, providerPaymentId: string) {
  const key = `${id} ${providerPaymentId}`;
  if (!events.has(key))
    events.set(key, providerEvent({ id, amountCents: 4900, currency: 'EUR' }, { providerPaymentId }));
  const w = signedWebhook(events.get(key)!);
  return app.inject({ method: 'POST', url: w.path, headers: { ...json, ...w.headers }, payload: w.body });
}

describe('group commit keeps every answer a lone request would get', () => {
  it('creates: 30 at once take fewer statements than requests', async () => {
    const before = statements;
    const answers = await Promise.all(students.slice(0, 30).map((s) => create(s)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(30).fill(201));
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(30);
    expect(statements - before).toBeLessThan(30);
  });

  it('creates in one batch: a key used twice is one payment; an unknown student is a 404 that sinks no one else', async () => {
    const key = `k-${randomUUID()}`;
    const ghost = randomUUID();
    const answers = await Promise.all([
      ...students.slice(0, 8).map((s) => create(s)),
      create(students[30]!, key),
      create(students[30]!, key),
      create(ghost),
    ]);
    const codes = answers.map((a) => a.statusCode);
    expect(codes).toEqual([...Array(10).fill(201), 404]);
    expect(answers[10]!.json()).toMatchObject({ error: { code: 'unknown_student' } });
    expect(answers[8]!.json().id).toBe(answers[9]!.json().id);
    const ids = answers.slice(0, 10).map((a) => a.json().id as string);
    const rows = await direct.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM payments WHERE id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows.rows[0]!.n).toBe(9);
  });

  it('webhooks: 16 at once take fewer statements than two per request, each writing its event', async () => {
    const made = await Promise.all(students.slice(20, 36).map((s) => create(s)));
    const ids = made.map((m) => m.json().id as string);
    const before = statements;
    const answers = await Promise.all(ids.map((id) => confirm(id, `pp-${id}`)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(16).fill(200));
    expect(answers.map((a) => a.json().status)).toEqual(Array(16).fill('succeeded'));
    expect(statements - before).toBeLessThan(32);
    const events = await direct.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE event_type = 'PURCHASE_CONFIRMED'
         AND envelope->'payload'->>'paymentId' = ANY($1::text[])`,
      [ids],
    );
    expect(events.rows[0]!.n).toBe(16);
  });

  it('webhooks in one batch: two captures of one payment, one confirms and the other is refunded, without any fallback', async () => {
    const made = await Promise.all(students.slice(36, 40).map((s) => create(s)));
    const ids = made.map((m) => m.json().id as string);
    const before = statements;
    // The first runs alone (its slot is free); the others arrive while it runs and batch together.
    const answers = await Promise.all([
      confirm(ids[0]!, `pp-${ids[0]}`),
      confirm(ids[1]!, `pp-a-${ids[1]}`),
      confirm(ids[1]!, `pp-b-${ids[1]}`),
      confirm(ids[2]!, `pp-${ids[2]}`),
      confirm(ids[3]!, `pp-${ids[3]}`),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const outcomes = [answers[1]!.json().outcome, answers[2]!.json().outcome].sort();
    expect(outcomes).toEqual(['confirmed', 'refund_duplicate_capture']);
    const winner = answers[1]!.json().outcome === 'confirmed' ? `pp-a-${ids[1]}` : `pp-b-${ids[1]}`;
    const loser = winner === `pp-a-${ids[1]}` ? `pp-b-${ids[1]}` : `pp-a-${ids[1]}`;
    const row = await direct.query<{ provider_payment_id: string }>(
      'SELECT provider_payment_id FROM payments WHERE id = $1',
      [ids[1]],
    );
    expect(row.rows[0]!.provider_payment_id).toBe(winner);
    const refund = await direct.query<{ ppid: string }>(
      `SELECT envelope->'payload'->>'providerPaymentId' AS ppid FROM outbox
        WHERE event_type = 'PAYMENT_REFUND_REQUESTED' AND envelope->>'correlationId' = $1`,
      [ids[1]],
    );
    expect(refund.rows).toEqual([{ ppid: loser }]);
    // Two batches (the lone first one, then the rest in two rounds: one event per payment per
    // round), two statements each: fewer than two per request alone would take.
    expect(statements - before).toBeLessThan(10);
  });

  it('webhooks in one batch: a redelivered event answers the same; another capture of a payment being confirmed is refunded; a stolen providerPaymentId is a 409 for exactly one payment', async () => {
    const made = await Promise.all(students.slice(0, 20).map((s) => create(s)));
    const ids = made.map((m) => m.json().id as string);
    const stolen = `pp-${randomUUID()}`;
    const answers = await Promise.all([
      ...ids.slice(0, 18).map((id) => confirm(id, `pp-${id}`)),
      confirm(ids[0]!, `pp-${ids[0]}`),
      confirm(ids[18]!, stolen),
      confirm(ids[19]!, stolen),
      // The same payment with another providerPaymentId, in the same batch as its first confirmation.
      confirm(ids[1]!, `pp-other-${ids[1]}`),
    ]);
    const codes = answers.map((a) => a.statusCode);
    expect(codes.slice(0, 19)).toEqual(Array(19).fill(200));
    expect(answers[18]!.json()).toEqual(answers[0]!.json());
    expect([codes[19], codes[20]].sort()).toEqual([200, 409]);
    expect(codes[21]).toBe(200);
    expect(answers[21]!.json()).toMatchObject({ outcome: 'refund_duplicate_capture', status: 'succeeded' });
    expect(answers[1]!.json().providerPaymentId).toBe(`pp-${ids[1]}`);
    const events = await direct.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE event_type = 'PURCHASE_CONFIRMED'
         AND envelope->'payload'->>'paymentId' = ANY($1::text[])`,
      [ids],
    );
    expect(events.rows[0]!.n).toBe(19);
    const succeeded = await direct.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM payments WHERE id = ANY($1::uuid[]) AND status = 'succeeded'",
      [ids],
    );
    expect(succeeded.rows[0]!.n).toBe(19);
  });
});
