// The workers' side of the Redis Streams fallback (issue 15) against real PostgreSQL and Redis: the
// stream consumer runs entries through the same processChunk as Kafka (same inbox, same handler,
// same dead-letter rules, dead letters to the group's dead-letter stream), acknowledges an entry only
// after its transaction committed, a copy that comes by the other transport is a duplicate for the
// inbox, and entries a consumer took and never acknowledged (it died) are claimed by another after
// the idle timeout. Each test reads fresh streams, so no other test sees them.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { seed } from '../../harness/system/seed.ts';
import { dlqStream, eventIdFor, type PurchaseConfirmedEvent } from '../../system/contracts/index.ts';
import { processChunk } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool, type Pool, type PoolClient } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';
import {
  handleEntries,
  runStreamConsumer,
  type StreamConsumerDeps,
} from '../../system/lib/stream-consumer.ts';
import { ensureGroups, readNew } from '../../system/lib/streams.ts';
import { handlePurchaseConfirmed } from '../../system/workers/purchase/handler.ts';
import { until } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('fallback-consumer', 'silent');
const group = 'purchase-worker' as const;
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: Pool;
let sql: pg.Client;
let redis: Redis;
let students: string[];
let course: string;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pool = createPool(db.url, 4);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  redis = new Redis(stack.direct.redisUrl);
  const ids = await seed(db.url, {
    students: 10,
    courses: 1,
    trainers: 1,
    trainerCapacity: 50,
    sessionCount: 2,
  });
  students = ids.students;
  course = ids.courses[0]!;
});

afterAll(async () => {
  redis?.disconnect();
  await sql?.end();
  await pool?.end();
  await db?.drop();
  await dbs?.close();
});

let nextStudent = 0;
async function paid(): Promise<PurchaseConfirmedEvent> {
  const id = randomUUID();
  const student = students[nextStudent++ % students.length]!;
  await sql.query(
    `INSERT INTO payments (id, student_id, course_id, amount_cents, status, provider_payment_id, confirmed_at)
     VALUES ($1, $2, $3, 1000, 'succeeded', $4, now())`,
    [id, student, course, `pp-${id}`],
  );
  return {
    eventId: eventIdFor('PURCHASE_CONFIRMED', id),
    correlationId: id,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: { paymentId: id, studentId: student, courseId: course, amountCents: 1000, metadata: {} },
  };
}

const freshStream = () => `payproof:stream:test.${randomUUID()}`;

async function append(stream: string, values: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, value] of values.entries())
    ids.push((await redis.xadd(stream, '*', 'key', `key-${i}`, 'value', value))!);
  return ids;
}

const pendingOf = async (stream: string) => Number(((await redis.xpending(stream, group)) as [number])[0]);

const purchasesOf = async (events: readonly PurchaseConfirmedEvent[]) =>
  Number(
    (
      await sql.query(
        'SELECT count(*)::int AS n FROM student_course_purchases WHERE payment_id = ANY($1::uuid[])',
        [events.map((e) => e.payload.paymentId)],
      )
    ).rows[0].n,
  );

function depsFor(stream: string, client: Redis, consumerName: string, p: Pool = pool): StreamConsumerDeps {
  return {
    group,
    pool: p,
    handler: handlePurchaseConfirmed,
    dashboards: redisDashboardCache(redis),
    faults: new Set(),
    log,
    clockSkewMs: 0,
    chunkSize: 10,
    maxAttempts: 2,
    redis: client,
    consumerName,
    streams: [stream],
    blockMs: 200,
    claimIdleMs: 500,
    claimEveryMs: 100,
  };
}

/** A pool whose transactions fail at COMMIT with an error retrying cannot fix. */
function commitFails(real: Pool): Pool {
  return {
    connect: async () => {
      const c = await real.connect();
      return {
        query: async (text: string, params?: unknown[]) => {
          if (text === 'COMMIT') throw new Error('injected: commit refused');
          return c.query(text, params);
        },
        release: (err?: Error | boolean) => c.release(err),
      } as unknown as PoolClient;
    },
  } as unknown as Pool;
}

describe('the stream consumer', { timeout: 60_000 }, () => {
  it('applies each event once through the inbox, dead-letters to its stream with the reason, acknowledges every entry, and a Kafka copy afterwards is a duplicate', async () => {
    const stream = freshStream();
    const first = await paid();
    const second = await paid();
    const values = [JSON.stringify(first), JSON.stringify(first), '{not json', JSON.stringify(second)];
    const ids = await append(stream, values);
    const client = createRedis(stack.direct.redisUrl, log, { commandTimeoutMs: 2_500 });
    const stop = new AbortController();
    const before = await metrics.transportEvents.get();
    const sumOf = (v: typeof before, outcome: string) =>
      v.values
        .filter(
          (x) =>
            x.labels.transport === 'stream' && x.labels.stage === 'consumed' && x.labels.outcome === outcome,
        )
        .reduce((s, x) => s + x.value, 0);
    const loop = runStreamConsumer(depsFor(stream, client, 'worker-a'), stop.signal);
    try {
      await until('every entry acknowledged', async () => {
        const info = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
        const g = info.find((x) => x[1] === group);
        return (
          g !== undefined &&
          Number(g[g.indexOf('pending') + 1]) === 0 &&
          (await purchasesOf([first, second])) === 2
        );
      });
    } finally {
      stop.abort();
      await loop;
      client.disconnect();
    }
    expect(await purchasesOf([first, second])).toBe(2);
    const inbox = await sql.query(
      'SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::uuid[])',
      [group, [first.eventId, second.eventId]],
    );
    expect(inbox.rows).toHaveLength(2);
    const after = await metrics.transportEvents.get();
    expect(sumOf(after, 'applied') - sumOf(before, 'applied')).toBe(2);
    expect(sumOf(after, 'duplicate') - sumOf(before, 'duplicate')).toBe(1);

    const dead = (await redis.xrange(dlqStream(group), '-', '+'))
      .map(([, f]) => Object.fromEntries(f.flatMap((_, i) => (i % 2 === 0 ? [[f[i], f[i + 1]]] : []))))
      .filter((d) => d['x-source-stream'] === stream);
    expect(dead).toEqual([
      expect.objectContaining({
        key: 'key-2',
        value: '{not json',
        'x-dlq-reason': 'malformed_json',
        'x-source-id': ids[2],
        'x-consumer-group': group,
      }),
    ]);

    // The same event by the other transport (as the relay re-publishes it to Kafka after the outage):
    // the inbox says duplicate, nothing changes.
    const { outcomes } = await processChunk(
      {
        group,
        pool,
        handler: handlePurchaseConfirmed,
        dashboards: redisDashboardCache(redis),
        faults: new Set(),
        log,
        clockSkewMs: 0,
      },
      [{ message: { key: 'k', value: JSON.stringify(first), offset: '0' }, event: first }],
    );
    expect(outcomes).toEqual(['duplicate']);
    expect(await purchasesOf([first])).toBe(1);
  });

  it('acknowledges an entry only after its transaction committed: a commit that fails leaves the entries pending and nothing applied', async () => {
    const stream = freshStream();
    const event = await paid();
    await append(stream, [JSON.stringify(event)]);
    await ensureGroups(redis, group, [stream]);
    const [entries] = await readNew(redis, group, 'worker-b', [stream], { count: 10, blockMs: 100 });
    expect(entries).toHaveLength(1);
    await expect(
      handleEntries(depsFor(stream, redis, 'worker-b', commitFails(pool)), stream, entries!),
    ).rejects.toThrow('injected: commit refused');
    expect(await pendingOf(stream)).toBe(1);
    expect(await purchasesOf([event])).toBe(0);
    // The same entries with a database that commits: applied, then acknowledged.
    const { acked, outcomes } = await handleEntries(depsFor(stream, redis, 'worker-b'), stream, entries!);
    expect(acked).toBe(true);
    expect(outcomes).toEqual(['applied']);
    expect(await pendingOf(stream)).toBe(0);
    expect(await purchasesOf([event])).toBe(1);
  });

  it('claims the entries a consumer took and never acknowledged (it died) once they are idle, and applies them once', async () => {
    const stream = freshStream();
    const events = [await paid(), await paid(), await paid()];
    await append(
      stream,
      events.map((e) => JSON.stringify(e)),
    );
    await ensureGroups(redis, group, [stream]);
    // worker-dead takes the entries and dies before handling them.
    const [taken] = await readNew(redis, group, 'worker-dead', [stream], { count: 10, blockMs: 100 });
    expect(taken).toHaveLength(3);
    expect(await pendingOf(stream)).toBe(3);
    const claimedBefore = (await metrics.transportEvents.get()).values
      .filter((x) => x.labels.stage === 'claimed')
      .reduce((s, x) => s + x.value, 0);
    const client = createRedis(stack.direct.redisUrl, log, { commandTimeoutMs: 2_500 });
    const stop = new AbortController();
    const t0 = performance.now();
    const loop = runStreamConsumer(depsFor(stream, client, 'worker-alive'), stop.signal);
    try {
      await until(
        'the dead consumer’s entries applied and acknowledged',
        async () => (await pendingOf(stream)) === 0,
      );
    } finally {
      stop.abort();
      await loop;
      client.disconnect();
    }
    // Not before the idle timeout (500 ms): a live consumer's entries are not taken from it.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    expect(await purchasesOf(events)).toBe(3);
    const claimedAfter = (await metrics.transportEvents.get()).values
      .filter((x) => x.labels.stage === 'claimed')
      .reduce((s, x) => s + x.value, 0);
    expect(claimedAfter - claimedBefore).toBe(3);
  });
});
