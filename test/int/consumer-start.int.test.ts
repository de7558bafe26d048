// startConsuming, the one call a worker makes to consume its group's topics (system/lib/worker.ts),
// against the real Kafka, PostgreSQL and Redis of the stack: a consumer of a fresh group id
// subscribes to every topic of the purchase worker's group (two of them), from the beginning, and
// hands each batch to the consumer framework, which commits the offsets through the committer it
// returns. Written for the mutation score (issue 12): the function ran only in the workers' own
// processes, which Stryker does not see.
//
// The group's topics are the system's shared topics: other tests may have left events there, so the
// handler applies whatever it is given (into this file's scratch database) and the test looks only
// for its own two events, both sent before the consumer starts (only `fromBeginning` finds them).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import {
  type DomainEvent,
  type PaymentRefundRequestedEvent,
  type PurchaseConfirmedEvent,
  topics,
} from '../../system/contracts/index.ts';
import { type OffsetCommitter, startConsuming } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import type { EventHandler } from '../../system/lib/inbox.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { until } from '../support/until.ts';

const stack = inject('stack');
const log = createLogger('consumer-start', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'consumer-start-test', log);
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: Pool;
let redis: Redis;
let producer: Producer;
let consumer: Consumer | undefined;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
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
  await db?.drop();
  await dbs?.close();
});

function confirmed(): PurchaseConfirmedEvent {
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

function refund(): PaymentRefundRequestedEvent {
  const id = randomUUID();
  return {
    eventId: randomUUID(),
    correlationId: id,
    causationId: null,
    eventType: 'PAYMENT_REFUND_REQUESTED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: {
      refundId: randomUUID(),
      paymentId: id,
      studentId: randomUUID(),
      courseId: randomUUID(),
      providerPaymentId: `pi_${id}`,
      amountCents: 100,
      currency: 'EUR',
      reason: 'duplicate_capture',
    },
  };
}

describe('startConsuming', { timeout: 60_000 }, () => {
  it('consumes every topic of the group from the beginning through the framework, and its committer commits the offsets', async () => {
    const mine: DomainEvent[] = [confirmed(), refund()];
    const sent = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const e of mine) {
      const topic = topics[e.eventType];
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [{ key: e.payload.studentId, value: JSON.stringify(e) }],
      });
      sent.set(e.eventId, { topic, partition: meta!.partition, offset: meta!.baseOffset! });
    }

    const seen = new Set<string>();
    const handler: EventHandler = async (_ctx, chunk) =>
      chunk.map((e) => {
        seen.add(e.eventId);
        return 'applied';
      });
    const groupId = `consumer-start-${randomUUID()}`;
    consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const committer: OffsetCommitter = await startConsuming(
      {
        group: 'purchase-worker',
        pool,
        consumer,
        producer,
        handler,
        dashboards: redisDashboardCache(redis),
        faults: new Set(),
        log,
        clockSkewMs: 0,
      },
      { concurrency: 2, commitIntervalMs: 50 },
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      await until('both events handled', async () => mine.every((e) => seen.has(e.eventId)));
      // Handled through the framework: each one's inbox row is in the database.
      const inbox = await pool.query(
        'SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)',
        ['purchase-worker', mine.map((e) => e.eventId)],
      );
      expect(inbox.rows.map((r) => r.event_id).sort()).toEqual(mine.map((e) => e.eventId).sort());
      // The committer commits past each event's offset, on both topics.
      const committedPast = async () => {
        for (const { topic, partition, offset } of sent.values()) {
          const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const p = t?.partitions.find((x) => x.partition === partition);
          if (!p || BigInt(p.offset) <= BigInt(offset)) return false;
        }
        return true;
      };
      await until('the offsets committed past both events', async () => {
        await committer.flush();
        return committedPast();
      });
    } finally {
      await admin.disconnect();
      await consumer.disconnect();
      consumer = undefined;
    }
  });
});
