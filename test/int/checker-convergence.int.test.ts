// The convergence wait and the checker's entry point, end to end over a real database and real
// topics: a run that never drains FAILS with what was pending; a drained correct world passes.
import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { invariants } from '../../harness/checker/check.ts';
import { convergenceInvariant, waitForConvergence } from '../../harness/checker/convergence.ts';
import { ReferenceWorld } from '../../harness/checker/reference-state.ts';
import { runChecker } from '../../harness/checker/run-checker.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { everyTopic, isolatedTopicSet } from '../../harness/checker/topic-set.ts';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import type { HistoryOp } from '../../harness/run/history.ts';
import { decideVerdict } from '../../harness/run/result.ts';

const stack = inject('stack');
const kafka = harnessKafka(stack.kafkaBrokers, 'checker-convergence-test', { requestTimeout: 30_000 });
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

async function fresh() {
  const scratch = await dbs.create();
  const db = new pg.Pool({ connectionString: scratch.url, max: 2 });
  const suffix = randomUUID().slice(0, 8);
  const topicSet = isolatedTopicSet(suffix);
  await admin.createTopics({
    waitForLeaders: true,
    topics: everyTopic(topicSet).map((topic) => ({ topic, numPartitions: topic.includes('.dlq') ? 1 : 2 })),
  });
  // Private consumer groups standing in for the workers: the test commits their offsets itself.
  const groups = {
    [`purchase-${suffix}`]: [topicSet.events.PURCHASE_CONFIRMED],
    [`cache-${suffix}`]: [topicSet.events.PURCHASE_CREATED, topicSet.events.TRAINER_ALLOCATED],
  };
  onTestFinished(async () => {
    await admin.deleteGroups(Object.keys(groups)).catch(() => {});
    await admin.deleteTopics({ topics: everyTopic(topicSet) }).catch(() => {});
    await db.end();
    await scratch.drop();
  });
  /** Consumes the group's topics to their end and commits, as a worker that caught up would. */
  const catchUp = async (groupId: string) => {
    const topics = groups[groupId]!;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          await consumer.commitOffsets([
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: String(Number(batch.lastOffset()) + 1),
            },
          ]);
        },
      });
      await waitFor(`${groupId} caught up`, async () => {
        const committed = await admin.fetchOffsets({ groupId, topics });
        for (const t of committed) {
          const highs = await admin.fetchTopicOffsets(t.topic);
          for (const p of t.partitions) {
            const h = highs.find((x) => x.partition === p.partition)!;
            if (Number(h.high) > 0 && Number(p.offset) < Number(h.high)) return false;
          }
        }
        return true;
      });
    } finally {
      await consumer.disconnect();
    }
  };
  const w = await ReferenceWorld.open(db, topicSet);
  return { w, db, url: scratch.url, topicSet, groups, catchUp, suffix };
}

describe('waitForConvergence', () => {
  it('reports unpublished rows and per-group lag until the outbox drains and every group caught up', async () => {
    const { w, url, groups, catchUp, suffix } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    const opts = { databaseUrl: url, brokers: stack.kafkaBrokers, groups, stableMs: 300, intervalMs: 100 };

    const undrained = await waitForConvergence({ ...opts, timeoutMs: 800 });
    expect(undrained).toMatchObject({
      converged: false,
      pending: { outbox: 3, lag: { [`purchase-${suffix}`]: 0, [`cache-${suffix}`]: 0 } },
    });
    const failed = convergenceInvariant(undrained);
    expect(failed).toMatchObject({ name: 'converged', valid: false, violations: 3 });
    expect(failed.examples[0]).toMatchObject({ kind: 'not-converged', found: { outbox: 3 } });

    await w.publish(producer);
    const lagging = await waitForConvergence({ ...opts, timeoutMs: 800 });
    expect(lagging.pending).toEqual({
      outbox: 0,
      lag: { [`purchase-${suffix}`]: 1, [`cache-${suffix}`]: 2 },
    });

    await catchUp(`purchase-${suffix}`);
    await catchUp(`cache-${suffix}`);
    const settled = await waitForConvergence({ ...opts, timeoutMs: 10_000 });
    expect(settled.converged).toBe(true);
    expect(settled.waitedMs).toBeGreaterThanOrEqual(300);
    expect(convergenceInvariant(settled).valid).toBe(true);
  });
});

describe('runChecker', () => {
  it('passes a drained correct world on every invariant it can judge, merging the runner’s counters', async () => {
    const { w, db, url, topicSet, groups, catchUp } = await fresh();
    await w.trainer({ capacity: 2 });
    const c = await w.course();
    const [s1, s2] = [await w.student(), await w.student()];
    const a = await w.pay(s1, c, { idempotencyKey: 'key-a' });
    const again = await w.pay(s1, c); // the same pair paid twice: one purchase, one allocation
    await w.pay(s2, c);
    await w.publish(producer);
    await db.query('UPDATE outbox SET published_at = NULL WHERE event_id = $1', [a.eventIds.confirmed]);
    await w.publish(producer); // a relay re-publish: a duplicate delivery
    for (const g of Object.keys(groups)) await catchUp(g);
    const body = { studentId: s1, courseId: c, amountCents: 4900 };
    const view = { id: a.paymentId, status: 'pending' };
    let i = 0;
    const op = (
      type: 'ok' | 'fail' | 'info',
      o: Omit<HistoryOp, 'index' | 'type' | 'timeNs' | 'process'>,
    ) => {
      const index = i++;
      return [
        {
          index,
          type: 'invoke',
          timeNs: index * 2,
          process: 1,
          op: o.op,
          ...(o.ids ? { ids: o.ids } : {}),
          value: body,
        },
        { ...o, index, type, timeNs: index * 2 + 1, process: 1 },
      ] as HistoryOp[];
    };
    const history = [
      ...op('ok', { op: 'create', ids: { idempotencyKey: 'key-a' }, status: 201, value: view }),
      ...op('ok', { op: 'create', ids: { idempotencyKey: 'key-a' }, status: 201, value: view }),
      ...op('ok', { op: 'confirm', ids: { paymentId: a.paymentId }, status: 200 }),
      ...op('info', { op: 'confirm', ids: { paymentId: again.paymentId }, error: 'timeout' }),
    ];

    const out = await runChecker({
      endpoints: stack,
      databaseUrl: url,
      topicSet,
      history,
      readCache: false,
      extraExercised: { restarts: 3, duplicatesDelivered: 0 },
      convergence: { timeoutMs: 15_000, stableMs: 300, groups },
    });
    expect(out.invariants.map((r) => r.name)).toEqual(['converged', ...Object.keys(invariants)]);
    const byName = Object.fromEntries(out.invariants.map((r) => [r.name, r]));
    expect(out.invariants.filter((r) => r.valid === false)).toEqual([]);
    for (const n of [
      'converged',
      'no-duplicate-purchases',
      'no-duplicate-allocations',
      'no-duplicate-sessions',
      'nothing-lost',
      'causal-closure',
      'trainer-capacity',
      'outbox-drained',
      'events-processed',
      'event-identity',
      'no-half-done',
      'idempotency-keys',
      'processing-success-rate',
    ])
      expect(byName[n]!.valid, n).toBe(true);
    expect(byName['cache-converged']).toMatchObject({ valid: 'unknown', unknownReason: 'cache not read' });
    expect(out.exercised).toMatchObject({
      restarts: 3,
      duplicatesDelivered: 1,
      'duplicatesDelivered:PURCHASE_CONFIRMED': 1,
      repeatedPairs: 1,
      paymentsConfirmed: 3,
    });
    expect(decideVerdict([], out.invariants).verdict).toBe('UNKNOWN');
  });

  it('fails a run that never converged, with what was pending', async () => {
    const { w, url, topicSet, groups } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    const out = await runChecker({
      endpoints: stack,
      databaseUrl: url,
      topicSet,
      readCache: false,
      convergence: { timeoutMs: 600, stableMs: 300, groups },
      only: ['outbox-drained'],
    });
    expect(out.convergence?.converged).toBe(false);
    expect(out.invariants.map((r) => [r.name, r.valid])).toEqual([
      ['converged', false],
      ['outbox-drained', false],
    ]);
    expect(out.invariants[0]!.examples[0]).toMatchObject({ found: { outbox: 3 } });
    expect(out.invariants[1]!.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'unpublished', eventId: chain.eventIds.confirmed }),
      ]),
    );
    expect(decideVerdict([], out.invariants)).toMatchObject({
      verdict: 'FAIL',
      reason: expect.stringContaining('converged'),
    });
  });
});
