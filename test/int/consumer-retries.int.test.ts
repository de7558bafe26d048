// The consumer framework's retries on a real kafkajs consumer (real Kafka, PostgreSQL, Redis): a
// chunk whose handler reports a transient condition is retried with backoff (each retry counted by
// its reason), a condition only time can fix is retried maxTransientAttempts times, then the event
// still failing is dead-lettered alone as retries_exhausted (its detail capped at 1,000
// characters) while the rest of its chunk commits, and a chunk of invalid messages only is
// dead-lettered whole. Written for the mutation score (issue 12): `retrying` and the logical-retry
// count of batchHandler had no covering test.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { type DomainEvent, dlqTopic } from '../../system/contracts/index.ts';
import { batchHandler, type ConsumerDeps, OffsetCommitter } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { AppError } from '../../system/lib/errors.ts';
import type { EventHandler } from '../../system/lib/inbox.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { sum } from '../support/metric-sum.ts';
import { until } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('consumer-retries', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'consumer-retries-test', log);
const group = 'purchase-worker' as const;
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;
let redis: Redis;
let producer: Producer;
let consumer: Consumer | undefined;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  const db = await dbs.create();
  pool = createPool(db.url, 3);
  redis = new Redis(stack.direct.redisUrl);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  redis?.disconnect();
  await pool?.end();
  await dbs?.close();
});

function event(): DomainEvent {
  const id = randomUUID();
  return {
    eventId: randomUUID(),
    correlationId: id,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: {
      paymentId: id,
      studentId: randomUUID(),
      courseId: randomUUID(),
      amountCents: 100,
      metadata: {},
    },
  };
}

/** Sends `values` to a fresh topic and consumes it with `handler` until `n` offsets are committed. */
async function consume(values: readonly string[], handler: EventHandler, extra: Partial<ConsumerDeps> = {}) {
  const topic = `consumer-retries.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A fresh broker may not host a new partition at once: wait for its leader through metadata.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await until('the topic’s leader', async () =>
      admin
        .fetchTopicMetadata({ topics: [topic] })
        .then((m) => m.topics[0]?.partitions.every((p) => p.leader >= 0) ?? false)
        .catch(() => false),
    );
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ key: `key-${i}`, value })),
    });
    const groupId = `consumer-retries-${randomUUID()}`;
    consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const deps: ConsumerDeps = {
      group,
      pool,
      consumer,
      producer,
      handler,
      dashboards: redisDashboardCache(redis),
      faults: new Set(),
      log,
      clockSkewMs: 0,
      maxAttempts: 2,
      ...extra,
    };
    const committer = new OffsetCommitter(deps, 0);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: batchHandler(deps, committer),
    });
    const committed = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)
        ?.offset;
    await until(
      `offset ${values.length} committed`,
      async () => (await committed()) === String(values.length),
    );
    await committer.flush();
    await consumer.disconnect();
    consumer = undefined;
    const dead = (await readTopics({ brokers: stack.kafkaBrokers, topics: [dlqTopic(group)] })).filter(
      (m) => m.headers['x-source-topic'] === topic,
    );
    return { topic, dead };
  } finally {
    await admin.disconnect();
  }
}

describe('batchHandler retries on a real consumer', { timeout: 60_000 }, () => {
  it('retries a contended event maxTransientAttempts times, then dead-letters it alone (detail capped), the rest committed', async () => {
    const events = [event(), event(), event()];
    const stuck = events[1]!;
    const why = `every trainer is taken ${'x'.repeat(1_500)}`;
    let chunkCalls = 0;
    let aloneCalls = 0;
    const handler: EventHandler = async (_ctx, chunk) => {
      if (chunk.length > 1) chunkCalls++;
      else aloneCalls++;
      if (chunk.some((e) => e.eventId === stuck.eventId)) throw new AppError('capacity_contended', why, true);
      return chunk.map(() => 'applied');
    };
    const reason = { component: group, reason: 'capacity_contended' };
    const before = {
      retries: await sum(metrics.retries, reason),
      applied: await sum(metrics.transportEvents, {
        transport: 'kafka',
        stage: 'consumed',
        outcome: 'applied',
      }),
      observed: await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_count'),
      seconds: await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_sum'),
    };
    // One chunk of exactly three: the loop must stop at the end of the batch.
    const { topic, dead } = await consume(
      events.map((e) => JSON.stringify(e)),
      handler,
      { chunkSize: 3, maxTransientAttempts: 2 },
    );
    // The chunk twice (each failure counted as a retry), then the exhausted pass: each event alone,
    // the contended one given up at once.
    expect([chunkCalls, aloneCalls]).toEqual([2, 3]);
    expect(await sum(metrics.retries, reason)).toBe(before.retries + 2);
    expect(dead.map((m) => [m.headers['x-dlq-reason'], m.headers['x-source-offset']])).toEqual([
      ['retries_exhausted', '1'],
    ]);
    expect(dead[0]!.headers['x-dlq-detail']).toBe(why.slice(0, 1_000));
    const inbox = await pool.query(
      'SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)',
      [group, events.map((e) => e.eventId)],
    );
    expect(inbox.rows.map((r) => r.event_id).sort()).toEqual([events[0]!.eventId, events[2]!.eventId].sort());
    expect(
      await sum(metrics.transportEvents, { transport: 'kafka', stage: 'consumed', outcome: 'applied' }),
    ).toBe(before.applied + 2);
    expect(await sum(metrics.consumerLag, { group, topic, partition: '0' })).toBe(0);
    expect(
      await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_count'),
    ).toBeGreaterThan(before.observed);
    const perEvent =
      (await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_sum')) -
      before.seconds;
    expect(perEvent).toBeGreaterThan(0);
    expect(perEvent).toBeLessThan(60);
  });

  it('retries an infrastructure error until it clears, each retry counted by its reason, and applies every event', async () => {
    const events = [event(), event()];
    const errors = [
      Object.assign(new Error('deadlock detected'), { code: '40P01' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
    ];
    const handler: EventHandler = async (_ctx, chunk) => {
      const err = errors.shift();
      if (err) throw err;
      return chunk.map(() => 'applied');
    };
    const reasons = ['40P01', 'ECONNRESET', 'transient'];
    const count = () =>
      Promise.all(reasons.map((reason) => sum(metrics.retries, { component: group, reason })));
    const r0 = await count();
    const { dead } = await consume(
      events.map((e) => JSON.stringify(e)),
      handler,
    );
    expect(dead).toEqual([]);
    expect(await count()).toEqual(r0.map((n) => n + 1));
    const inbox = await pool.query('SELECT 1 FROM processed_events WHERE event_id = ANY($1)', [
      events.map((e) => e.eventId),
    ]);
    expect(inbox.rowCount).toBe(2);
  });

  it('a chunk of invalid messages only is dead-lettered whole, and the offset moves on', async () => {
    const { dead } = await consume(['{not json', '{"also": "not an event"}'], async (_ctx, chunk) =>
      chunk.map(() => 'applied'),
    );
    expect(dead.map((m) => m.headers['x-source-offset'])).toEqual(['0', '1']);
    expect(dead[0]!.headers['x-dlq-reason']).toBe('malformed_json');
  });
});
