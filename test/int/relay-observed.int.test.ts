// The relay (system/relay/relay.ts) seen from outside, on real PostgreSQL, Kafka and Redis: what it
// counts when it publishes first copies and re-publications of fallback-only rows, what its
// fallback cycle appends and marks, which transport its gauge shows, that a failing cycle without a
// producer to renew is retried (the loop keeps running), and the backlog gauges. Written for the
// mutation score (issue 12): each case fails on mutants the other relay tests let through.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { freePort } from '../../harness/stack/ports.ts';
import { streamKey } from '../../system/contracts/index.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { TransportBreaker } from '../../system/relay/breaker.ts';
import {
  type RelayDeps,
  relayOnce,
  relayToStreamsOnce,
  runRelay,
  watchBacklog,
} from '../../system/relay/relay.ts';
import { type Metric, sum } from '../support/metric-sum.ts';
import { connectedRedis } from '../support/redis.ts';
import { until as waitUntil } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('relay-observed', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'relay-observed-test', log);
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;
let sql: pg.Client;
let producer: Producer;
let redis: Redis;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  const db = await dbs.create();
  pool = createPool(db.url, 3);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  redis = new Redis(stack.direct.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await producer?.disconnect();
  await sql?.end();
  await pool?.end();
  await dbs?.close();
});

async function freshTopic(): Promise<string> {
  const topic = `relay-observed.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

/** Outbox rows of a fresh type on `topic`; `viaStream` of them already went through the fallback. */
async function enqueue(topic: string, n: number, viaStream = 0, c: pg.Client = sql): Promise<string> {
  const type = `T_${randomUUID().slice(0, 8)}`;
  for (let i = 0; i < n; i++)
    await c.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope, stream_published_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [randomUUID(), type, topic, `k${i}`, JSON.stringify({ i }), i < viaStream ? new Date() : null],
    );
  return type;
}

// Polled every 20 ms: a short-lived state (a gauge passing through a value) is not missed.
const until = (what: string, cond: () => Promise<boolean>, timeoutMs = 20_000) =>
  waitUntil(what, cond, timeoutMs, 20);

const kafkaPublished = (outcome: string) =>
  sum(metrics.transportEvents, { transport: 'kafka', stage: 'published', outcome });
const streamPublished = () =>
  sum(metrics.transportEvents, { transport: 'stream', stage: 'published', outcome: 'published' });
const active = async () =>
  Object.fromEntries(
    (await metrics.transportActive.get()).values.map((v) => [
      (v.labels as { transport: string }).transport,
      v.value,
    ]),
  );
const rows = async (type: string) =>
  (
    await sql.query<{ kafka: boolean; stream: boolean }>(
      `SELECT published_at IS NOT NULL AS kafka, stream_published_at IS NOT NULL AS stream FROM outbox
       WHERE event_type = $1 ORDER BY id`,
      [type],
    )
  ).rows;

/** A fallback whose breaker is open (Kafka failed for longer than openAfterMs) on a clock that stands still. */
async function openFallback() {
  const breaker = new TransportBreaker({ openAfterMs: 1_000, closeAfterMs: 3_600_000 });
  breaker.observe(false, 0);
  breaker.observe(false, 2_000);
  // A real admin client to a port nobody listens on: the probe fails, Kafka stays "away".
  const probe = createKafka([`127.0.0.1:${await freePort()}`], 'relay-observed-probe', log, {
    retries: 0,
  }).admin();
  // The tests call relayToStreamsOnce once, with no retry (a CI rehearsal of ceccde9 failed here
  // with "Stream isn't writeable" when the client was not connected yet).
  const redis = await connectedRedis(stack.direct.redisUrl, log);
  return {
    redis,
    breaker,
    probeEveryMs: 100,
    probeTimeoutMs: 200,
    probeKafka: async () => {
      await probe.connect();
    },
    now: () => 3_000,
  };
}

describe('the relay, observed', { timeout: 30_000 }, () => {
  it('relayOnce counts first publications and re-publications of fallback-only rows apart', async () => {
    const topic = await freshTopic();
    const deps: RelayDeps = { pool, producer, faults: new Set(), log };
    const [p0, r0] = [await kafkaPublished('published'), await kafkaPublished('republished')];
    const type = await enqueue(topic, 3, 2);
    expect(await relayOnce(deps)).toBe(3);
    expect(await kafkaPublished('published')).toBe(p0 + 1);
    expect(await kafkaPublished('republished')).toBe(r0 + 2);
    expect(await sum(metrics.eventsPublished, { type })).toBe(3);
    expect(await rows(type)).toEqual([
      { kafka: true, stream: true },
      { kafka: true, stream: true },
      { kafka: true, stream: false },
    ]);
    const type2 = await enqueue(topic, 2);
    expect(await relayOnce(deps)).toBe(2);
    expect(await kafkaPublished('published')).toBe(p0 + 3);
    expect(await kafkaPublished('republished')).toBe(r0 + 2);
    expect(await rows(type2)).toEqual([
      { kafka: true, stream: false },
      { kafka: true, stream: false },
    ]);
    expect(await relayOnce(deps)).toBe(0);
    const msgs = await readTopics({ brokers: stack.kafkaBrokers, topics: [topic] });
    expect(msgs).toHaveLength(5);
  });

  it('relayToStreamsOnce needs a fallback; it appends the rows no transport took to their streams, marks them stream-only, and counts them', async () => {
    const topic = await freshTopic();
    await expect(relayToStreamsOnce({ pool, producer, faults: new Set(), log })).rejects.toThrow(
      'relayToStreamsOnce needs a fallback',
    );
    await sql.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    const fallback = await openFallback();
    try {
      const deps: RelayDeps = { pool, producer, faults: new Set(), log, fallback };
      const s0 = await streamPublished();
      const type = await enqueue(topic, 3);
      expect(await relayToStreamsOnce(deps)).toBe(3);
      expect(await streamPublished()).toBe(s0 + 3);
      expect(await rows(type)).toEqual(Array(3).fill({ kafka: false, stream: true }));
      expect(await redis.xlen(streamKey(topic))).toBe(3);
      // Already in the streams: nothing more to append.
      expect(await relayToStreamsOnce(deps)).toBe(0);
      expect(await redis.xlen(streamKey(topic))).toBe(3);
    } finally {
      fallback.redis.disconnect();
    }
  });

  it('shows the active transport: kafka from the start; the streams, and the switch counted, when the breaker is open', async () => {
    metrics.transportActive.set({ transport: 'kafka' }, 7);
    metrics.transportActive.set({ transport: 'stream' }, 7);
    const stop = new AbortController();
    const loop = runRelay({ pool, producer, faults: new Set(), log }, stop.signal, {
      idleMs: 2,
      maxIdleMs: 10,
    });
    expect(await active()).toEqual({ kafka: 1, stream: 0 });
    stop.abort();
    await loop;

    await sql.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    const topic = await freshTopic();
    const type = await enqueue(topic, 2);
    const fallback = await openFallback();
    const switched = await sum(metrics.transportSwitches, { to: 'stream' });
    const stop2 = new AbortController();
    const loop2 = runRelay({ pool, producer, faults: new Set(), log, fallback }, stop2.signal, {
      idleMs: 2,
      maxIdleMs: 10,
    });
    try {
      await until('the rows in their stream', async () => (await rows(type)).every((r) => r.stream));
      expect(await rows(type)).toEqual(Array(2).fill({ kafka: false, stream: true }));
      expect(await active()).toEqual({ kafka: 0, stream: 1 });
      expect(await sum(metrics.transportSwitches, { to: 'stream' })).toBe(switched + 1);
    } finally {
      stop2.abort();
      await loop2;
      fallback.redis.disconnect();
    }
  });

  it('a cycle that fails without a producer to renew is retried with backoff, and the rows go once Kafka takes them', async () => {
    await sql.query('UPDATE outbox SET published_at = now() WHERE published_at IS NULL');
    const topic = await freshTopic();
    const type = await enqueue(topic, 2);
    // Not connected yet: every send fails.
    const late = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const retries = () => sum(metrics.retries, { component: 'relay' });
    const r0 = await retries();
    const stop = new AbortController();
    let crashed: unknown;
    const loop = runRelay({ pool, producer: late, faults: new Set(), log }, stop.signal, {
      idleMs: 2,
      maxIdleMs: 10,
    }).catch((err) => {
      crashed = err;
    });
    try {
      await until('two failed cycles', async () => {
        if (crashed) throw crashed;
        return (await retries()) >= r0 + 2;
      });
      expect((await rows(type)).every((r) => !r.kafka)).toBe(true);
      await late.connect();
      await until('the rows published', async () => {
        if (crashed) throw crashed;
        return (await rows(type)).every((r) => r.kafka);
      });
    } finally {
      stop.abort();
      await loop;
      await late.disconnect();
    }
    expect(crashed).toBeUndefined();
  });

  it('watchBacklog: the rows no transport took, the fallback-only rows, and the age of the oldest', async () => {
    const db = await dbs.create();
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    const otherPool = createPool(db.url, 1);
    const stop = new AbortController();
    let watching: Promise<void> | undefined;
    try {
      await enqueue('x', 2, 0, other);
      await enqueue('x', 3, 3, other); // fallback-only
      await other.query(`UPDATE outbox SET created_at = now() - interval '90 seconds' WHERE id = 1`);
      await enqueue('x', 1, 0, other);
      await other.query(`UPDATE outbox SET published_at = now() WHERE id = 6`);
      metrics.outboxBacklog.set(-1);
      watching = watchBacklog(otherPool, stop.signal, 10);
      const gauge = async (g: Metric) => (await g.get()).values[0]?.value;
      await until('the backlog gauge', async () => (await gauge(metrics.outboxBacklog)) === 2);
      expect(await gauge(metrics.outboxFallbackOnly)).toBe(3);
      const age = (await gauge(metrics.outboxOldestSeconds)) ?? 0;
      expect(age).toBeGreaterThanOrEqual(89);
      expect(age).toBeLessThan(300);
    } finally {
      stop.abort();
      await watching;
      await other.end();
      await otherPool.end();
    }
  });
});
