// The consumer framework's Kafka side (startConsuming, batchHandler, OffsetCommitter) against real
// Kafka, PostgreSQL and Redis: a real kafkajs consumer (fresh group id) reads a fresh topic (never the
// system's own topics, which the workers of other tests read) with the purchase worker's handler; chunk by chunk, valid events are applied once (a copy is a duplicate),
// an invalid message and an event the handler can never apply are dead-lettered with their key,
// value and source in headers, and only then is the offset committed (through the committer's
// interval timer). What the metrics say is checked too: they are what operators read.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Admin, Consumer, Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { seed } from '../../harness/system/seed.ts';
import { dlqTopic, eventIdFor, type PurchaseConfirmedEvent } from '../../system/contracts/index.ts';
import { type ConsumerDeps, startConsuming } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { handlePurchaseConfirmed } from '../../system/workers/purchase/handler.ts';
import { sum } from '../support/metric-sum.ts';
import { until } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('consumer-loop', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'consumer-loop-test', log);
const group = 'purchase-worker' as const;
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: Pool;
let sql: pg.Client;
let redis: Redis;
let producer: Producer;
let consumer: Consumer | undefined;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pool = createPool(db.url, 3);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  redis = new Redis(stack.direct.redisUrl);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  redis?.disconnect();
  await sql?.end();
  await pool?.end();
  await db?.drop();
  await dbs?.close();
});

async function paid(student: string, course: string): Promise<PurchaseConfirmedEvent> {
  const id = randomUUID();
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

/** Two students, one course (seed's ids repeat: the second call finds the same rows). */
const world = { students: 2, courses: 1, trainers: 1, trainerCapacity: 5, sessionCount: 2 };

/** A topic of this test's own (never the system's: the workers of other tests read those). */
async function freshTopic(admin: Admin, prefix: string): Promise<string> {
  const topic = `${prefix}.${randomUUID()}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  return topic;
}

/** The purchase worker's consumer dependencies, on `c`. */
const depsOn = (c: Consumer, extra: Partial<ConsumerDeps> = {}): ConsumerDeps => ({
  group,
  pool,
  consumer: c,
  producer,
  handler: handlePurchaseConfirmed,
  dashboards: redisDashboardCache(redis),
  faults: new Set(),
  log,
  clockSkewMs: 0,
  ...extra,
});

describe('batchHandler on a real consumer', { timeout: 20_000 }, () => {
  it('applies each event once, dead-letters what can never succeed with its source, and commits the offset only after', async () => {
    const ids = await seed(db.url, world);
    const [s1, s2] = ids.students as [string, string];
    const course = ids.courses[0]!;
    const first = await paid(s1, course);
    const second = await paid(s2, course);
    const unknown = {
      ...first,
      eventId: randomUUID(),
      payload: { ...first.payload, paymentId: randomUUID() },
    };
    const admin = kafka.admin();
    await admin.connect();
    const topic = await freshTopic(admin, 'consumer-loop');
    const values = [
      JSON.stringify(first),
      JSON.stringify(first),
      '{not json',
      JSON.stringify(unknown),
      JSON.stringify(second),
    ];
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ key: `key-${i}`, value })),
    });

    const before = {
      applied: await sum(metrics.eventsProcessed, { group, outcome: 'applied' }),
      duplicate: await sum(metrics.eventsProcessed, { group, outcome: 'duplicate' }),
      dead: await sum(metrics.eventsProcessed, { group, outcome: 'dead-lettered' }),
      hits: await sum(metrics.idempotencyHits, { group }),
      handlerError: await sum(metrics.deadLetters, { group, reason: 'handler_error' }),
      malformed: await sum(metrics.deadLetters, { group, reason: 'malformed_json' }),
      observed: await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_count'),
    };
    const groupId = `consumer-loop-${randomUUID()}`;
    consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const deps = depsOn(consumer, { chunkSize: 2, maxAttempts: 2 });
    // The events were produced before the consumer started: read from the beginning of the topic.
    const committer = await startConsuming(deps, { topics: [topic], commitIntervalMs: 100 });
    const committed = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)
        ?.offset;
    await until('offset 5 committed', async () => (await committed()) === '5');
    await committer.flush();
    await consumer.disconnect();
    consumer = undefined;
    await admin.disconnect();

    const purchases = await sql.query('SELECT payment_id FROM student_course_purchases ORDER BY created_at');
    expect(purchases.rows.map((r) => r.payment_id).sort()).toEqual(
      [first.payload.paymentId, second.payload.paymentId].sort(),
    );
    const inbox = await sql.query('SELECT event_id FROM processed_events WHERE consumer = $1', [group]);
    expect(inbox.rows.map((r) => r.event_id).sort()).toEqual([first.eventId, second.eventId].sort());

    const dead = (await readTopics({ brokers: stack.kafkaBrokers, topics: [dlqTopic(group)] })).filter(
      (m) => m.headers['x-source-topic'] === topic,
    );
    expect(
      dead.map((m) => ({
        key: m.key,
        value: m.value,
        reason: m.headers['x-dlq-reason'],
        partition: m.headers['x-source-partition'],
        offset: m.headers['x-source-offset'],
        group: m.headers['x-consumer-group'],
      })),
    ).toEqual([
      { key: 'key-2', value: '{not json', reason: 'malformed_json', partition: '0', offset: '2', group },
      { key: 'key-3', value: values[3], reason: 'handler_error', partition: '0', offset: '3', group },
    ]);
    for (const m of dead) expect(m.headers['x-dlq-detail']?.length).toBeGreaterThan(0);
    expect(dead[1]!.headers['x-dlq-detail']).toContain(unknown.payload.paymentId);

    expect(await sum(metrics.eventsProcessed, { group, outcome: 'applied' })).toBe(before.applied + 2);
    expect(await sum(metrics.eventsProcessed, { group, outcome: 'duplicate' })).toBe(before.duplicate + 1);
    expect(await sum(metrics.eventsProcessed, { group, outcome: 'dead-lettered' })).toBe(before.dead + 1);
    expect(await sum(metrics.eventsProcessed, { group, type: 'PURCHASE_CONFIRMED' })).toBe(
      before.applied + before.duplicate + before.dead + 4,
    );
    expect(await sum(metrics.idempotencyHits, { group })).toBe(before.hits + 1);
    expect(await sum(metrics.deadLetters, { group, reason: 'handler_error' })).toBe(before.handlerError + 1);
    expect(await sum(metrics.deadLetters, { group, reason: 'malformed_json' })).toBe(before.malformed + 1);
    expect(await sum(metrics.consumerLag, { group, topic, partition: '0' })).toBe(0);
    expect(
      await sum(metrics.processingSeconds, { group }, 'payproof_event_processing_seconds_count'),
    ).toBeGreaterThan(before.observed);
  });
});

describe('startConsuming', { timeout: 20_000 }, () => {
  it('leaves every offset commit to the committer: nothing is committed until it flushes', async () => {
    const ids = await seed(db.url, world);
    const events = [
      await paid(ids.students[0]!, ids.courses[0]!),
      await paid(ids.students[1]!, ids.courses[0]!),
    ];
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = await freshTopic(admin, 'consumer-start');
      await producer.send({
        topic,
        acks: -1,
        messages: events.map((e) => ({ key: e.payload.studentId, value: JSON.stringify(e) })),
      });
      const groupId = `consumer-start-${randomUUID()}`;
      const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      consumer = c;
      // Seen by the broker's client, not by the system: every OffsetCommit kafkajs sends, and every fetch.
      let commits = 0;
      let fetches = 0;
      c.on(c.events.COMMIT_OFFSETS, () => commits++);
      c.on(c.events.FETCH, () => fetches++);
      const committer = await startConsuming(
        depsOn(c),
        // An interval no test outlives (and below setTimeout's 2^31 - 1 ms, past which Node fires at
        // once): only an explicit flush commits.
        { topics: [topic], commitIntervalMs: 2_000_000_000 },
      );
      // Both handled (seed's ids repeat across tests, so these students may have bought the course
      // already: the inbox rows, written in the chunk's transaction, say the events were handled).
      await until('both events handled', async () => {
        const r = await sql.query(
          'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)',
          [group, events.map((e) => e.eventId)],
        );
        return r.rows[0].n === 2;
      });
      // Two more fetches: a commit kafkajs makes on its own after a batch (autoCommit) would be sent by now.
      const after = fetches;
      await until('two more fetches', async () => fetches >= after + 2);
      const committed = async () =>
        (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === 0)
          ?.offset;
      expect(commits).toBe(0);
      expect(await committed()).toBe('-1');
      await committer.flush();
      expect(commits).toBe(1);
      expect(await committed()).toBe('2');
    } finally {
      await consumer?.disconnect();
      consumer = undefined;
      await admin.disconnect();
    }
  });
});
