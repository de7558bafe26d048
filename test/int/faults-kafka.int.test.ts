// Kafka behind a faulty proxy: a produce with acks=all fails within a bounded time, works again
// after the heal, and every acknowledged message is consumable exactly once afterwards.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor, withTimeout } from '../../harness/lib/wait-for.ts';
import {
  blackHole,
  disableProxy,
  heal,
  isHealthy,
  proxyState,
  timeToFailure,
} from '../support/proxy-faults.ts';

const stack = inject('stack');
const faultBoundMs = 10_000;

/** A producer that gives up quickly: 2 attempts of at most 2 s each, so a fault shows as an error. */
function boundedProducer(): Producer {
  const kafka = harnessKafka(stack.kafkaBrokers, `faults-kafka-${randomUUID()}`, {
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
  });
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
}

/** The produce history: `acked` resolved, `failed` rejected while the fault was on (the bytes never
 * reached the broker), `unknown` rejected after the heal (may or may not have been written). */
interface ProduceLog {
  readonly acked: string[];
  readonly failed: string[];
  readonly unknown: string[];
}

async function produce(
  producer: Producer,
  topic: string,
  values: string[],
  log: ProduceLog,
  onError: 'failed' | 'unknown',
): Promise<boolean> {
  try {
    await withTimeout(
      'produce',
      30_000,
      producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) }),
    );
    log.acked.push(...values);
    return true;
  } catch (err) {
    log[onError].push(...values);
    throw err;
  }
}

/** Reads the whole topic on the direct listener (bypassing the proxy): every value, in offset order. */
async function readAll(topic: string): Promise<string[]> {
  const kafka = harnessKafka(stack.direct.kafkaBrokers, 'faults-kafka-check');
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, p) => n + Number(p.high), 0);
  const consumer = kafka.consumer({ groupId: `check-${randomUUID()}` });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(`all ${total} messages of ${topic}`, () => seen.length >= total, { timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function faultThenHeal(fault: () => Promise<void>) {
  const topic = `faults-${randomUUID()}`;
  const admin = harnessKafka(stack.direct.kafkaBrokers, 'faults-kafka-admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const log: ProduceLog = { acked: [], failed: [], unknown: [] };
  const producer = boundedProducer();
  await producer.connect();
  let failure: { ms: number; error: Error };
  let retriesAfterHeal = 0;
  try {
    await produce(producer, topic, ['before-1', 'before-2', 'before-3'], log, 'unknown');
    await fault();
    failure = await timeToFailure(() => produce(producer, topic, ['during-1', 'during-2'], log, 'failed'));
    await heal(stack, 'kafka');
    await waitFor(
      'a produce to succeed after the heal',
      async () => {
        const n = ++retriesAfterHeal;
        return produce(producer, topic, [`after-${n}-1`, `after-${n}-2`], log, 'unknown');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } finally {
    await heal(stack, 'kafka');
    await withTimeout('producer disconnect', 10_000, producer.disconnect()).catch(() => {});
  }

  expect(failure.ms).toBeLessThan(faultBoundMs);
  expect(log.failed).toEqual(['during-1', 'during-2']);
  const read = await readAll(topic);
  // Nothing lost: every acknowledged message is there, once.
  for (const v of log.acked)
    expect(
      read.filter((r) => r === v),
      v,
    ).toHaveLength(1);
  // Nothing duplicated, nothing invented, and a produce that failed during the fault left no trace.
  expect(new Set(read).size).toBe(read.length);
  for (const v of read) expect([...log.acked, ...log.unknown]).toContain(v);
  expect(read.filter((v) => log.failed.includes(v))).toEqual([]);
  // The producer kept its order across the fault (one partition, one in-flight request).
  expect(read.filter((v) => log.acked.includes(v))).toEqual(log.acked);
  return { failure, read, log };
}

describe('kafka produce through a faulty proxy (acks=all, idempotent producer)', () => {
  afterEach(async () => {
    await heal(stack, 'kafka');
    expect(isHealthy(await proxyState(stack, 'kafka'))).toBe(true);
  });

  it('proxy disabled: a produce fails within 10 s; re-enabled: produces succeed and every acked message is consumable once', async () => {
    const { failure, log } = await faultThenHeal(() => disableProxy(stack, 'kafka'));
    expect(failure.error.name).toMatch(/KafkaJS/);
    expect(log.acked.slice(0, 3)).toEqual(['before-1', 'before-2', 'before-3']);
    expect(log.acked.length).toBeGreaterThanOrEqual(5);
  });

  it('black hole (timeout toxic, timeout 0, both streams): a produce times out within 10 s; after removing the toxic nothing acked is lost', async () => {
    const { failure, log } = await faultThenHeal(() => blackHole(stack, 'kafka'));
    expect(failure.error.name).toMatch(/KafkaJS/);
    expect(log.acked.length).toBeGreaterThanOrEqual(5);
  });
});
