// The invariants that read the topics (outbox-drained, events-processed, event-identity,
// processing-success-rate) and the exercised counters measured from them. Each test has its own
// database and its own copy of the topology (fresh topic names), so it sees only its own messages.
import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { invariants } from '../../harness/checker/check.ts';
import { type LoadOptions, loadContext } from '../../harness/checker/context.ts';
import type { CheckedInvariant } from '../../harness/checker/judge.ts';
import { ReferenceWorld } from '../../harness/checker/reference-state.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { everyTopic, isolatedTopicSet, type TopicSet } from '../../harness/checker/topic-set.ts';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import type { PurchaseCreatedEvent } from '../../system/contracts/events.ts';

const stack = inject('stack');
const kafka = harnessKafka(stack.kafkaBrokers, 'checker-kafka-test', { requestTimeout: 30_000 });
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
});
afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await dbs?.close();
});

/** A fresh database and a fresh topology; `check` reads both. */
async function fresh() {
  const scratch = await dbs.create();
  const db = new pg.Pool({ connectionString: scratch.url, max: 2 });
  const topicSet: TopicSet = isolatedTopicSet(randomUUID().slice(0, 8));
  await admin.createTopics({
    waitForLeaders: true,
    topics: everyTopic(topicSet).map((topic) => ({ topic, numPartitions: topic.includes('.dlq') ? 1 : 2 })),
  });
  // No wait here: the checker itself asks again while a fresh topic answers ListOffsets with
  // "not the leader" (fetchTopicOffsetsSettled in harness/lib/kafka.ts).
  onTestFinished(async () => {
    await admin.deleteTopics({ topics: everyTopic(topicSet) }).catch(() => {});
    await db.end();
    await scratch.drop();
  });
  const w = await ReferenceWorld.open(db, topicSet);
  const send = (topic: string, value: string, key: string | null = null, headers?: Record<string, string>) =>
    producer.send({ topic, acks: -1, messages: [{ key, value, ...(headers ? { headers } : {}) }] });
  const load = (o: Partial<LoadOptions> = {}) =>
    loadContext({ databaseUrl: scratch.url, brokers: stack.kafkaBrokers, topicSet, ...o });
  const check = async (names: string[], o: Partial<LoadOptions> = {}) => {
    const ctx = await load(o);
    try {
      const out: Record<string, CheckedInvariant> = {};
      for (const n of names) out[n] = await invariants[n]!(ctx);
      return { results: out, exercised: ctx.exercised };
    } finally {
      await ctx.close();
    }
  };
  return { w, db, topicSet, send, check };
}

const kafkaInvariants = ['outbox-drained', 'events-processed', 'event-identity', 'processing-success-rate'];

describe('the topic invariants on a correct world', () => {
  it('pass, with a relay re-publish counted as a duplicate delivery and an idempotency hit', async () => {
    const { w, db, check } = await fresh();
    await w.trainer({ capacity: 1 });
    const c = await w.course();
    const live = await w.pay(await w.student(), c);
    await w.pay(await w.student(), c); // waitlisted: no TRAINER_ALLOCATED
    expect(await w.publish(producer)).toBe(3 + 2);
    // The relay crashed between publish and mark: the same row goes out again.
    await db.query('UPDATE outbox SET published_at = NULL WHERE event_id = $1', [live.eventIds.created]);
    expect(await w.publish(producer)).toBe(1);
    const { results, exercised } = await check(kafkaInvariants);
    for (const n of kafkaInvariants) expect(results[n], n).toMatchObject({ valid: true, violations: 0 });
    expect(results['processing-success-rate']!.measured).toBe(1);
    expect(results['events-processed']!.checked).toBe(2 + 2 * 2 + 2); // confirmed x1 group, created x2, allocated x2
    expect(exercised).toMatchObject({
      duplicatesDelivered: 1,
      'duplicatesDelivered:PURCHASE_CREATED': 1,
      'duplicatesDelivered:PURCHASE_CONFIRMED': 0,
      idempotencyHits: 2, // allocation-worker and cache-worker each deduplicated it
      deadLettered: 0,
    });
  });

  it('measure out-of-order deliveries from arrival order and from processing order', async () => {
    const { w, db, topicSet, send, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    const early = (
      await db.query<{ envelope: { payload: { studentId: string } } }>(
        'SELECT envelope FROM outbox WHERE event_id = $1',
        [chain.eventIds.allocated],
      )
    ).rows[0]!.envelope;
    // TRAINER_ALLOCATED reaches Kafka before the PURCHASE_CREATED that caused it.
    await send(topicSet.events.TRAINER_ALLOCATED, JSON.stringify(early), early.payload.studentId);
    await w.publish(producer);
    const arrival = await check(['events-processed']);
    expect(arrival.exercised.outOfOrderDeliveries).toBe(1);
    expect(arrival.exercised.duplicatesDelivered).toBe(1);
    // The session worker handled it before the purchase worker had handled its cause's cause.
    await db.query(
      `UPDATE processed_events SET processed_at = now() - interval '1 minute' WHERE consumer = 'session-worker'`,
    );
    await db.query(`UPDATE processed_events SET processed_at = now() WHERE consumer = 'allocation-worker'`);
    const processing = await check(['events-processed']);
    expect(processing.exercised.outOfOrderDeliveries).toBe(2); // session-worker and cache-worker
    expect(processing.results['events-processed']!.valid).toBe(true);
  });

  it('are unknown over empty topics and an empty database', async () => {
    const { check } = await fresh();
    const { results } = await check(kafkaInvariants);
    for (const n of kafkaInvariants) expect(results[n]!.valid, n).toBe('unknown');
  });
});

describe('outbox-drained', () => {
  it('fails with the event id of an unpublished row and of a row marked published that never reached Kafka', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const [s, c] = [await w.student(), await w.course()];
    await w.pay(s, c);
    await w.publish(producer);
    const stuck = await w.createPayment({ studentId: s, courseId: await w.course() });
    const unpublished = await w.confirm(stuck);
    const lost = await w.confirm(await w.createPayment({ studentId: s, courseId: await w.course() }));
    // publish-before-commit: marked published, the send failed.
    await db.query('UPDATE outbox SET published_at = now() WHERE event_id = $1', [lost]);
    const r = (await check(['outbox-drained'])).results['outbox-drained']!;
    expect(r.valid).toBe(false);
    expect(r.violations).toBe(2);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'unpublished',
          eventId: unpublished,
          eventType: 'PURCHASE_CONFIRMED',
        }),
        expect.objectContaining({ kind: 'published-but-absent', eventId: lost }),
      ]),
    );
  });
});

describe('events-processed', () => {
  it('fails with the group and event id of an event one group never processed', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await w.publish(producer);
    await db.query(`DELETE FROM processed_events WHERE consumer = 'cache-worker' AND event_id = $1`, [
      chain.eventIds.created,
    ]);
    const { results } = await check(['events-processed', 'processing-success-rate']);
    const r = results['events-processed']!;
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual([
      expect.objectContaining({
        kind: 'not-processed',
        group: 'cache-worker',
        eventId: chain.eventIds.created,
        eventType: 'PURCHASE_CREATED',
      }),
    ]);
    const rate = results['processing-success-rate']!;
    expect(rate.valid).toBe(false);
    expect(rate.measured).toBeCloseTo(2 / 3);
    expect(rate.examples[0]).toMatchObject({
      eventId: chain.eventIds.created,
      found: { missing: ['cache-worker'] },
    });
  });

  it('accepts a poison message dead-lettered with a reason, and fails one left in the topic or lettered without reason', async () => {
    const { w, topicSet, send, check } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    await w.publish(producer);
    const confirmed = topicSet.events.PURCHASE_CONFIRMED;
    await send(confirmed, '{"not": "an event"');
    const { results, exercised } = await check(['events-processed']);
    expect(results['events-processed']!.examples).toEqual([
      expect.objectContaining({
        kind: 'invalid-not-dead-lettered',
        group: 'purchase-worker',
        rejectCode: 'malformed_json',
      }),
    ]);
    expect(exercised.deadLettered).toBe(0);
    // Which offset did it land on? Dead-letter it exactly as the worker would, first without a reason.
    const ctx = await loadContext({
      databaseUrl: w.db.options.connectionString!,
      brokers: stack.kafkaBrokers,
      topicSet,
    });
    const poison = ctx.eventMessages.find((m) => m.event === null)!;
    await ctx.close();
    const source = {
      'x-source-topic': poison.topic,
      'x-source-partition': String(poison.partition),
      'x-source-offset': String(poison.offset),
      'x-consumer-group': 'purchase-worker',
    };
    await send(topicSet.dlq['purchase-worker'], poison.value!, null, source);
    const unexplained = (await check(['events-processed'])).results['events-processed']!;
    expect(unexplained.examples).toEqual([expect.objectContaining({ kind: 'dead-lettered-without-reason' })]);
    await send(topicSet.dlq['purchase-worker'], poison.value!, null, {
      ...source,
      'x-dlq-reason': 'malformed_json',
      'x-dlq-detail': 'Unexpected end of JSON input',
    });
    const after = await check(['events-processed']);
    expect(after.results['events-processed']!.valid).toBe(true);
    expect(after.exercised.deadLettered).toBe(2);
  });
});

describe('a stray envelope (valid, in another type’s topic, with its own id)', () => {
  it('must be dead-lettered by the groups that read that topic, and is no announcement', async () => {
    const { w, db, topicSet, send, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await w.publish(producer);
    const created = (
      await db.query<{ envelope: PurchaseCreatedEvent }>('SELECT envelope FROM outbox WHERE event_id = $1', [
        chain.eventIds.created,
      ])
    ).rows[0]!.envelope;
    const stray = { ...created, eventId: randomUUID() };
    await send(topicSet.events.PURCHASE_CONFIRMED, JSON.stringify(stray), created.payload.studentId);
    const names = ['events-processed', 'event-identity', 'processing-success-rate'];
    const before = (await check(names)).results;
    expect(before['events-processed']!.examples).toEqual([
      expect.objectContaining({ kind: 'invalid-not-dead-lettered', group: 'purchase-worker' }),
    ]);
    expect(before['event-identity']!.valid).toBe(true);
    expect(before['processing-success-rate']!.measured).toBe(1);
    await send(topicSet.dlq['purchase-worker'], JSON.stringify(stray), created.payload.studentId, {
      'x-dlq-reason': 'wrong_topic',
    });
    const after = (await check(names)).results;
    for (const n of names) expect(after[n]!.valid, n).toBe(true);
  });
});

describe('event-identity', () => {
  it('fails with the purchase when a second event id announces it', async () => {
    const { w, db, topicSet, send, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await w.publish(producer);
    const original = (
      await db.query<{ envelope: PurchaseCreatedEvent }>('SELECT envelope FROM outbox WHERE event_id = $1', [
        chain.eventIds.created,
      ])
    ).rows[0]!.envelope;
    const forged = randomUUID();
    await send(
      topicSet.events.PURCHASE_CREATED,
      JSON.stringify({ ...original, eventId: forged }),
      original.payload.studentId,
    );
    const r = (await check(['event-identity'])).results['event-identity']!;
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'non-deterministic-id',
          eventId: forged,
          entityId: chain.purchaseId,
          expected: chain.eventIds.created,
        }),
        expect.objectContaining({
          kind: 'entity-announced-twice',
          entity: `PURCHASE_CREATED ${chain.purchaseId}`,
          found: expect.arrayContaining([forged, chain.eventIds.created]),
        }),
      ]),
    );
  });

  it('fails when two copies of one id differ, naming the field', async () => {
    const { w, db, topicSet, send, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await w.publish(producer);
    const original = (
      await db.query<{ envelope: PurchaseCreatedEvent }>('SELECT envelope FROM outbox WHERE event_id = $1', [
        chain.eventIds.created,
      ])
    ).rows[0]!.envelope;
    // A re-emission stamped with "now" instead of the purchase's time.
    const now = new Date(Date.parse(original.timestamp) + 5_000).toISOString();
    await send(
      topicSet.events.PURCHASE_CREATED,
      JSON.stringify({ ...original, timestamp: now }),
      original.payload.studentId,
    );
    const r = (await check(['event-identity'])).results['event-identity']!;
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual([
      expect.objectContaining({
        kind: 'copies-differ',
        eventId: chain.eventIds.created,
        path: '$.timestamp',
        expected: original.timestamp,
        found: now,
      }),
    ]);
  });

  it('fails when an entity was never announced or announced with the wrong time', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await db.query('DELETE FROM outbox WHERE event_id = $1', [chain.eventIds.allocated]);
    await db.query(`UPDATE student_course_purchases SET created_at = created_at - interval '1 second'`);
    await w.publish(producer);
    const r = (await check(['event-identity'])).results['event-identity']!;
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'entity-not-announced',
          eventType: 'TRAINER_ALLOCATED',
          entityId: chain.allocationId,
        }),
        expect.objectContaining({ kind: 'timestamp-not-entity-time', eventId: chain.eventIds.created }),
      ]),
    );
  });
});
