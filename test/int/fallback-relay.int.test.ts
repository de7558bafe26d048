// The relay's Redis Streams fallback (issue 15) against real PostgreSQL, Kafka and Redis, with
// Kafka (and Redis) cut by Toxiproxy: the breaker moves the relay to the streams when Kafka stops
// answering, every row written meanwhile goes to its stream and is marked stream_published_at only;
// when Kafka answers again the relay returns to it and publishes every fallback-only row to Kafka
// too (published_at), so Kafka's log is complete. With Kafka and Redis both down the outbox keeps
// every row unmarked, and the first transport to return takes them. The rows carry fresh topic
// names, so no other test sees them or their streams.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { sleep } from '../../harness/lib/wait-for.ts';
import { streamKey } from '../../system/contracts/index.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { TransportBreaker } from '../../system/relay/breaker.ts';
import { checkedProducer } from '../../system/relay/producer.ts';
import { type RelayDeps, relayToStreamsOnce, runRelay } from '../../system/relay/relay.ts';
import { disableProxy, heal } from '../support/proxy-faults.ts';
import { until } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('fallback-relay', 'silent');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: Pool;
let sql: pg.Client;
let direct: Redis;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pool = createPool(db.url, 3);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  direct = new Redis(stack.direct.redisUrl);
});

afterEach(async () => {
  await heal(stack, 'kafka');
  await heal(stack, 'redis');
});

afterAll(async () => {
  direct?.disconnect();
  await sql?.end();
  await pool?.end();
  await db?.drop();
  await dbs?.close();
});

async function freshTopic(): Promise<string> {
  const topic = `fallback-relay.${randomUUID()}`;
  const admin = createKafka([stack.direct.kafkaBrokers], 'fallback-relay-admin', log).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  // A broker just started may answer "does not host this topic-partition" for a moment (seen once
  // on a fresh stack): wait until the topic's metadata is there.
  await until('the topic’s metadata', async () =>
    admin
      .fetchTopicMetadata({ topics: [topic] })
      .then((m) => m.topics[0]?.partitions.every((p) => p.leader >= 0) ?? false)
      .catch(() => false),
  );
  await admin.disconnect();
  return topic;
}

async function enqueue(type: string, topic: string, ns: readonly number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const n of ns) {
    const id = randomUUID();
    ids.push(id);
    await sql.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, $2, $3, $4, $5)`,
      [id, type, topic, `k${n % 2}`, JSON.stringify({ n })],
    );
  }
  return ids;
}

type Row = { event_id: string; kafka: boolean; stream: boolean };
const rowsOf = async (type: string): Promise<Row[]> =>
  (
    await sql.query<Row>(
      `SELECT event_id, published_at IS NOT NULL AS kafka, stream_published_at IS NOT NULL AS stream
       FROM outbox WHERE event_type = $1 ORDER BY id`,
      [type],
    )
  ).rows;

const counter = async (
  c: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: object,
) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((s, v) => s + v.value, 0);

/** A relay as system/relay/main.ts builds it, through the proxies, with short breaker durations. */
async function startRelay(openAfterMs: number, closeAfterMs: number) {
  const kafka = createKafka([stack.kafkaBrokers], `fallback-relay-${randomUUID()}`, log);
  const probe = createKafka([stack.kafkaBrokers], 'fallback-relay-probe', log, { retries: 0 }).admin();
  const connect = async () => {
    const p = checkedProducer(kafka, {
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await p.connect();
    return p;
  };
  const redis = createRedis(stack.redisUrl, log);
  const switches: [string, number][] = [];
  let probes = 0;
  const breaker = new TransportBreaker({
    openAfterMs,
    closeAfterMs,
    onChange: (to, at) => switches.push([to, at]),
  });
  const deps: RelayDeps = {
    pool,
    producer: await connect(),
    faults: new Set(),
    log,
    batchSize: 50,
    renewProducer: async () => {
      await deps.producer.disconnect().catch(() => {});
      return connect();
    },
    fallback: {
      redis,
      breaker,
      probeEveryMs: 200,
      probeTimeoutMs: 1_000,
      probeKafka: async () => {
        probes++;
        await probe.connect();
        await probe.fetchTopicMetadata({ topics: [] });
      },
    },
  };
  const stop = new AbortController();
  const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 20, lingerMs: 5 });
  return {
    breaker,
    switches,
    probes: () => probes,
    transport: () => breaker.transport(performance.now()),
    async close() {
      stop.abort();
      await loop;
      await deps.producer.disconnect().catch(() => {});
      await probe.disconnect().catch(() => {});
      redis.disconnect();
    },
  };
}

/** Entries of a stream, read directly: [key, value] each. */
async function streamEntries(topic: string): Promise<[string, string][]> {
  const entries = await direct.xrange(streamKey(topic), '-', '+');
  return entries.map(([, f]) => {
    const m = new Map<string, string>();
    for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i]!, f[i + 1]!);
    return [m.get('key')!, m.get('value')!] as [string, string];
  });
}

describe('the relay with the Redis Streams fallback', { timeout: 90_000 }, () => {
  it('moves to the streams when Kafka is cut, returns when it heals, and re-publishes every fallback-only event to Kafka', async () => {
    const topic = await freshTopic();
    const type = `T_${randomUUID().slice(0, 8)}`;
    const republishedBefore = await counter(metrics.transportEvents, {
      transport: 'kafka',
      outcome: 'republished',
    });
    const failedBefore = await counter(metrics.retries, { component: 'relay', reason: 'error' });
    const transientBefore = await counter(metrics.retries, { component: 'relay', reason: 'transient' });
    const relay = await startRelay(500, 1_500);
    try {
      const before = await enqueue(type, topic, [0, 1, 2]);
      await until('the first rows in Kafka', async () => (await rowsOf(type)).every((r) => r.kafka));
      expect(relay.transport()).toBe('kafka');

      const cutAt = performance.now();
      await disableProxy(stack, 'kafka');
      const during = await enqueue(type, topic, [3, 4, 5, 6, 7]);
      await until(
        'the rows written during the cut in their stream',
        async () => (await rowsOf(type)).filter((r) => r.stream).length === during.length,
      );
      const streamedAfterMs = performance.now() - cutAt;
      expect(relay.transport()).toBe('stream');
      expect(await counter(metrics.transportActive, { transport: 'stream' })).toBe(1);
      // Through the fallback only: not in Kafka's sense published.
      expect((await rowsOf(type)).map((r) => [r.kafka, r.stream])).toEqual([
        ...before.map(() => [true, false]),
        ...during.map(() => [false, true]),
      ]);
      // The same bytes the Kafka path sends (envelope::text), parsed here to compare.
      expect((await streamEntries(topic)).map(([k, v]) => [k, JSON.parse(v)])).toEqual(
        [3, 4, 5, 6, 7].map((n) => [`k${n % 2}`, { n }]),
      );

      const healAt = performance.now();
      await heal(stack, 'kafka');
      await until('every row in Kafka', async () => (await rowsOf(type)).every((r) => r.kafka), 60_000);
      const backAfterMs = performance.now() - healAt;
      expect(relay.transport()).toBe('kafka');
      expect(relay.switches.map(([to]) => to)).toEqual(['stream', 'kafka']);
      // Hysteresis: never back before closeAfterMs of health.
      expect(backAfterMs).toBeGreaterThanOrEqual(1_500);

      const inKafka = (await readTopics({ brokers: stack.direct.kafkaBrokers, topics: [topic] })).map(
        (m) => (m.json as { n: number }).n,
      );
      // Every event is in Kafka (the fallback-only ones re-published), the first three once.
      expect([...new Set(inKafka)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      for (const n of [0, 1, 2]) expect(inKafka.filter((x) => x === n)).toHaveLength(1);
      expect(
        (await counter(metrics.transportEvents, { transport: 'kafka', outcome: 'republished' })) -
          republishedBefore,
      ).toBeGreaterThanOrEqual(during.length);
      console.log(
        `fallback-relay: rows in their stream ${Math.round(streamedAfterMs)} ms after the cut (breaker 500 ms); all in Kafka ${Math.round(backAfterMs)} ms after the heal (hysteresis 1500 ms)`,
      );
      // Idle on a healthy Kafka the watcher sends no probe (a send's in-flight mark left behind
      // would make it probe every interval, 200 ms here).
      const probed = relay.probes();
      await sleep(1_000);
      expect(relay.probes()).toBe(probed);
      // Every failed cycle of the cut was transient (the send kafkajs was still retrying when the
      // breaker opened is given up as transient_kafka); none counted as an error.
      expect(await counter(metrics.retries, { component: 'relay', reason: 'transient' })).toBeGreaterThan(
        transientBefore,
      );
      expect(await counter(metrics.retries, { component: 'relay', reason: 'error' })).toBe(failedBefore);
      await relay.close();
      // Each send's listener on the breaker went when the send settled: none left once stopped.
      expect(relay.breaker.waiting).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('with Kafka and Redis both cut, the outbox keeps every row unmarked; Redis back first: the streams take them; Kafka back: Kafka too', async () => {
    const topic = await freshTopic();
    const type = `T_${randomUUID().slice(0, 8)}`;
    const relay = await startRelay(500, 1_000);
    try {
      await disableProxy(stack, 'kafka');
      await disableProxy(stack, 'redis');
      const ids = await enqueue(type, topic, [0, 1, 2, 3]);
      await until('the breaker open', async () => relay.transport() === 'stream');
      // A few failed appends later, still nothing marked: nothing is lost, nothing claimed as sent.
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await rowsOf(type)).map((r) => [r.kafka, r.stream])).toEqual(ids.map(() => [false, false]));

      await heal(stack, 'redis');
      await until('the rows in their stream', async () => (await rowsOf(type)).every((r) => r.stream));
      expect(await streamEntries(topic)).toHaveLength(ids.length);

      await heal(stack, 'kafka');
      await until('the rows in Kafka', async () => (await rowsOf(type)).every((r) => r.kafka), 60_000);
      const inKafka = (await readTopics({ brokers: stack.direct.kafkaBrokers, topics: [topic] })).map(
        (m) => (m.json as { n: number }).n,
      );
      // Every row in Kafka. At most twice: the send given up when the breaker opened (Kafka cut
      // from the start) may still land once Kafka is back (kafkajs retries it for ~12 s), and the
      // relay then re-publishes the rows it never saw acknowledged; the inbox absorbs the copy
      // (sendToKafka's contract). Never a third copy: after the switch nothing else went to Kafka.
      expect([...new Set(inKafka)].sort()).toEqual([0, 1, 2, 3]);
      for (const n of [0, 1, 2, 3]) expect(inKafka.filter((x) => x === n).length).toBeLessThanOrEqual(2);
    } finally {
      await relay.close();
    }
  });

  it('with Kafka cut and Redis away, then Kafka back: the rows go straight to Kafka, never through a stream', async () => {
    const topic = await freshTopic();
    const type = `T_${randomUUID().slice(0, 8)}`;
    const relay = await startRelay(500, 1_000);
    try {
      await disableProxy(stack, 'kafka');
      await disableProxy(stack, 'redis');
      await enqueue(type, topic, [0, 1]);
      await until('the breaker open', async () => relay.transport() === 'stream');
      await heal(stack, 'kafka');
      await until('the rows in Kafka', async () => (await rowsOf(type)).every((r) => r.kafka), 60_000);
      expect((await rowsOf(type)).map((r) => r.stream)).toEqual([false, false]);
    } finally {
      await relay.close();
    }
  });
});

describe('the fallback streams’ bound', () => {
  it('trims each stream to about the fallback’s maxLen (XADD MAXLEN ~ drops whole nodes of 100 entries), keeping the newest', async () => {
    // A stream only: relayToStreamsOnce needs no Kafka topic, and no other test reads this stream.
    const topic = `fallback-relay.${randomUUID()}`;
    const type = `T_${randomUUID().slice(0, 8)}`;
    await sql.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
       SELECT gen_random_uuid(), $1, $2, 'k', jsonb_build_object('n', n) FROM generate_series(1, 300) n`,
      [type, topic],
    );
    try {
      const deps: RelayDeps = {
        pool,
        // Never used on the way to the streams (not even connected).
        producer: createKafka([stack.direct.kafkaBrokers], 'fallback-relay-unused', log).producer(),
        faults: new Set(),
        log,
        batchSize: 500,
        fallback: {
          redis: direct,
          breaker: new TransportBreaker({ openAfterMs: 0, closeAfterMs: 0 }),
          probeKafka: async () => {},
          maxLen: 10,
        },
      };
      expect(await relayToStreamsOnce(deps)).toBe(300);
      expect((await rowsOf(type)).every((r) => r.stream && !r.kafka)).toBe(true);
      // Read from Redis itself: 300 appended, at most one partly filled node (100) above the bound.
      const len = await direct.xlen(streamKey(topic));
      expect(len).toBeGreaterThanOrEqual(10);
      expect(len).toBeLessThanOrEqual(110);
      const newest = await direct.xrevrange(streamKey(topic), '+', '-', 'COUNT', 1);
      expect(JSON.parse(newest[0]![1][3]!)).toEqual({ n: 300 });
    } finally {
      await direct.del(streamKey(topic));
      // Marked published too, so later claims in this database never take them.
      await sql.query('UPDATE outbox SET published_at = now() WHERE event_type = $1', [type]);
    }
  });
});
