// The relay's loop (runRelay) against real PostgreSQL and Kafka: it drains a backlog in id order,
// batch after batch, to each row's own topic with its key, marks a row published only after the
// broker acknowledged it, picks up rows that arrive while it idles, retries a send the broker
// refuses (nothing marked, the producer renewed after five failures in a row), and stops when
// aborted. The rows carry fresh topic names, so no other test sees them.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { checkedProducer } from '../../system/relay/producer.ts';
import { relayOnce, runRelay, sequenceBroken, watchBacklog } from '../../system/relay/relay.ts';
import { FailoverCluster, partitionByKey } from '../support/failover-cluster.ts';
import { until as waitUntil } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('relay-loop', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'relay-loop-test', log);
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: Pool;
let sql: pg.Client;
let producer: Producer;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pool = createPool(db.url, 3);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await sql?.end();
  await pool?.end();
  await db?.drop();
  await dbs?.close();
});

async function freshTopics(n: number): Promise<string[]> {
  const names = Array.from({ length: n }, () => `relay-loop.${randomUUID()}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: names.map((topic) => ({ topic, numPartitions: 1 })),
    waitForLeaders: true,
  });
  await admin.disconnect();
  return names;
}

/** Outbox rows as the system writes them (the envelope is opaque to the relay). */
async function enqueue(type: string, rows: readonly { topic: string; key: string; n: number }[]) {
  for (const r of rows)
    await sql.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, $2, $3, $4, $5)`,
      [randomUUID(), type, r.topic, r.key, JSON.stringify({ n: r.n })],
    );
}

// Polled every 20 ms: a short-lived state (a gauge passing through a value) is not missed.
const until = (what: string, cond: () => Promise<boolean>, timeoutMs = 20_000) =>
  waitUntil(what, cond, timeoutMs, 20);

const unpublished = async () =>
  Number((await sql.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')).rows[0].n);
const counter = async (
  c: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: object,
) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((s, v) => s + v.value, 0);

describe('the relay loop', { timeout: 20_000 }, () => {
  it('drains a backlog in id order, batch after batch, to each row’s topic and key, marks rows once acknowledged, takes rows that arrive while idle, and stops when aborted', async () => {
    const [a, b] = (await freshTopics(2)) as [string, string];
    const type = `T_${randomUUID().slice(0, 8)}`;
    await enqueue(
      type,
      Array.from({ length: 7 }, (_, n) => ({ topic: n % 3 === 2 ? b : a, key: `k${n % 2}`, n })),
    );
    const stop = new AbortController();
    const deps = { pool, producer, faults: new Set<never>(), log, batchSize: 3 };
    const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 10, lingerMs: 5 });
    await until('the backlog published', async () => (await unpublished()) === 0);
    // Idle now: a row that arrives later is found by the probe.
    await enqueue(type, [{ topic: a, key: 'k1', n: 7 }]);
    await until('the late row published', async () => (await unpublished()) === 0);
    stop.abort();
    await loop;
    const attempts = await sql.query('SELECT DISTINCT publish_attempts FROM outbox');
    expect(attempts.rows).toEqual([{ publish_attempts: 1 }]);
    const msgs = await readTopics({ brokers: stack.kafkaBrokers, topics: [a, b] });
    const of = (t: string) =>
      msgs.filter((m) => m.topic === t).map((m) => [m.key, (m.json as { n: number }).n]);
    expect(of(a)).toEqual([
      ['k0', 0],
      ['k1', 1],
      ['k1', 3],
      ['k0', 4],
      ['k0', 6],
      ['k1', 7],
    ]);
    expect(of(b)).toEqual([
      ['k0', 2],
      ['k1', 5],
    ]);
    expect(await counter(metrics.eventsPublished, { type })).toBe(8);
  });

  it('retries a send the broker refuses without marking the row, renews the producer after five failures in a row, and publishes once the row can be sent', async () => {
    const [ok] = (await freshTopics(1)) as [string];
    const type = `T_${randomUUID().slice(0, 8)}`;
    // An illegal topic name: the broker refuses every send of this row.
    await enqueue(type, [{ topic: 'no such topic ☃', key: 'k', n: 0 }]);
    const renewed: Producer[] = [];
    const stop = new AbortController();
    const before = await counter(metrics.retries, { component: 'relay' });
    const deps = {
      pool,
      producer,
      faults: new Set<never>(),
      log,
      renewProducer: async () => {
        const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        renewed.push(p);
        return p;
      },
    };
    const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 10, lingerMs: 0 });
    try {
      await until('a renewed producer', async () => renewed.length >= 1, 30_000);
      expect(await unpublished()).toBe(1);
      expect(deps.producer).toBe(renewed[0]);
      expect(await counter(metrics.retries, { component: 'relay' })).toBeGreaterThanOrEqual(before + 5);
      const attempts = await sql.query('SELECT publish_attempts FROM outbox WHERE event_type = $1', [type]);
      expect(attempts.rows).toEqual([{ publish_attempts: 0 }]);
      await sql.query('UPDATE outbox SET topic = $1 WHERE event_type = $2', [ok, type]);
      await until('the row published', async () => (await unpublished()) === 0, 30_000);
    } finally {
      stop.abort();
      await loop;
      for (const p of renewed) await p.disconnect();
    }
    const msgs = await readTopics({ brokers: stack.kafkaBrokers, topics: [ok] });
    expect(msgs.map((m) => m.key)).toEqual(['k']);
  });

  it('leaves a batch unpublished when a partition leader died mid-send and kafkajs answered for the other partitions only, and publishes all of it on the next cycle', async () => {
    await until('an empty outbox', async () => (await unpublished()) === 0);
    const type = `T_${randomUUID().slice(0, 8)}`;
    // Keys name the partitions (0 led by broker 1, 1 by broker 2, which dies mid-request).
    await enqueue(type, [
      { topic: 'failover', key: '0', n: 0 },
      { topic: 'failover', key: '1', n: 1 },
    ]);
    const c = new FailoverCluster();
    const failover = checkedProducer(c.kafka, {}, partitionByKey);
    await failover.connect();
    c.killLeaderOf(1);
    const deps = { pool, producer: failover, faults: new Set<never>(), log };
    await expect(relayOnce(deps)).rejects.toThrow(/without partitions failover\/1/);
    expect(await unpublished()).toBe(2);
    expect(await relayOnce(deps)).toBe(2);
    expect(await unpublished()).toBe(0);
    // Partition 1's event is written at last; partition 0's twice (the inbox absorbs the copy).
    expect(c.written.map((w) => [w.partition, w.key]).sort()).toEqual([
      [0, '0'],
      [0, '0'],
      [1, '1'],
    ]);
  });

  it('relayOnce refuses a batch size that is not a positive integer, and answers 0 on an empty outbox', async () => {
    const deps = { pool, producer, faults: new Set<never>(), log };
    await expect(relayOnce({ ...deps, batchSize: 0 })).rejects.toThrow(/batch size 0/);
    await expect(relayOnce({ ...deps, batchSize: 1.5 })).rejects.toThrow(/batch size 1.5/);
    await until('an empty outbox', async () => (await unpublished()) === 0);
    expect(await relayOnce(deps)).toBe(0);
  });

  it('watchBacklog keeps the backlog gauge equal to the unpublished rows', async () => {
    await enqueue('T_backlog', [
      { topic: 'x', key: 'k', n: 0 },
      { topic: 'x', key: 'k', n: 1 },
    ]);
    const stop = new AbortController();
    const watching = watchBacklog(pool, stop.signal, 10);
    const gauge = async () => (await metrics.outboxBacklog.get()).values[0]?.value;
    try {
      await until('the gauge at 2', async () => (await gauge()) === 2);
      await sql.query(`UPDATE outbox SET published_at = now() WHERE event_type = 'T_backlog'`);
      await until('the gauge at 0', async () => (await gauge()) === 0);
    } finally {
      stop.abort();
      await watching;
    }
  });
});

describe('sequenceBroken', () => {
  it('is true for the idempotent producer’s sequence errors, by type or message, however deep the cause', () => {
    expect(sequenceBroken({ type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' })).toBe(true);
    expect(sequenceBroken({ type: 'UNKNOWN_PRODUCER_ID' })).toBe(true);
    expect(sequenceBroken({ type: 'INVALID_PRODUCER_EPOCH' })).toBe(true);
    expect(sequenceBroken(new Error('The broker received an Out of order sequence number'))).toBe(true);
    expect(sequenceBroken(new Error('UNKNOWN PRODUCER ID'))).toBe(true);
    expect(sequenceBroken(new Error('retries exhausted', { cause: { type: 'UNKNOWN_PRODUCER_ID' } }))).toBe(
      true,
    );
    expect(sequenceBroken({ message: 'x', originalError: { message: 'out of order sequence' } })).toBe(true);
    // Seven levels of wrapping are followed; the eighth is not.
    const wrap = (e: object, n: number): object => (n === 0 ? e : wrap({ cause: e }, n - 1));
    expect(sequenceBroken(wrap({ type: 'UNKNOWN_PRODUCER_ID' }, 7))).toBe(true);
    expect(sequenceBroken(wrap({ type: 'UNKNOWN_PRODUCER_ID' }, 8))).toBe(false);
  });

  it('is false for anything else', () => {
    expect(sequenceBroken(undefined)).toBe(false);
    expect(sequenceBroken(new Error('connection refused'))).toBe(false);
    expect(sequenceBroken({ type: 'REQUEST_TIMED_OUT', message: 'sequence' })).toBe(false);
  });
});
