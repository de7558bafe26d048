// The payment API (system/api/payments.ts) seen from outside, on real PostgreSQL and Redis: the
// reason and message of each refused webhook signature and its counter, the confirmation counters,
// the webhook's own content-type parser, an Idempotency-Key reused for another course, and the
// route's refusal of a bad batch-slot count. Written for the mutation score (issue 12): each case
// fails on mutants the other API tests let through.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { providerEvent, signedWebhook } from '../../harness/lib/provider.ts';
import { tokenFor } from '../../harness/lib/tokens.ts';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import { registerPaymentRoutes } from '../../system/api/payments.ts';
import type { PaymentView } from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { sum } from '../support/metric-sum.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let auth: Record<string, string>;
let courses: string[];

beforeAll(async () => {
  const s = await seed(stack.direct.databaseUrl);
  courses = s.courses;
  auth = { authorization: `Bearer ${await tokenFor(s.students[7]!)}` };
  pool = createPool(stack.databaseUrl, 4, { queryTimeoutMs: 1_500 });
  redis = createRedis(stack.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-observed', 'silent') });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  redis?.disconnect();
});

const json = { 'content-type': 'application/json' };

async function create(courseId = courses[0]!, headers: Record<string, string> = {}): Promise<PaymentView> {
  const res = await app.inject({
    method: 'POST',
    url: '/payments',
    headers: { ...json, ...auth, ...headers },
    payload: { courseId },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('the provider webhook, observed', () => {
  it('names why a signature is refused, and counts each refusal by its reason', async () => {
    const p = await create();
    const w = signedWebhook(providerEvent(p));
    const cases: [string, Record<string, string>, string, string?][] = [
      ['missing', {}, 'no payproof-signature header'],
      [
        'malformed',
        { 'payproof-signature': 'v1=zz' },
        'payproof-signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>',
      ],
      [
        'stale',
        signedWebhook(w.json, { clockSkewS: -600 }).headers,
        'the signature timestamp is outside the tolerance window (replayed or clock skew)',
      ],
      ['mismatch', w.headers, 'the signature does not match the body', w.body.replace('"type"', '"type" ')],
    ];
    for (const [reason, headers, message, body] of cases) {
      const before = await sum(metrics.webhookRefused, { reason });
      const res = await app.inject({
        method: 'POST',
        url: w.path,
        headers: { ...json, ...headers },
        payload: body ?? w.body,
      });
      expect(res.statusCode, reason).toBe(401);
      expect(res.json(), reason).toMatchObject({ error: { code: 'invalid_signature', message } });
      expect(await sum(metrics.webhookRefused, { reason }), reason).toBe(before + 1);
    }
  });

  it('counts a confirmation once: the webhook outcome and the PURCHASE_CONFIRMED emitted; a repeat emits nothing', async () => {
    const p = await create(courses[1]!);
    const w = signedWebhook(providerEvent(p));
    const emitted = () => sum(metrics.eventsEmitted, { type: 'PURCHASE_CONFIRMED' });
    const confirmed = () => sum(metrics.webhookEvents, { outcome: 'confirmed' });
    const [e0, c0] = [await emitted(), await confirmed()];
    const ok = await app.inject({
      method: 'POST',
      url: w.path,
      headers: { ...json, ...w.headers },
      payload: w.body,
    });
    expect(ok.json()).toMatchObject({ outcome: 'confirmed' });
    expect([await emitted(), await confirmed()]).toEqual([e0 + 1, c0 + 1]);
    const again = await app.inject({
      method: 'POST',
      url: w.path,
      headers: { ...json, ...w.headers },
      payload: w.body,
    });
    expect(again.statusCode).toBe(200);
    expect(await emitted()).toBe(e0 + 1);
  });

  it('takes JSON only: another content type is a 415, not parsed by the default parser', async () => {
    const p = await create(courses[2]!);
    const w = signedWebhook(providerEvent(p));
    const res = await app.inject({
      method: 'POST',
      url: w.path,
      headers: { ...w.headers, 'content-type': 'text/plain' },
      payload: w.body,
    });
    expect(res.statusCode, res.body).toBe(415);
  });
});

describe('POST /payments, observed', () => {
  it('an Idempotency-Key reused for another course is a 422', async () => {
    const key = `k-${randomUUID()}`;
    const first = await create(courses[3]!, { 'idempotency-key': key });
    const again = await create(courses[3]!, { 'idempotency-key': key });
    expect(again.id).toBe(first.id);
    const other = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, ...auth, 'idempotency-key': key },
      payload: { courseId: courses[4]! },
    });
    expect(other.statusCode, other.body).toBe(422);
    expect(other.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });

  it('refuses a batch-slot count that is not a positive integer', () => {
    for (const batchSlots of [0, 1.5, -1])
      expect(() =>
        registerPaymentRoutes(Fastify(), { pool, faults: new Set(), batchSlots } as unknown as Parameters<
          typeof registerPaymentRoutes
        >[1]),
      ).toThrow(new RangeError(`batch slots ${batchSlots}`));
  });
});
