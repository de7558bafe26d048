// Every bad input gets a clear 4xx with a machine-readable code and has no effect: malformed and
// oversized bodies, schema violations, a missing, forged or expired token, another student's
// data, forged, stale, tampered or replayed webhooks, amounts that are not the price. An
// unreachable database is a fast 503, never a hang. Real Postgres and Redis, through the proxies.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { providerEvent, signedWebhook } from '../../harness/lib/provider.ts';
import { tokenFor } from '../../harness/lib/tokens.ts';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import type { PaymentView } from '../../system/contracts/index.ts';
import { devSecrets, signatureHeaderValue } from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { expirePending } from '../../system/relay/expiry.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let student: string;
let other: string;
let course: string;
let auth: Record<string, string>;
let otherAuth: Record<string, string>;

beforeAll(async () => {
  const s = await seed(stack.direct.databaseUrl);
  student = s.students[0]!;
  other = s.students[1]!;
  course = s.courses[0]!;
  auth = { authorization: `Bearer ${await tokenFor(student)}` };
  otherAuth = { authorization: `Bearer ${await tokenFor(other)}` };
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
    `SELECT (SELECT count(*)::int FROM payments) AS payments, (SELECT count(*)::int FROM outbox) AS outbox,
            (SELECT count(*)::int FROM provider_events) AS provider_events,
            (SELECT count(*)::int FROM payments WHERE status <> 'pending') AS decided`,
  );
  return r.rows[0] as { payments: number; outbox: number; provider_events: number; decided: number };
}

const json = { 'content-type': 'application/json' };
/** The course's price (the seed's default). */
const price = 4900;
const good = () => ({ studentId: student, courseId: course });

async function create(
  headers: Record<string, string> = auth,
  payload: object = good(),
): Promise<PaymentView> {
  const res = await app.inject({
    method: 'POST',
    url: '/payments',
    headers: { ...json, ...headers },
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function webhook(w: { path: string; body: string; headers: Record<string, string> }, body?: string) {
  return app.inject({
    method: 'POST',
    url: w.path,
    headers: { ...json, ...w.headers },
    payload: body ?? w.body,
  });
}

describe('POST /payments rejects bad input with a code and no effect', () => {
  const cases: [
    string,
    () => Promise<{ payload: string | object; headers?: Record<string, string> }>,
    number,
    string,
  ][] = [
    ['malformed JSON', async () => ({ payload: '{"studentId": ' }), 400, 'malformed_json'],
    ['empty body', async () => ({ payload: '' }), 400, 'malformed_json'],
    ['missing course', async () => ({ payload: { studentId: student } }), 400, 'validation_failed'],
    ['extra field', async () => ({ payload: { ...good(), admin: true } }), 400, 'validation_failed'],
    [
      'wrong type (string amount)',
      async () => ({ payload: { ...good(), amountCents: '4900' } }),
      400,
      'validation_failed',
    ],
    ['negative amount', async () => ({ payload: { ...good(), amountCents: -5 } }), 400, 'validation_failed'],
    ['absurd amount', async () => ({ payload: { ...good(), amountCents: 1e12 } }), 400, 'validation_failed'],
    ['bad currency', async () => ({ payload: { ...good(), currency: 'euro' } }), 400, 'validation_failed'],
    ['invalid uuid', async () => ({ payload: { ...good(), courseId: 'abc' } }), 400, 'validation_failed'],
    ['array body', async () => ({ payload: '[1,2]' }), 400, 'validation_failed'],
    [
      'oversized body',
      async () => ({ payload: JSON.stringify({ ...good(), pad: 'x'.repeat(20_000) }) }),
      413,
      'payload_too_large',
    ],
    [
      'wrong content type',
      async () => ({ payload: 'hello', headers: { ...auth, 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    ],
    [
      'an amount that is not the price (1 cent)',
      async () => ({ payload: { ...good(), amountCents: 1 } }),
      422,
      'amount_mismatch',
    ],
    [
      'a currency that is not the course’s',
      async () => ({ payload: { ...good(), currency: 'USD' } }),
      422,
      'amount_mismatch',
    ],
    ["another student's id", async () => ({ payload: { ...good(), studentId: other } }), 403, 'forbidden'],
    [
      'a valid token for a student that does not exist',
      async () => ({
        payload: { courseId: course },
        headers: { ...json, authorization: `Bearer ${await tokenFor(randomUUID())}` },
      }),
      404,
      'unknown_student',
    ],
    [
      'unknown course',
      async () => ({ payload: { ...good(), courseId: randomUUID() } }),
      404,
      'unknown_course',
    ],
    [
      'bad idempotency key',
      async () => ({ payload: good(), headers: { ...json, ...auth, 'idempotency-key': 'has space' } }),
      400,
      'validation_failed',
    ],
    ['no token', async () => ({ payload: good(), headers: json }), 401, 'unauthenticated'],
    [
      'not a bearer JWT',
      async () => ({ payload: good(), headers: { ...json, authorization: 'Basic YWxhZGRpbjpvcGVu' } }),
      401,
      'unauthenticated',
    ],
    [
      'a token signed with another key',
      async () => ({
        payload: good(),
        headers: {
          ...json,
          authorization: `Bearer ${await tokenFor(student, { secret: 'an-attacker-key-that-is-long-enough-0123456789' })}`,
        },
      }),
      401,
      'invalid_token',
    ],
    [
      'an expired token',
      async () => ({
        payload: good(),
        headers: {
          ...json,
          authorization: `Bearer ${await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(student)
            .setIssuer(devSecrets.issuer)
            .setAudience(devSecrets.audience)
            .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
            .sign(new TextEncoder().encode(devSecrets.jwtSecret))}`,
        },
      }),
      401,
      'invalid_token',
    ],
    [
      'a token with alg none',
      async () => ({
        payload: good(),
        headers: {
          ...json,
          authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
            JSON.stringify({ sub: student, iss: devSecrets.issuer, aud: devSecrets.audience, exp: 9e9 }),
          ).toString('base64url')}.x`,
        },
      }),
      401,
      'invalid_token',
    ],
  ];
  for (const [name, make, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const before = await counts();
      const { payload, headers } = await make();
      const res = await app.inject({
        method: 'POST',
        url: '/payments',
        headers: headers ?? { ...json, ...auth },
        payload,
      });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ error: { code } });
      expect(await counts()).toEqual(before);
    });
  }
});

describe('prices, idempotency keys and ownership', () => {
  it('the amount is the course price; the price may be sent and must match', async () => {
    expect((await create()).amountCents).toBe(price);
    expect((await create(auth, { ...good(), amountCents: price, currency: 'EUR' })).amountCents).toBe(price);
  });

  it('the same Idempotency-Key with the same body answers identically; a different body is a 422; another student may use the same key', async () => {
    const key = `key-${randomUUID()}`;
    const first = await create({ ...auth, 'idempotency-key': key });
    const before = await counts();
    const again = await create({ ...auth, 'idempotency-key': key });
    expect(again).toEqual(first);
    const changed = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, ...auth, 'idempotency-key': key },
      payload: { ...good(), currency: 'USD' },
    });
    expect(changed.statusCode).toBe(422);
    expect(changed.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    expect(await counts()).toEqual(before);
    // Keys are scoped to the student: the same key from another student is another payment.
    const theirs = await create({ ...otherAuth, 'idempotency-key': key }, { courseId: course });
    expect(theirs.id).not.toBe(first.id);
    expect(theirs.studentId).toBe(other);
  });

  it("a student reads only their own payments and dashboard: another's are 404 / 403", async () => {
    const mine = await create();
    const own = await app.inject({ method: 'GET', url: `/payments/${mine.id}`, headers: auth });
    expect(own.statusCode).toBe(200);
    const theirs = await app.inject({ method: 'GET', url: `/payments/${mine.id}`, headers: otherAuth });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ error: { code: 'payment_not_found' } });
    const dash = await app.inject({
      method: 'GET',
      url: `/students/${student}/dashboard`,
      headers: otherAuth,
    });
    expect(dash.statusCode).toBe(403);
    expect(dash.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(JSON.stringify(dash.json())).not.toContain(mine.id);
    const anonymous = await app.inject({ method: 'GET', url: `/students/${student}/dashboard` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('operational endpoints answer loopback only (or ADMIN_TOKEN)', async () => {
    const local = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    for (const url of ['/metrics', '/healthz', '/readyz']) {
      const remote = await app.inject({ method: 'GET', url, remoteAddress: '203.0.113.7' });
      expect(remote.statusCode, url).toBe(403);
    }
  });

  it('a rate limit per student: a clear 429 with Retry-After, and other students are not affected', async () => {
    const limited = buildApp({ pool, redis, log: createLogger('api-test', 'silent'), rateLimitPerMinute: 2 });
    try {
      const get = (h: Record<string, string>) =>
        limited.inject({ method: 'GET', url: `/payments/${randomUUID()}`, headers: h });
      expect((await get(auth)).statusCode).toBe(404);
      expect((await get(auth)).statusCode).toBe(404);
      const refused = await get(auth);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await get(otherAuth)).statusCode).toBe(404);
    } finally {
      await limited.close();
    }
  });
});

describe('the provider webhook', () => {
  it('confirms once: one event; the same event again answers the same and changes nothing', async () => {
    const p = await create();
    const event = providerEvent(p);
    const before = await counts();
    const ok = await webhook(signedWebhook(event));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      status: 'succeeded',
      providerPaymentId: event.data.providerPaymentId,
      outcome: 'confirmed',
      providerEventId: event.id,
    });
    expect((await counts()).outbox).toBe(before.outbox + 1);
    const mid = await counts();
    const again = await webhook(signedWebhook(event));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(ok.json());
    expect(await counts()).toEqual(mid);
    // The same capture under a new event id (a provider's resend): already confirmed, no effect.
    const resend = await webhook(signedWebhook({ ...event, id: `evt_${randomUUID()}` }));
    expect(resend.json()).toMatchObject({ outcome: 'already_confirmed', status: 'succeeded' });
    expect((await counts()).outbox).toBe(mid.outbox);
    // A failure reported after the success (out of order): recorded, ignored.
    const late = await webhook(signedWebhook(providerEvent(p, { type: 'payment_failed' })));
    expect(late.json()).toMatchObject({ outcome: 'ignored_succeeded', status: 'succeeded' });
  });

  const refusals: [
    string,
    (w: ReturnType<typeof signedWebhook>) => [Record<string, string>, string?],
    number,
    string,
  ][] = [
    ['unsigned', () => [{ ...json }], 401, 'invalid_signature'],
    ['malformed signature', () => [{ ...json, 'payproof-signature': 'v1=zz' }], 401, 'invalid_signature'],
    [
      'signed with another secret',
      (w) => [
        { ...json, ...signedWebhook(w.json, { secrets: ['whsec_attacker_0123456789abcdef'] }).headers },
      ],
      401,
      'invalid_signature',
    ],
    [
      'stale (signed 10 minutes ago: a replay)',
      (w) => [{ ...json, ...signedWebhook(w.json, { clockSkewS: -600 }).headers }],
      401,
      'invalid_signature',
    ],
    [
      'tampered body (amount raised after signing)',
      (w) => [{ ...json, ...w.headers }, w.body.replace(`"amountCents":${price}`, '"amountCents":1')],
      401,
      'invalid_signature',
    ],
    [
      'signed, but not JSON',
      () => {
        const body = '{"id": ';
        return [{ ...json, ...resign(body) }, body];
      },
      400,
      'malformed_json',
    ],
    [
      'signed, but a schema violation',
      (w) => {
        const body = JSON.stringify({ ...w.json, type: 'payment_refunded' });
        return [{ ...json, ...resign(body) }, body];
      },
      400,
      'validation_failed',
    ],
    [
      'oversized',
      (w) => {
        const body = JSON.stringify({ ...w.json, pad: 'x'.repeat(20_000) });
        return [{ ...json, ...resign(body) }, body];
      },
      413,
      'payload_too_large',
    ],
  ];
  for (const [name, make, status, code] of refusals) {
    it(`${name} → ${status} ${code}, no effect`, async () => {
      const p = await create();
      const w = signedWebhook(providerEvent(p));
      const before = await counts();
      const [headers, body] = make(w);
      const res = await app.inject({ method: 'POST', url: w.path, headers, payload: body ?? w.body });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ error: { code } });
      expect(await counts()).toEqual(before);
    });
  }

  it('a captured amount that is not the price: flagged, not confirmed, and refunded', async () => {
    const p = await create();
    const event = providerEvent(p, { amountCents: 1 });
    const res = await webhook(signedWebhook(event));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'flagged', outcome: 'flagged_amount_mismatch' });
    const out = await direct.query(
      "SELECT event_type, envelope->'payload'->>'reason' AS reason FROM outbox WHERE envelope->>'correlationId' = $1",
      [p.id],
    );
    expect(out.rows).toEqual([{ event_type: 'PAYMENT_REFUND_REQUESTED', reason: 'amount_mismatch' }]);
  });

  it('a capture of another payment is a 409 and changes nothing', async () => {
    const a = await create();
    const b = await create();
    const ea = providerEvent(a);
    expect((await webhook(signedWebhook(ea))).statusCode).toBe(200);
    const before = await counts();
    const stolen = await webhook(
      signedWebhook(providerEvent(b, { providerPaymentId: ea.data.providerPaymentId })),
    );
    expect(stolen.statusCode).toBe(409);
    expect(stolen.json()).toMatchObject({ error: { code: 'provider_payment_id_in_use' } });
    const row = await direct.query('SELECT status FROM payments WHERE id = $1', [b.id]);
    expect(row.rows[0].status).toBe('pending');
    expect((await counts()).outbox).toBe(before.outbox);
  });

  it('an unknown payment is a 404; pending payments expire, and a late capture is refunded', async () => {
    const unknown = await webhook(
      signedWebhook(providerEvent({ id: randomUUID(), amountCents: price, currency: 'EUR' })),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'payment_not_found' } });
    const p = await create();
    await direct.query("UPDATE payments SET created_at = now() - interval '2 hours' WHERE id = $1", [p.id]);
    expect(await expirePending(pool as never, 3_600_000)).toBeGreaterThanOrEqual(1);
    const expired = await direct.query('SELECT status, failure_reason FROM payments WHERE id = $1', [p.id]);
    expect(expired.rows[0]).toEqual({ status: 'failed', failure_reason: 'expired' });
    const late = await webhook(signedWebhook(providerEvent(p)));
    expect(late.json()).toMatchObject({ status: 'failed', outcome: 'refund_captured_after_failure' });
    const out = await direct.query(
      "SELECT event_type, envelope->'payload'->>'reason' AS reason FROM outbox WHERE envelope->>'correlationId' = $1",
      [p.id],
    );
    expect(out.rows).toEqual([{ event_type: 'PAYMENT_REFUND_REQUESTED', reason: 'captured_after_failure' }]);
  });

  it('invalid ids and unknown routes are 400 / 404 with codes', async () => {
    const invalid = await app.inject({ method: 'GET', url: '/payments/not-a-uuid', headers: auth });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ error: { code: 'invalid_id' } });
    const route = await app.inject({ method: 'GET', url: '/nope' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('answers say what is wrong and read back what was written', () => {
  const message = async (res: { json(): unknown }) =>
    (res.json() as { error: { message: string } }).error.message;

  it('each error names the offending id or rule in its message', async () => {
    const c = randomUUID();
    const post = (payload: object, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/payments', headers: { ...json, ...auth, ...headers }, payload });
    const ghost = randomUUID();
    const asGhost = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, authorization: `Bearer ${await tokenFor(ghost)}` },
      payload: { courseId: course },
    });
    expect(await message(asGhost)).toBe(`no student ${ghost}`);
    expect(await message(await post({ ...good(), courseId: c }))).toBe(`no course ${c}`);
    expect(await message(await post(good(), { 'idempotency-key': ' ' }))).toBe(
      'Idempotency-Key must be 1-200 printable ASCII characters',
    );
    expect(await message(await post({ ...good(), amountCents: 7 }))).toBe(
      `course ${course} costs ${price} EUR; omit amountCents or send the price`,
    );
    const key = `k-${randomUUID()}`;
    await post(good(), { 'idempotency-key': key });
    expect(await message(await post({ ...good(), amountCents: 7 }, { 'idempotency-key': key }))).toBe(
      'this Idempotency-Key was used with a different request body',
    );
    const missing = randomUUID();
    const deliver = (e: ReturnType<typeof providerEvent>) => webhook(signedWebhook(e));
    expect(
      await message(await deliver(providerEvent({ id: missing, amountCents: price, currency: 'EUR' }))),
    ).toBe(`no payment ${missing}`);
    const a = (await post(good())).json() as PaymentView;
    const b = (await post(good())).json() as PaymentView;
    const ea = providerEvent(a);
    expect((await deliver(ea)).statusCode).toBe(200);
    expect(
      await message(await deliver(providerEvent(b, { providerPaymentId: ea.data.providerPaymentId }))),
    ).toBe(`${ea.data.providerPaymentId} is the capture of another payment`);
    expect(
      await message(
        await app.inject({ method: 'POST', url: '/webhooks/provider', headers: json, payload: '{}' }),
      ),
    ).toBe('no payproof-signature header');
  });

  it('the price spelled out is the same request as the price omitted, also for the Idempotency-Key; GET /payments/:id reads the payment back', async () => {
    const key = `k-${randomUUID()}`;
    const headers = { ...json, ...auth, 'idempotency-key': key };
    const first = await app.inject({ method: 'POST', url: '/payments', headers, payload: good() });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      currency: 'EUR',
      amountCents: price,
      status: 'pending',
      providerPaymentId: null,
    });
    const explicit = await app.inject({
      method: 'POST',
      url: '/payments',
      headers,
      payload: { ...good(), amountCents: price, currency: 'EUR' },
    });
    expect(explicit.statusCode).toBe(201);
    expect(explicit.json()).toEqual(first.json());
    const got = await app.inject({ method: 'GET', url: `/payments/${first.json().id}`, headers: auth });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(first.json());
    const missing = randomUUID();
    const none = await app.inject({ method: 'GET', url: `/payments/${missing}`, headers: auth });
    expect(none.statusCode).toBe(404);
    expect(await message(none)).toBe(`no payment ${missing}`);
  });
});

/** A valid signature over `body` (for bodies the provider would never send). */
function resign(body: string): Record<string, string> {
  return {
    'payproof-signature': signatureHeaderValue(
      [devSecrets.webhookSecret],
      Math.floor(Date.now() / 1000),
      body,
    ),
  };
}

describe('when Postgres is unreachable', () => {
  it('answers 503 fast (disabled proxy and black hole), never hangs, and works again after heal', async () => {
    const proxyUrl = `${stack.toxiproxyUrl}/proxies/postgres`;
    const proxy = (await (await fetch(proxyUrl)).json()) as { listen: string; upstream: string };
    const setEnabled = (enabled: boolean) =>
      fetch(proxyUrl, { method: 'POST', headers: json, body: JSON.stringify({ ...proxy, enabled }) });
    const pending = await create();
    try {
      await setEnabled(false);
      let t0 = performance.now();
      const res = await app.inject({
        method: 'POST',
        url: '/payments',
        headers: { ...json, ...auth },
        payload: good(),
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({
        error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
      });
      expect(performance.now() - t0).toBeLessThan(3_000);
      // A provider webhook too: a 503 the provider retries, never a 409 or a 500.
      const confirm = await webhook(signedWebhook(providerEvent(pending)));
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
      const hung = await app.inject({ method: 'GET', url: `/payments/${randomUUID()}`, headers: auth });
      expect(hung.statusCode).toBe(503);
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      await fetch(`${proxyUrl}/toxics/blackhole`, { method: 'DELETE' }).catch(() => {});
      await setEnabled(true);
    }
    const healed = await app.inject({
      method: 'POST',
      url: '/payments',
      headers: { ...json, ...auth },
      payload: good(),
    });
    expect(healed.statusCode).toBe(201);
  });
});
