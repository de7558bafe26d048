// The flood against the real broker: the topic holds exactly the planned sequence (duplicates,
// reordering and bad messages included, nothing more), and each message is an `inject` in the
// history. A topic of its own, so the system's topics and other tests are untouched.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import {
  createFloodProducer,
  planFlood,
  purchaseConfirmedEnvelope,
  readEnvelopes,
  runFlood,
} from '../../harness/load/flood.ts';
import { History, readHistory } from '../../harness/run/history.ts';
import { uuidv5 } from '../../system/contracts/index.ts';

const stack = inject('stack');
const dir = mkdtempSync(join(tmpdir(), 'payproof-flood-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kafka flood', () => {
  it('produces each envelope k times, reordered within the window, plus bad messages, at a bounded rate', async () => {
    const topic = `flood-${randomUUID()}`;
    const kafka = harnessKafka(stack.kafkaBrokers, 'flood-test');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

    const envelopes = Array.from({ length: 30 }, (_, i) =>
      purchaseConfirmedEnvelope({
        paymentId: uuidv5(`${topic}:p${i}`),
        studentId: uuidv5(`${topic}:s${i % 5}`),
        courseId: uuidv5(`${topic}:c`),
        amountCents: 1_000 + i,
        confirmedAt: '2026-11-26T10:00:00.000Z',
      }),
    );
    const plan = planFlood({
      envelopes,
      duplication: 3,
      reorderWindow: 10,
      seed: 99,
      bad: { malformed_json: 1, schema_violation: 1, oversized: 1 },
    }).map((m) => ({ ...m, topic }));
    expect(plan).toHaveLength(93);

    const historyPath = join(dir, 'history.jsonl');
    const history = new History(historyPath);
    const producer = await createFloodProducer(stack.kafkaBrokers);
    const report = await runFlood({
      producer,
      messages: plan,
      ratePerS: 300,
      maxDurationMs: 20_000,
      history,
      batchSize: 20,
    });
    await producer.disconnect();
    await history.close();
    expect(report).toMatchObject({
      planned: 93,
      produced: 93,
      indeterminate: 0,
      duplicates: 60,
      bad: 3,
      stoppedBy: 'done',
    });
    // 93 messages at 300/s: about 0.3 s, never instantly.
    expect(report.durationMs).toBeGreaterThan(250);

    // Exactly the plan, per key in plan order: no extra duplicates from retries, no lost message.
    const seen: { key: string; value: string }[] = [];
    const consumer = kafka.consumer({ groupId: `flood-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void seen.push({ key: message.key!.toString(), value: message.value!.toString() }),
    });
    await waitFor('all flood messages consumed', () => seen.length >= 93, { timeoutMs: 30_000 });
    await consumer.disconnect();
    expect(seen).toHaveLength(93);
    for (const key of new Set(plan.map((m) => m.key!))) {
      expect(seen.filter((m) => m.key === key).map((m) => m.value)).toEqual(
        plan.filter((m) => m.key === key).map((m) => m.value),
      );
    }

    const ops = readHistory(historyPath);
    expect(ops.filter((o) => o.op === 'inject' && o.type === 'invoke')).toHaveLength(93);
    expect(ops.filter((o) => o.op === 'inject' && o.type === 'ok')).toHaveLength(93);
    expect(ops.find((o) => o.type === 'ok' && o.ids?.bad === 'oversized')?.ids).toMatchObject({
      copy: '0',
      topic,
    });

    // Read back: the valid envelopes, once each, identical to what was built.
    const back = await readEnvelopes(stack.kafkaBrokers, topic, { timeoutMs: 20_000 });
    expect(back.map((e) => e.eventId).sort()).toEqual(envelopes.map((e) => e.eventId).sort());
    expect(back.find((e) => e.eventId === envelopes[0]!.eventId)).toEqual(envelopes[0]);

    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('stops by itself at its deadline', async () => {
    const topic = `flood-${randomUUID()}`;
    const admin = harnessKafka(stack.kafkaBrokers, 'flood-test').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const plan = planFlood({
      envelopes: [],
      duplication: 1,
      reorderWindow: 1,
      seed: 1,
      bad: { malformed_json: 1_000 },
    }).map((m) => ({
      ...m,
      topic,
    }));
    const producer = await createFloodProducer(stack.kafkaBrokers);
    const report = await runFlood({ producer, messages: plan, ratePerS: 50, maxDurationMs: 500 });
    await producer.disconnect();
    expect(report.stoppedBy).toBe('deadline');
    expect(report.produced).toBeGreaterThan(10);
    expect(report.produced).toBeLessThan(60);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
