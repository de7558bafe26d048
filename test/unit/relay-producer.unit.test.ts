// The relay's producer does not take a partial send for a complete one. kafkajs 2.2.4, when the
// leader of a partition dies mid-request and its partition moves to a broker that had answered,
// resolves the send without ever writing that partition (tulios/kafkajs#1303): the relay marked such
// events published, and kill-broker-publishing on three brokers found them in no topic.
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../system/lib/errors.ts';
import { checkedProducer, unacknowledged } from '../../system/relay/producer.ts';
import { FailoverCluster, partitionByKey } from '../support/failover-cluster.ts';

const batch = {
  acks: -1,
  topicMessages: [
    {
      topic: 't',
      messages: [
        { key: '0', value: 'a' },
        { key: '1', value: 'b' },
      ],
    },
  ],
};

describe('kafkajs alone (the bug the guard is for)', () => {
  it('resolves a send whose partition moved to a broker that had answered, without writing it', async () => {
    const c = new FailoverCluster();
    const producer = c.kafka.producer({ createPartitioner: partitionByKey });
    await producer.connect();
    c.killLeaderOf(1);
    const answers = await producer.sendBatch(batch);
    // Only partition 0 is acknowledged and written; partition 1's message is in no log. When this
    // fails, kafkajs has fixed it (PR #1798) and the guard only costs a set per send.
    expect(answers.map((a) => a.partition)).toEqual([0]);
    expect(c.written.map((w) => [w.partition, w.key])).toEqual([[0, '0']]);
  });
});

describe('checkedProducer', () => {
  it('rejects that send, retriable, naming the partition; the next send writes every partition', async () => {
    const c = new FailoverCluster();
    const producer = checkedProducer(c.kafka, {}, partitionByKey);
    await producer.connect();
    c.killLeaderOf(1);
    const err = await producer.sendBatch(batch).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/without partitions t\/1/);
    expect(isTransient(err)).toBe(true);
    // The relay's retry of the same batch: both partitions now on broker 1, both written.
    const answers = await producer.sendBatch(batch);
    expect(answers.map((a) => a.partition).sort()).toEqual([0, 1]);
    expect(c.written.map((w) => [w.broker, w.partition, w.key])).toEqual([
      [1, 0, '0'],
      [1, 0, '0'],
      [1, 1, '1'],
    ]);
  });

  it('passes a complete answer through, send included', async () => {
    const c = new FailoverCluster();
    const producer = checkedProducer(c.kafka, {}, partitionByKey);
    await producer.connect();
    expect((await producer.sendBatch(batch)).map((a) => a.partition).sort()).toEqual([0, 1]);
    const one = await producer.send({ topic: 'u', messages: [{ key: '1', value: 'c' }] });
    expect(one.map((a) => [a.topicName, a.partition])).toEqual([['u', 1]]);
  });
});

describe('unacknowledged', () => {
  it('lists the chosen partitions without an error-free answer', () => {
    const ok = { topicName: 't', partition: 0, errorCode: 0 };
    expect(unacknowledged(new Set(['t/0', 't/1']), [ok])).toEqual(['t/1']);
    expect(unacknowledged(new Set(['t/0']), [{ ...ok, errorCode: 7 }])).toEqual(['t/0']);
    expect(unacknowledged(new Set(['t/0']), [ok, { ...ok, topicName: 'u' }])).toEqual([]);
  });
});
