// Every bad input gets a clear 4xx with a machine-readable code and has no effect; an unreachable
// database is a fast 503, never a hang. Real Postgres and Redis, through the proxies.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let student: string;
let course: string;

beforeAll(async () => {
  const s = await seed(stack.direct.databaseUrl);
  student = s.students[0]!;
  course = s.courses[0]!;
  pool = createPool(stack.databaseUrl, 4, { queryTimeoutMs: 1_500 });
  redis = createRedis(stack.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-test', 'silent') });
  await app.ready();
  direct = new pg.Pool({ connectionString: stack.direct.databaseUrl, max: 2 });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  redis?.disconnect();
  await direct?.end();
});

async function counts() {
  const r = await direct.query(
    'SELECT (SELECT count(*)::int FROM payments) AS payments, (SELECT count(*)::int FROM outbox) AS outbox',
  );
  return r.rows[0] as { payments: number; outbox: number };
}

const json = { 'content-type': 'application/json' };
const good = () => ({ studentId: student, courseId: course, amountCents: 1000 });

describe('POST /payments rejects bad input with a code and no effect', () => {
  const cases: [
    string,
    () => { payload: string | object; headers?: Record<string, string> },
    number,
    string,
  ][] = [
    ['malformed JSON', () => ({ payload: '{"studentId": ' }), 400, 'malformed_json'],
    ['empty body', () => ({ payload: '' }), 400, 'malformed_json'],
    [
      'missing field',
      () => ({ payload: { studentId: student, courseId: course } }),
      400,
      'validation_failed',
    ],
    ['extra field', () => ({ payload: { ...good(), admin: true } }), 400, 'validation_failed'],
    [
      'wrong type (string amount)',
      () => ({ payload: { ...good(), amountCents: '1000' } }),
      400,
      'validation_failed',
    ],
    ['fractional amount', () => ({ payload: { ...good(), amountCents: 10.5 } }), 400, 'validation_failed'],
    ['negative amount', () => ({ payload: { ...good(), amountCents: -5 } }), 400, 'validation_failed'],
    ['zero amount', () => ({ payload: { ...good(), amountCents: 0 } }), 400, 'validation_failed'],
    ['absurd amount', () => ({ payload: { ...good(), amountCents: 1e12 } }), 400, 'validation_failed'],
    ['bad currency', () => ({ payload: { ...good(), currency: 'euro' } }), 400, 'validation_failed'],
    ['invalid uuid', () => ({ payload: { ...good(), studentId: 'abc' } }), 400, 'validation_failed'],
    ['array body', () => ({ payload: '[1,2]' }), 400, 'validation_failed'],
    [
      'oversized body',
      () => ({ payload: JSON.stringify({ ...good(), pad: 'x'.repeat(20_000) }) }),
      413,
      'payload_too_large',
    ],
    [
      'wrong content type',
      () => ({ payload: 'hello', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    ],
    ['unknown student', () => ({ payload: { ...good(), studentId: randomUUID() } }), 404, 'unknown_student'],
    ['unknown course', () => ({ payload: { ...good(), courseId: randomUUID() } }), 404, 'unknown_course'],
    [
      'bad idempotency key',
      () => ({ payload: good(), headers: { ...json, 'idempotency-key': 'has space' } }),
      400,
      'validation_failed',
    ],
  ];
  for (const [name, make, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const before = await counts();
      const { payload, headers } = make();
      const res = await app.inject({ method: 'POST', url: '/payments', headers: headers ?? json, payload });
      expect(res.statusCode).toBe(status);
      expect(res.json()).toMatchObject({ error: { code } });
      expect(await counts()).toEqual(before);
    });
  }
});

describe('idempotency and confirmation rules', () => {
  it('the same Idempotency-Key with the same body answers identically and creates nothing new; a different body is a 422', async () => {
    const key = `key-${randomUUID()}`;
    const first = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, 'idempotency-key': key },
      payload: good(),
    });
    expect(first.statusCode).toBe(201);
    const before = await counts();
    const again = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, 'idempotency-key': key },
      payload: good(),
    });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    const other = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, 'idempotency-key': key },
      payload: { ...good(), amountCents: 2000 },
    });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    expect(await counts()).toEqual(before);
  });

  it('confirm: once emits one event; again with the same providerPaymentId answers the same and emits nothing; conflicts are 409', async () => {
    const created = (
      await app.inject({ method: 'POST', url: '/payments', headers: json, payload: good() })
    ).json();
    const pp = `pp_${randomUUID()}`;
    const before = await counts();
    const ok = await app.inject({
      method: 'POST',
      url: `/payments/${created.id}/confirm`,
      headers: json,
      payload: { providerPaymentId: pp },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'succeeded', providerPaymentId: pp });
    expect((await counts()).outbox).toBe(before.outbox + 1);
    const again = await app.inject({
      method: 'POST',
      url: `/payments/${created.id}/confirm`,
      headers: json,
      payload: { providerPaymentId: pp },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(ok.json());
    const other = await app.inject({
      method: 'POST',
      url: `/payments/${created.id}/confirm`,
      headers: json,
      payload: { providerPaymentId: `pp_${randomUUID()}` },
    });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: { code: 'provider_payment_id_conflict' } });
    const second = (
      await app.inject({ method: 'POST', url: '/payments', headers: json, payload: good() })
    ).json();
    const reuse = await app.inject({
      method: 'POST',
      url: `/payments/${second.id}/confirm`,
      headers: json,
      payload: { providerPaymentId: pp },
    });
    expect(reuse.statusCode).toBe(409);
    expect(reuse.json()).toMatchObject({ error: { code: 'provider_payment_id_in_use' } });
    const row = await direct.query('SELECT status FROM payments WHERE id = $1', [second.id]);
    expect(row.rows[0].status).toBe('pending');
    expect((await counts()).outbox).toBe(before.outbox + 1);
  });

  it('unknown and invalid ids are 404 / 400 with codes', async () => {
    const unknown = await app.inject({
      method: 'POST',
      url: `/payments/${randomUUID()}/confirm`,
      headers: json,
      payload: { providerPaymentId: 'x1' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'payment_not_found' } });
    const invalid = await app.inject({ method: 'GET', url: '/payments/not-a-uuid' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: { code: 'invalid_id' } });
    const dash = await app.inject({ method: 'GET', url: `/students/${randomUUID()}/dashboard` });
    expect(dash.statusCode).toBe(404);
    expect(dash.json()).toMatchObject({ error: { code: 'unknown_student' } });
    const route = await app.inject({ method: 'GET', url: '/nope' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('answers say what is wrong and read back what was written', () => {
  const message = async (res: { json(): unknown }) =>
    (res.json() as { error: { message: string } }).error.message;

  it('each error names the offending id or rule in its message', async () => {
    const [s, c] = [randomUUID(), randomUUID()];
    const post = (payload: object, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/payments', headers: { ...json, ...headers }, payload });
    expect(await message(await post({ ...good(), studentId: s }))).toBe(`no student ${s}`);
    expect(await message(await post({ ...good(), courseId: c }))).toBe(`no course ${c}`);
    expect(await message(await post(good(), { 'idempotency-key': ' ' }))).toBe(
      'Idempotency-Key must be 1-200 printable ASCII characters',
    );
    const key = `k-${randomUUID()}`;
    await post(good(), { 'idempotency-key': key });
    expect(await message(await post({ ...good(), amountCents: 7 }, { 'idempotency-key': key }))).toBe(
      'this Idempotency-Key was used with a different request body',
    );
    const missing = randomUUID();
    const confirm = (id: string, providerPaymentId: string) =>
      app.inject({
        method: 'POST',
        url: `/payments/${id}/confirm`,
        headers: json,
        payload: { providerPaymentId },
      });
    expect(await message(await confirm(missing, 'x'))).toBe(`no payment ${missing}`);
    const a = (await post(good())).json() as { id: string };
    const b = (await post(good())).json() as { id: string };
    const pp = `pp_${randomUUID()}`;
    expect((await confirm(a.id, pp)).statusCode).toBe(200);
    expect(await message(await confirm(a.id, `pp_${randomUUID()}`))).toBe(
      `payment ${a.id} is succeeded with another providerPaymentId`,
    );
    expect(await message(await confirm(b.id, pp))).toBe('this providerPaymentId confirmed another payment');
  });

  it('the currency defaults to EUR, also for the Idempotency-Key comparison; GET /payments/:id reads the payment back', async () => {
    const key = `k-${randomUUID()}`;
    const headers = { ...json, 'idempotency-key': key };
    const first = await app.inject({ method: 'POST', url: '/payments', headers, payload: good() });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ currency: 'EUR', status: 'pending', providerPaymentId: null });
    // The same request with the default spelled out is the same request, not a reuse of the key.
    const explicit = await app.inject({
      method: 'POST',
      url: '/payments',
      headers,
      payload: { ...good(), currency: 'EUR' },
    });
    expect(explicit.statusCode).toBe(201);
    expect(explicit.json()).toEqual(first.json());
    const got = await app.inject({ method: 'GET', url: `/payments/${first.json().id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(first.json());
    const missing = randomUUID();
    const none = await app.inject({ method: 'GET', url: `/payments/${missing}` });
    expect(none.statusCode).toBe(404);
    expect(await message(none)).toBe(`no payment ${missing}`);
  });
});

describe('when Postgres is unreachable', () => {
  it('answers 503 fast (disabled proxy and black hole), never hangs, and works again after heal', async () => {
    const proxyUrl = `${stack.toxiproxyUrl}/proxies/postgres`;
    const proxy = (await (await fetch(proxyUrl)).json()) as { listen: string; upstream: string };
    const setEnabled = (enabled: boolean) =>
      fetch(proxyUrl, { method: 'POST', headers: json, body: JSON.stringify({ ...proxy, enabled }) });
    const pending = (
      await app.inject({ method: 'POST', url: '/payments', headers: json, payload: good() })
    ).json() as { id: string };
    try {
      await setEnabled(false);
      let t0 = performance.now();
      const res = await app.inject({ method: 'POST', url: '/payments', headers: json, payload: good() });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
      });
      expect(performance.now() - t0).toBeLessThan(3_000);
      // A confirmation too: a 503 the client retries, never a 409 or a 500.
      const confirm = await app.inject({
        method: 'POST',
        url: `/payments/${pending.id}/confirm`,
        headers: json,
        payload: { providerPaymentId: `pp_${randomUUID()}` },
      });
      expect(confirm.statusCode).toBe(503);
      expect(confirm.json()).toMatchObject({ error: { code: 'database_unavailable' } });
      await setEnabled(true);

      await fetch(`${proxyUrl}/toxics`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          name: 'blackhole',
          type: 'timeout',
          stream: 'upstream',
          attributes: { timeout: 0 },
        }),
      });
      t0 = performance.now();
      const hung = await app.inject({ method: 'GET', url: `/payments/${randomUUID()}` });
      expect(hung.statusCode).toBe(503);
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      await fetch(`${proxyUrl}/toxics/blackhole`, { method: 'DELETE' }).catch(() => {});
      await setEnabled(true);
    }
    const healed = await app.inject({ method: 'POST', url: '/payments', headers: json, payload: good() });
    expect(healed.statusCode).toBe(201);
  });
});
