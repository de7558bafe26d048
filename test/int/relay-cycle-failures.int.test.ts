// The relay when Kafka refuses a send (system/relay/relay.ts), on real PostgreSQL, Kafka and Redis:
// every send tells the Redis Streams fallback's breaker how Kafka answered (a success after a
// failure must read as a success, or the breaker opens on a healthy Kafka; a failure must read as a
// failure, or it never opens), and a relay with no producer to renew keeps retrying past its fifth
// failure in a row, each failure counted by whether it is transient. The producer that fails is a
// real kafkajs producer that was never connected ("The producer is disconnected", retriable). Also:
// a cycle failing for a reason retrying cannot fix is counted as `error`; a producer renewal refused
// when Kafka comes back keeps the old producer; a Kafka probe that never answers is timed out.
// Written for issue 12's mutation score: the other relay tests let these mutants through.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { sleep } from '../../harness/lib/wait-for.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { TransportBreaker } from '../../system/relay/breaker.ts';
import { type RelayDeps, relayOnce, runRelay, watchKafka } from '../../system/relay/relay.ts';
import { connectedRedis } from '../support/redis.ts';
import { deadlineIn } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('relay-cycle-failures', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'relay-cycle-failures-test', log);
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;
let producer: Producer;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  pool = createPool((await dbs.create()).url, 3);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await pool?.end();
  await dbs?.close();
});

async function freshTopic(): Promise<string> {
  const topic = `relay-cycle-failures.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

async function enqueue(topic: string): Promise<void> {
  await pool.query(
    `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, 'T_cycle', $2, 'k', '{}')`,
    [randomUUID(), topic],
  );
}

const unpublished = async () =>
  (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'))
    .rows[0]!.n;

/** Waits until the outbox has nothing unpublished, or `ms` have passed (the caller asserts which). */
async function untilPublished(ms: number): Promise<void> {
  const deadline = deadlineIn(ms);
  while ((await unpublished()) > 0 && performance.now() < deadline) await sleep(50);
}

const retries = async (reason: string) =>
  (await metrics.retries.get()).values
    .filter((v) => v.labels.component === 'relay' && v.labels.reason === reason)
    .reduce((s, v) => s + v.value, 0);

describe('the relay when Kafka refuses a send', { timeout: 30_000 }, () => {
  it('tells the breaker how each send went: a failure, then a success', async () => {
    const topic = await freshTopic();
    await enqueue(topic);
    const redis = createRedis(stack.redisUrl, log);
    const breaker = new TransportBreaker({ openAfterMs: 60_000, closeAfterMs: 60_000 });
    const deps: RelayDeps = {
      pool,
      producer: kafka.producer(), // never connected: every send refused
      faults: new Set(),
      log,
      fallback: { redis, breaker, probeKafka: async () => {}, now: () => performance.now() },
    };
    try {
      await expect(relayOnce(deps)).rejects.toThrow(/disconnected/);
      expect([breaker.lastOk(), await unpublished()]).toEqual([false, 1]);
      deps.producer = producer;
      expect(await relayOnce(deps)).toBe(1);
      expect([breaker.lastOk(), await unpublished(), breaker.transport(performance.now())]).toEqual([
        true,
        0,
        'kafka',
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('without a producer to renew, keeps retrying past the fifth failure in a row, each counted as transient', async () => {
    const topic = await freshTopic();
    await enqueue(topic);
    const before = await retries('transient');
    const stop = new AbortController();
    const deps: RelayDeps = { pool, producer: kafka.producer(), faults: new Set(), log };
    let settled: unknown;
    const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 20, lingerMs: 0 }).then(
      () => {
        settled = 'returned';
      },
      (err: Error) => {
        settled = err;
      },
    );
    try {
      // The 5th failure in a row is where a relay with a producer to renew replaces it (backoff
      // 50-100, 100-200, 200-400, 400-800 ms before it): this one has none and must go on.
      const deadline = performance.now() + 20_000;
      while (
        (await retries('transient')) - before < 6 &&
        settled === undefined &&
        performance.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(settled).toBeUndefined();
      expect((await retries('transient')) - before).toBeGreaterThanOrEqual(6);
      expect(await retries('')).toBe(0);
      expect(await unpublished()).toBe(1);
    } finally {
      stop.abort();
      await loop;
      await pool.query('DELETE FROM outbox WHERE topic = $1', [topic]);
    }
  });
  it('counts a cycle that fails for a reason retrying cannot fix as an error', async () => {
    const topic = await freshTopic();
    await enqueue(topic);
    const before = await retries('error');
    // The claim reads a column that is not there (a schema the relay does not know): 42703.
    await pool.query('ALTER TABLE outbox RENAME COLUMN envelope TO envelope_renamed');
    const stop = new AbortController();
    const loop = runRelay({ pool, producer, faults: new Set(), log }, stop.signal, { lingerMs: 0 });
    try {
      const deadline = performance.now() + 10_000;
      while ((await retries('error')) === before && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await retries('error')) - before).toBeGreaterThanOrEqual(1);
    } finally {
      stop.abort();
      await loop;
      await pool.query('ALTER TABLE outbox RENAME COLUMN envelope_renamed TO envelope');
      await pool.query('DELETE FROM outbox WHERE topic = $1', [topic]);
    }
  });

  it('keeps its producer when the renewal is refused on the way back to Kafka, and publishes with it', async () => {
    const topic = await freshTopic();
    await enqueue(topic);
    const redis = await connectedRedis(stack.redisUrl, log);
    // Open from the start: the relay begins on the streams; the probe (always answered) closes it.
    const breaker = new TransportBreaker({ openAfterMs: 0, closeAfterMs: 0 });
    breaker.observe(false, performance.now());
    let renewals = 0;
    const errors = await retries('error');
    const deps: RelayDeps = {
      pool,
      producer,
      faults: new Set(),
      log,
      renewProducer: async () => {
        renewals++;
        throw new Error('renewal refused');
      },
      fallback: { redis, breaker, probeKafka: async () => {}, probeEveryMs: 20 },
    };
    const stop = new AbortController();
    const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 20, lingerMs: 0 });
    try {
      await untilPublished(15_000);
      expect([await unpublished(), renewals, deps.producer === producer]).toEqual([0, 1, true]);
      expect(await retries('error')).toBe(errors);
    } finally {
      stop.abort();
      await loop;
      redis.disconnect();
    }
  });

  it('keeps its producer when the renewal after the fifth failure in a row is refused, and publishes with it once Kafka takes sends again', async () => {
    const topic = await freshTopic();
    await enqueue(topic);
    // The connected producer, refusing its first five sends as a broker that is away would
    // (retriable): the fifth failure in a row asks for a renewal, which is refused.
    let refusals = 5;
    const flaky = new Proxy(producer, {
      get(target, key, receiver) {
        if (key !== 'sendBatch') return Reflect.get(target, key, receiver);
        return async (batch: Parameters<Producer['sendBatch']>[0]) => {
          if (refusals-- > 0) throw Object.assign(new Error('broker away'), { retriable: true });
          return target.sendBatch(batch);
        };
      },
    });
    let renewals = 0;
    const errors = await retries('error');
    const deps: RelayDeps = {
      pool,
      producer: flaky,
      faults: new Set(),
      log,
      renewProducer: async () => {
        renewals++;
        throw new Error('renewal refused');
      },
    };
    const stop = new AbortController();
    const loop = runRelay(deps, stop.signal, { idleMs: 2, maxIdleMs: 20, lingerMs: 0 });
    try {
      // Backoff 50-100, 100-200, 200-400, 400-800, 800-1600 ms after the five failures.
      await untilPublished(15_000);
      expect([await unpublished(), refusals, renewals, deps.producer === flaky]).toEqual([0, -1, 1, true]);
      // No cycle failed for want of a producer (a TypeError, counted as an error).
      expect(await retries('error')).toBe(errors);
    } finally {
      stop.abort();
      await loop;
      await pool.query('DELETE FROM outbox WHERE topic = $1', [topic]);
    }
  });

  it('times out a Kafka probe that never answers, and tells the breaker', async () => {
    let observed = 0;
    class Counting extends TransportBreaker {
      override observe(ok: boolean, atMs: number): void {
        observed++;
        super.observe(ok, atMs);
      }
    }
    const breaker = new Counting({ openAfterMs: 60_000, closeAfterMs: 60_000 });
    breaker.observe(false, performance.now()); // a failure: the watcher probes
    const stop = new AbortController();
    const watching = watchKafka(
      {
        redis: null as never, // the watcher never touches Redis
        breaker,
        probeKafka: () => new Promise(() => {}),
        probeEveryMs: 20,
        probeTimeoutMs: 100,
      },
      stop.signal,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    stop.abort();
    await Promise.race([watching, new Promise((r) => setTimeout(r, 500))]);
    // One failure per ~120 ms (100 ms timeout + 20 ms pause) besides the first one here.
    expect(observed).toBeGreaterThanOrEqual(4);
    expect(breaker.lastOk()).toBe(false);
  });
});
