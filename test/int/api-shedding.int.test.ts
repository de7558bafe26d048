// Load shedding: past its bound of requests in flight the API answers 503 `overloaded` with
// Retry-After at once, the refused request has no effect, the operational endpoints still answer,
// and a slot freed by a finished or abandoned request is usable again. Requests are held in flight
// by sending their headers and withholding the body. Real Postgres and Redis, through the proxies.
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tokenFor } from '../../harness/lib/tokens.ts';
import { seed } from '../../harness/system/seed.ts';
import { buildApp } from '../../system/api/app.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';

const stack = inject('stack');
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let base: string;
let port: number;
let courses: string[];
let auth: string;
const held: Socket[] = [];

beforeAll(async () => {
  const s = await seed(stack.direct.databaseUrl);
  courses = s.courses;
  auth = `Bearer ${await tokenFor(s.students[0]!)}`;
  pool = createPool(stack.databaseUrl, 4, { queryTimeoutMs: 1_500 });
  redis = createRedis(stack.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-test', 'silent'), maxInFlight: 2 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(base).port);
  direct = new pg.Pool({ connectionString: stack.direct.databaseUrl, max: 2 });
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await app?.close();
  await pool?.end();
  redis?.disconnect();
  await direct?.end();
});

/** A create whose headers are sent and whose body is not: in flight until the socket goes. */
async function holdOne(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    `POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: ${auth}\r\n` +
      `Idempotency-Key: ${randomUUID()}\r\nContent-Length: 200\r\n\r\n`,
  );
  held.push(socket);
  const answered: string[] = [];
  socket.on('data', (d) => answered.push(d.toString().split('\r\n')[0]!));
  // On loopback the headers are read well within this; the request must then be held, unanswered.
  await new Promise((r) => setTimeout(r, 200));
  expect(answered, 'a held request was answered').toEqual([]);
  return socket;
}

const create = (key: string, courseId: string) =>
  fetch(`${base}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth, 'idempotency-key': key },
    body: JSON.stringify({ courseId }),
  });

const shedCount = async () => (await metrics.httpShed.get()).values[0]?.value ?? 0;

const paymentsWithKey = async (key: string) =>
  (await direct.query('SELECT count(*)::int AS n FROM payments WHERE idempotency_key = $1', [key])).rows[0]
    .n as number;

/** Polls until `f` holds (the server counts a request out when its response's socket closes). */
async function eventually(f: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

describe('load shedding (maxInFlight: 2)', () => {
  it('refuses a third request with 503 overloaded and Retry-After, with no effect; ops endpoints still answer; a freed slot serves again', async () => {
    // Below the bound, a create goes through.
    const first = randomUUID();
    expect((await create(first, courses[0]!)).status).toBe(201);

    const a = await holdOne();
    await holdOne();
    const before = await shedCount();
    // Wait until both held requests have reached the server: a lookup (no effect either way) is shed.
    const lookup = () =>
      fetch(`${base}/payments/${randomUUID()}`, { headers: { authorization: auth } }).then((r) => r.status);
    await eventually(async () => (await lookup()) === 503, 'a lookup refused as overloaded');
    const refusedKey = randomUUID();
    const refused = await create(refusedKey, courses[1]!);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect(await shedCount()).toBeGreaterThan(before);
    expect(await paymentsWithKey(refusedKey)).toBe(0);

    // Operational endpoints are never refused (monitoring works when the API is overloaded).
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);

    // An abandoned request frees its slot: the refused create, retried, goes through once.
    a.destroy();
    await eventually(
      async () => (await create(refusedKey, courses[1]!)).status === 201,
      'the retried create served',
    );
    expect(await paymentsWithKey(refusedKey)).toBe(1);
    expect(await paymentsWithKey(first)).toBe(1);
  });
});
