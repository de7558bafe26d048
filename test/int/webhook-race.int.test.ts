// The provider webhook when another confirmation of the same capture is in flight (issue 12, the
// survivors at payments.ts 511-516): two API instances, or two batches of one, each confirming a
// different payment with one providerPaymentId. The batch statement's "capture of another payment"
// check reads committed rows only, so the second writer meets the first's uncommitted
// provider_payment_id in the unique index, waits for it, and gets 23505 when it commits: answered
// 409 provider_payment_id_in_use, nothing written. If the first rolls back, the second confirms.
// The first writer is this test's own transaction (what another instance's statement does), so
// the interleaving is forced, not hoped for: the webhook is answered only after the test has seen
// its backend wait for that transaction's lock.
// Also: a payment_failed webhook counts no PURCHASE_CONFIRMED emitted (payments.ts 264), and the
// 403 for a payment created for another student says why (372).
// On a scratch database of its own: the "other writer" confirms a payment without its outbox row
// (only the unique index matters here), a half-done payment that the checkers of the tests sharing
// the stack's database would rightly flag (the kafka-e2e property did, in a CI rehearsal).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { providerEvent, signedWebhook } from '../../harness/lib/provider.ts';
import { tokenFor } from '../../harness/lib/tokens.ts';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import type { PaymentView, ProviderWebhook } from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { sum } from '../support/metric-sum.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let dbs: { create(): Promise<ScratchDatabase>; close(): Promise<void> };
let student: string;
let other: string;
let course: string;
let dbUrl: string;
let auth: Record<string, string>;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  const db = await dbs.create();
  dbUrl = db.url;
  const s = await seed(db.url, { students: 2, courses: 1 });
  student = s.students[0]!;
  other = s.students[1]!;
  course = s.courses[0]!;
  auth = { authorization: `Bearer ${await tokenFor(student)}` };
  // The webhook's statement waits on the test's transaction: a timeout well above that wait.
  pool = createPool(db.url, 4, { queryTimeoutMs: 15_000 });
  redis = createRedis(stack.direct.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-test', 'silent') });
  await app.ready();
  direct = new pg.Pool({ connectionString: db.url, max: 3 });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  redis?.disconnect();
  await direct?.end();
  await dbs?.close();
});

const json = { 'content-type': 'application/json' };

async function create(): Promise<PaymentView> {
  const res = await app.inject({
    method: 'POST',
    url: '/payments',
    headers: { ...json, ...auth },
    payload: { courseId: course },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

function deliver(event: ProviderWebhook) {
  const w = signedWebhook(event);
  return app.inject({ method: 'POST', url: w.path, headers: { ...json, ...w.headers }, payload: w.body });
}

/** Waits until a backend is blocked by `blocker` (the webhook's statement, on the unique index). */
async function untilBlockedBy(blocker: number, timeoutMs = 10_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const r = await direct.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
      [blocker],
    );
    if (r.rows[0].n > 0) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`no backend waited for ${blocker}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function state(paymentId: string, eventId: string) {
  const r = await direct.query(
    `SELECT p.status, p.provider_payment_id,
            (SELECT count(*)::int FROM outbox o WHERE o.envelope->>'correlationId' = p.id::text) AS outbox,
            (SELECT count(*)::int FROM provider_events e WHERE e.id = $2) AS recorded
     FROM payments p WHERE p.id = $1`,
    [paymentId, eventId],
  );
  return r.rows[0] as {
    status: string;
    provider_payment_id: string | null;
    outbox: number;
    recorded: number;
  };
}

/**
 * Another writer confirms `first` with `capture` in a transaction left open, the webhook for
 * `second` with the same capture is sent, and once its statement waits on that transaction, `end`
 * (COMMIT or ROLLBACK) ends it. Returns the webhook's answer.
 */
async function race(first: PaymentView, second: ProviderWebhook, end: 'COMMIT' | 'ROLLBACK') {
  const other = await direct.connect();
  try {
    const pid = (await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await other.query('BEGIN');
    await other.query(
      `UPDATE payments SET status = 'succeeded', provider_payment_id = $2, confirmed_at = now() WHERE id = $1`,
      [first.id, second.data.providerPaymentId],
    );
    const answer = deliver(second);
    await untilBlockedBy(pid);
    await other.query(end);
    return await answer;
  } finally {
    other.release();
  }
}

describe('two confirmations of one capture in flight at once', () => {
  it('the second waits for the first; the first commits: 409 provider_payment_id_in_use, nothing written for the second', async () => {
    const [a, b] = [await create(), await create()];
    const capture = `pi_${randomUUID()}`;
    const event = providerEvent(b, { providerPaymentId: capture });
    const res = await race(a, event, 'COMMIT');
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toEqual({
      error: {
        code: 'provider_payment_id_in_use',
        message: 'this providerPaymentId confirmed another payment',
      },
    });
    // The whole statement rolled back: the payment, its provider event's record and its outbox row.
    expect(await state(b.id, event.id)).toEqual({
      status: 'pending',
      provider_payment_id: null,
      outbox: 0,
      recorded: 0,
    });
    expect((await state(a.id, event.id)).provider_payment_id).toBe(capture);
    // Delivered again once the first is committed, the ordinary check answers (the same 409 code).
    const again = await deliver(event);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'provider_payment_id_in_use' } });
  });

  it('the first rolls back: the second, which waited, confirms its payment', async () => {
    const [a, b] = [await create(), await create()];
    const event = providerEvent(b, { providerPaymentId: `pi_${randomUUID()}` });
    const res = await race(a, event, 'ROLLBACK');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: b.id, status: 'succeeded', outcome: 'confirmed' });
    expect(await state(b.id, event.id)).toMatchObject({ status: 'succeeded', outbox: 1, recorded: 1 });
    expect((await state(a.id, event.id)).status).toBe('pending');
  });
});

describe('what the webhook counts and says', () => {
  it('a payment_failed webhook fails the payment and counts no PURCHASE_CONFIRMED emitted', async () => {
    const p = await create();
    const emitted = () => sum(metrics.eventsEmitted, { type: 'PURCHASE_CONFIRMED' });
    const failed = () => sum(metrics.webhookEvents, { outcome: 'failed' });
    const [e0, f0] = [await emitted(), await failed()];
    const res = await deliver(providerEvent(p, { type: 'payment_failed' }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', outcome: 'failed' });
    expect([await emitted(), await failed()]).toEqual([e0, f0 + 1]);
  });

  it('a payment created for another student is refused with 403 and why', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, ...auth },
      payload: { studentId: other, courseId: course },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      error: { code: 'forbidden', message: 'a student creates payments only for themselves' },
    });
  });
});

describe('a database error that retrying cannot fix (payments.ts dbError)', () => {
  it('is answered 500, not 503 database_unavailable: a retry would only meet it again', async () => {
    // Every new payment breaks a check constraint (SQLSTATE 23514): not transient.
    await direct.query('ALTER TABLE payments ADD CONSTRAINT refuse_every_payment CHECK (false) NOT VALID');
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/payments',
        headers: { ...json, ...auth },
        payload: { courseId: course },
      });
      expect(res.statusCode, res.body).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
      expect(res.headers['retry-after']).toBeUndefined();
    } finally {
      await direct.query('ALTER TABLE payments DROP CONSTRAINT refuse_every_payment');
    }
    // The constraint gone, the same request goes through.
    await create();
  });
});

describe('the course deleted while its payment is created (payments.ts, the course foreign key)', () => {
  it('is answered 404 unknown_course, and nothing is written', async () => {
    const gone = randomUUID();
    await direct.query(
      `INSERT INTO courses (id, title, session_count, purchase_tier) VALUES ($1, 'vanishing', 4, 1)`,
      [gone],
    );
    // After the insert read the course (its price), before its foreign-key check: a row trigger
    // deletes the course in a transaction of its own, committed at once through dblink.
    await direct.query('CREATE EXTENSION IF NOT EXISTS dblink');
    await direct.query(
      `CREATE FUNCTION delete_course() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN PERFORM dblink_exec(${pg.escapeLiteral(dbUrl)}, format('DELETE FROM courses WHERE id = %L', NEW.course_id)); RETURN NEW; END $f$`,
    );
    await direct.query(
      'CREATE TRIGGER vanish BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION delete_course()',
    );
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/payments',
        headers: { ...json, ...auth },
        payload: { courseId: gone },
      });
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'unknown_course', message: `no course ${gone}` } });
      expect((await direct.query('SELECT 1 FROM payments WHERE course_id = $1', [gone])).rowCount).toBe(0);
      expect((await direct.query('SELECT 1 FROM courses WHERE id = $1', [gone])).rowCount).toBe(0);
    } finally {
      await direct.query('DROP TRIGGER vanish ON payments');
      await direct.query('DROP FUNCTION delete_course()');
    }
    // The trigger gone, a payment for a course that exists goes through.
    await create();
  });
});
