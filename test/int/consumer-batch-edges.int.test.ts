// The consumer framework's edges (system/lib/consumer.ts), on real PostgreSQL, Redis and Kafka (the
// dead-letter producer): what batchHandler does when the batch stops being this member's (stale, or
// the consumer stopping) before or during a chunk, a non-transient error outside the handler (a
// deferred constraint refused at COMMIT), the consumer-lag gauge and the per-event processing time
// of a batch, which retries count as logical; what processChunk does with a contended event met in
// the replay after a permanent failure, which failures count as constraint violations, and the one
// log line per processed event. Written for issue 12's mutation score: each case fails on a mutant
// the other tests let through (docs/verification.md, "Round 3").
//
// The EachBatchPayload is built here, not taken from a running consumer: whether the batch is still
// ours (isRunning, isStale) is the broker's and kafkajs's to decide, and no real consumer can be made
// to change its answer between two given calls. Everything the handler touches is real.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { EachBatchPayload, Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readTopics } from '../../harness/checker/read-topics.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { type DomainEvent, dlqTopic } from '../../system/contracts/index.ts';
import { batchHandler, type ConsumerDeps, OffsetCommitter, processChunk } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { AppError } from '../../system/lib/errors.ts';
import type { EventHandler } from '../../system/lib/inbox.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger, type Logger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { sum } from '../support/metric-sum.ts';

const stack = inject('stack');
const silent = createLogger('consumer-batch-edges', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'consumer-batch-edges-test', silent);
const group = 'purchase-worker' as const;
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;
let redis: Redis;
let producer: Producer;
/** Never connected: every send is refused with kafkajs's retriable "The producer is disconnected". */
let disconnected: Producer;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  const db = await dbs.create();
  pool = createPool(db.url, 3);
  redis = new Redis(stack.direct.redisUrl);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  disconnected = kafka.producer();
});

afterAll(async () => {
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

function deps(handler: EventHandler, extra: Partial<ConsumerDeps> = {}): ConsumerDeps {
  return {
    group,
    pool,
    // Offsets are queued, never sent (the committer below waits a day): no group to commit to.
    consumer: null as never,
    producer,
    handler,
    dashboards: redisDashboardCache(redis),
    faults: new Set(),
    log: silent,
    clockSkewMs: 0,
    maxAttempts: 1,
    ...extra,
  };
}

/**
 * One batch of `values` at offsets 100, 101, ... of a topic of its own, with `running` and `stale`
 * answering each call in turn (the last answer repeats); what batchHandler resolved is recorded.
 */
function batchOf(
  values: readonly string[],
  {
    running = [true],
    stale = [false],
    lag = 0,
  }: { running?: boolean[]; stale?: boolean[]; lag?: number } = {},
) {
  const topic = `consumer-batch-edges.${randomUUID()}`;
  const resolved: string[] = [];
  const answer = (answers: boolean[]) => () => (answers.length > 1 ? answers.shift()! : answers[0]!);
  const messages = values.map((v, i) => ({
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(v),
    offset: String(100 + i),
    timestamp: String(Date.now()),
    headers: {},
    attributes: 0,
    size: v.length,
  }));
  const payload = {
    batch: {
      topic,
      partition: 0,
      highWatermark: String(100 + values.length + lag),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => messages.at(-1)?.offset ?? '99',
      offsetLag: () => String(lag),
      offsetLagLow: () => String(lag),
    },
    resolveOffset: (o: string) => resolved.push(o),
    heartbeat: async () => {},
    commitOffsetsIfNecessary: async () => {},
    uncommittedOffsets: () => ({ topics: [] }),
    pause: () => () => {},
    isRunning: answer([...running]),
    isStale: answer([...stale]),
  } as unknown as EachBatchPayload;
  return { topic, payload, resolved };
}

/**
 * batchHandler with a committer that only queues, forgotten afterwards: its interval is a day, and
 * it commits at once only when that long passed since the process started (performance.now()).
 */
async function handle(d: ConsumerDeps, payload: EachBatchPayload) {
  const committer = new OffsetCommitter(d, 86_400_000);
  try {
    await batchHandler(d, committer)(payload);
  } finally {
    committer.forget();
  }
}

const inbox = async (events: readonly DomainEvent[]) =>
  (
    await pool.query('SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)', [
      group,
      events.map((e) => e.eventId),
    ])
  ).rowCount;

const applied: EventHandler = async (_ctx, chunk) => chunk.map(() => 'applied');

describe('batchHandler at its edges', { timeout: 30_000 }, () => {
  it('handles nothing of a batch that is stale, or whose consumer is stopping, when a chunk starts', async () => {
    for (const [running, stale] of [
      [true, true],
      [false, false],
    ] as const) {
      const events = [event(), event()];
      const calls: number[] = [];
      const { payload, resolved } = batchOf(
        events.map((e) => JSON.stringify(e)),
        { running: [running], stale: [stale] },
      );
      await handle(
        deps(async (_ctx, chunk) => {
          calls.push(chunk.length);
          return chunk.map(() => 'applied');
        }),
        payload,
      );
      expect({ running, stale, calls, resolved, inbox: await inbox(events) }).toEqual({
        running,
        stale,
        calls: [],
        resolved: [],
        inbox: 0,
      });
    }
  });

  it('a transient failure after the consumer started stopping leaves the chunk to the next owner: no retry, no offset', async () => {
    const events = [event(), event()];
    let calls = 0;
    const retries = () => sum(metrics.retries, { component: group, reason: 'ECONNRESET' });
    const r0 = await retries();
    // Running at the chunk's start, stopping when the failure comes back.
    const { payload, resolved } = batchOf(
      events.map((e) => JSON.stringify(e)),
      { running: [true, false] },
    );
    await handle(
      deps(async (_ctx, chunk) => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return chunk.map(() => 'applied');
      }),
      payload,
    );
    expect([calls, resolved, await inbox(events)]).toEqual([1, [], 0]);
    expect(await retries()).toBe(r0);
  });

  it('a dead letter that cannot be sent while the consumer stops leaves its offset unresolved', async () => {
    const { topic, payload, resolved } = batchOf(['{not json'], { running: [true, false] });
    await handle(deps(applied, { producer: disconnected }), payload);
    expect(resolved).toEqual([]);
    const dead = (await readTopics({ brokers: stack.kafkaBrokers, topics: [dlqTopic(group)] })).filter(
      (m) => m.headers['x-source-topic'] === topic,
    );
    expect(dead).toEqual([]);
  });

  it('a non-transient error outside the handler (a deferred constraint refused at COMMIT) is thrown at once, not retried', async () => {
    const events = [event()];
    let calls = 0;
    const { payload, resolved } = batchOf(
      events.map((e) => JSON.stringify(e)),
      { running: [true, true, false] },
    );
    const handler: EventHandler = async (ctx, chunk) => {
      calls++;
      await ctx.client.query(
        'CREATE TEMP TABLE deferred_once (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP',
      );
      await ctx.client.query('INSERT INTO deferred_once VALUES (1), (1)');
      return chunk.map(() => 'applied');
    };
    await expect(handle(deps(handler), payload)).rejects.toMatchObject({ code: '23505' });
    expect([calls, resolved, await inbox(events)]).toEqual([1, [], 0]);
  });

  it('sets the partition’s consumer lag from the high watermark, and observes the processing time per event', async () => {
    const events = Array.from({ length: 10 }, event);
    const { topic, payload, resolved } = batchOf(
      events.map((e) => JSON.stringify(e)),
      { lag: 5 },
    );
    const name = 'payproof_event_processing_seconds';
    const before = {
      count: await sum(metrics.processingSeconds, { group }, `${name}_count`),
      seconds: await sum(metrics.processingSeconds, { group }, `${name}_sum`),
    };
    const started = performance.now();
    await handle(
      deps(async (_ctx, chunk) => {
        await new Promise((r) => setTimeout(r, 300));
        return chunk.map(() => 'applied');
      }),
      payload,
    );
    const wallS = (performance.now() - started) / 1000;
    expect(resolved).toEqual(['109']);
    // Offsets 100-109 handled, high watermark 115: 5 behind, on this group, topic and partition.
    expect(await sum(metrics.consumerLag, { group, topic, partition: '0' })).toBe(5);
    expect(await sum(metrics.processingSeconds, { group }, `${name}_count`)).toBe(before.count + 1);
    const perEvent = (await sum(metrics.processingSeconds, { group }, `${name}_sum`)) - before.seconds;
    // The batch's time divided by its 10 events: about the handler's 300 ms / 10, at most the wall time / 10.
    expect(perEvent).toBeGreaterThanOrEqual(0.029); // a timer may fire a fraction of a millisecond early
    expect(perEvent).toBeLessThanOrEqual(wallS / 10);
  });

  it('counts only logical retries towards maxTransientAttempts: infrastructure errors keep the chunk whole', async () => {
    const events = [event(), event()];
    const sizes: number[] = [];
    let failures = 3;
    const { payload, resolved } = batchOf(events.map((e) => JSON.stringify(e)));
    await handle(
      deps(
        async (_ctx, chunk) => {
          sizes.push(chunk.length);
          if (failures-- > 0) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
          return chunk.map(() => 'applied');
        },
        { maxTransientAttempts: 2 },
      ),
      payload,
    );
    // Three failed tries of the chunk and the fourth applies it whole: never the exhausted
    // one-event-at-a-time pass a third logical retry would start.
    expect(sizes).toEqual([2, 2, 2, 2]);
    expect([resolved, await inbox(events)]).toEqual([['101'], 2]);
  });
});

describe('processChunk at its edges', { timeout: 30_000 }, () => {
  const parsed = (events: readonly DomainEvent[]) =>
    events.map((e, i) => ({
      message: { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i) },
      event: e,
    }));

  it('a contended event met in the replay after a permanent failure aborts the chunk to be retried, not dead-lettered', async () => {
    const bad = event();
    const contended = event();
    const handler: EventHandler = async (_ctx, chunk) => {
      if (chunk.some((e) => e.eventId === bad.eventId)) throw new AppError('handler_error', 'boom', false);
      if (chunk.length === 1) throw new AppError('capacity_contended', 'every trainer is taken', true);
      return chunk.map(() => 'applied');
    };
    await expect(processChunk(deps(handler), parsed([bad, contended]))).rejects.toMatchObject({
      code: 'capacity_contended',
    });
    expect(await inbox([bad, contended])).toBe(0);
  });

  it('counts a dead letter as a constraint violation only for a constraint’s SQLSTATE (class 23)', async () => {
    const violations = () => sum(metrics.constraintViolations, { group });
    const v0 = await violations();
    const cast: EventHandler = async (ctx, chunk) => {
      await ctx.client.query(`SELECT 'not a uuid'::uuid`);
      return chunk.map(() => 'applied');
    };
    const r1 = await processChunk(deps(cast), parsed([event()]));
    expect(r1.dead.map((d) => [d.reason, d.detail.slice(0, 5)])).toEqual([['handler_error', '22P02']]);
    expect(await violations()).toBe(v0);

    const unique: EventHandler = async (ctx, chunk) => {
      await ctx.client.query('CREATE TEMP TABLE once_only (id int PRIMARY KEY) ON COMMIT DROP');
      await ctx.client.query('INSERT INTO once_only VALUES (1), (1)');
      return chunk.map(() => 'applied');
    };
    const r2 = await processChunk(deps(unique), parsed([event()]));
    expect(r2.dead.map((d) => [d.reason, d.detail.slice(0, 5)])).toEqual([['handler_error', '23505']]);
    expect(await violations()).toBe(v0 + 1);
  });

  it('logs one line per event after the commit, at the configured level, with its ids, outcome and times', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const logger = (level: string): Logger => pino({ level }, sink);
    const slow: EventHandler = async (_ctx, chunk) => {
      await new Promise((r) => setTimeout(r, 60));
      return chunk.map(() => 'applied');
    };
    const e = event();
    const started = performance.now();
    // The same event twice in one chunk: handled once, the copy a duplicate.
    await processChunk(deps(slow, { log: logger('info') }), parsed([e, e]));
    const wallMs = performance.now() - started;
    const processed = lines.filter((l) => l.msg === 'event processed');
    expect(
      processed.map((l) => [
        l.level,
        l.eventId,
        l.correlationId,
        l.causationId,
        l.eventType,
        l.offset,
        l.outcome,
      ]),
    ).toEqual([
      [30, e.eventId, e.correlationId, null, 'PURCHASE_CONFIRMED', '0', 'applied'],
      [30, e.eventId, e.correlationId, null, 'PURCHASE_CONFIRMED', '1', 'duplicate'],
    ]);
    for (const l of processed) {
      // The chunk's time in the database: about the handler's 60 ms or more, at most the whole call.
      expect(l.processingMs as number).toBeGreaterThanOrEqual(55);
      expect(l.processingMs as number).toBeLessThanOrEqual(wallMs + 1);
      expect(l.e2eMs as number).toBeGreaterThanOrEqual(0);
      expect(l.e2eMs as number).toBeLessThan(60_000);
    }

    // A logger above the configured level: no line.
    lines.length = 0;
    await processChunk(deps(slow, { log: logger('warn') }), parsed([event()]));
    expect(lines.filter((l) => l.msg === 'event processed')).toEqual([]);
    // `debug` configured: the line at 20, only when the logger takes it.
    await processChunk(deps(slow, { log: logger('debug'), eventLogLevel: 'debug' }), parsed([event()]));
    expect(lines.filter((l) => l.msg === 'event processed').map((l) => l.level)).toEqual([20]);
  });
});
