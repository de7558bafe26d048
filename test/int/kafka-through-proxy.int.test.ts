import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';

const stack = inject('stack');

describe('kafka through the toxiproxy proxy (kafkajs against a KRaft broker from Maven jars)', () => {
  it('advertises the proxy address, so clients never bypass the proxy after the metadata round-trip', async () => {
    const admin = harnessKafka(stack.kafkaBrokers, 'meta-test').admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([stack.kafkaBrokers]);
      expect(stack.ports.kafkaProxy).not.toBe(stack.ports.kafkaExternal);
    } finally {
      await admin.disconnect();
    }
  });

  it('idempotent producer and a consumer group with manual offset commits deliver every message once, in order per key', async () => {
    const topic = `t-${randomUUID()}`;
    const kafka = harnessKafka(stack.kafkaBrokers, 'group-test');
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs's own waitForLeaders fails at times with "does not host this topic-partition" while
    // the new partitions' metadata settles: wait for the leaders ourselves.
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: false });
    await waitFor(
      'the new topic to have a leader for every partition',
      async () => {
        const md = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        return md?.topics[0]?.partitions.length === 3 && md.topics[0].partitions.every((p) => p.leader >= 0);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 5}`, value: String(i) }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const groupId = `g-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const seen: { key: string; value: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        seen.push({ key: message.key!.toString(), value: Number(message.value!.toString()) });
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    await waitFor('all 60 messages consumed', () => seen.length >= 60, { timeoutMs: 30_000 });
    await consumer.disconnect();

    expect(seen).toHaveLength(60);
    for (const key of new Set(sent.map((m) => m.key))) {
      const values = seen.filter((m) => m.key === key).map((m) => m.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
    const admin2 = kafka.admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId, topics: [topic] });
    await admin2.disconnect();
    const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(60);
  });

  it('a transactional produce is visible to read_committed consumers only once committed; an aborted one never', async () => {
    const topic = `tx-${randomUUID()}`;
    const kafka = harnessKafka(stack.kafkaBrokers, 'tx-test');
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs's own waitForLeaders fails at times with "does not host this topic-partition" while
    // the new partitions' metadata settles: wait for the leaders ourselves.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    await waitFor(
      'the new topic to have a leader for every partition',
      async () => {
        const md = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        return md?.topics[0]?.partitions.length === 1 && md.topics[0].partitions.every((p) => p.leader >= 0);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await admin.disconnect();

    const producer = kafka.producer({
      transactionalId: `tx-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `g-${randomUUID()}`, readUncommitted: false });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor('committed messages', () => values.length >= 2, { timeoutMs: 30_000 });
    await consumer.disconnect();
    expect(values).toEqual(['committed-1', 'committed-2']);
  });
});
