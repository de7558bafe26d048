// The relay's Kafka producer, with a guard: a send counts as acknowledged only when every partition
// it put a message in is in the brokers' answer without an error.
//
// Why the guard: kafkajs 2.2.4 can resolve a send it did not complete (tulios/kafkajs#1303; the fix,
// PR #1798, is not released). Its sendMessages keeps the answers of the brokers that answered the
// first attempt across its internal retries and sends again only to brokers without an answer.
// When a broker dies mid-request, the metadata refresh moves its partitions to brokers that answered
// already: those partitions are never sent again, and the send resolves with the other brokers'
// answers. The relay then marks events published that are in no topic (kill-broker-publishing on
// three brokers: 8 events of one batch, all in partitions the killed broker led).
import {
  type ICustomPartitioner,
  type Kafka,
  type Message,
  Partitioners,
  type Producer,
  type ProducerBatch,
  type ProducerRecord,
  type RecordMetadata,
} from 'kafkajs';
import { AppError } from '../lib/errors.ts';

/** `topic/partition` of every partition the partitioner chose that no answer acknowledges. */
export function unacknowledged(chosen: ReadonlySet<string>, answers: readonly RecordMetadata[]): string[] {
  const acked = new Set(answers.filter((a) => a.errorCode === 0).map((a) => `${a.topicName}/${a.partition}`));
  return [...chosen].filter((tp) => !acked.has(tp)).sort();
}

/**
 * A producer from `kafka` whose sendBatch (and send) rejects, retriable, when the answer does not
 * acknowledge every partition that received messages. `partitioner` is the one kafkajs would use
 * (DefaultPartitioner, as the relay always had); the guard only watches what it chooses.
 * Sends through one such producer run one at a time (the relay sends one batch at a time anyway).
 */
export function checkedProducer(
  kafka: Pick<Kafka, 'producer'>,
  config: Omit<Parameters<Kafka['producer']>[0] & object, 'createPartitioner'>,
  partitioner: ICustomPartitioner = Partitioners.DefaultPartitioner,
): Producer {
  /** Partitions chosen during the send in flight (kafkajs partitions again on each internal retry). */
  let chosen = new Set<string>();
  const createPartitioner: ICustomPartitioner = () => {
    const choose = partitioner();
    return (args) => {
      const partition = choose(args);
      chosen.add(`${args.topic}/${partition}`);
      return partition;
    };
  };
  const producer = kafka.producer({ ...config, createPartitioner });
  let tail: Promise<unknown> = Promise.resolve();
  const sendBatch = (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    const run = async () => {
      chosen = new Set();
      const answers = await producer.sendBatch(batch);
      // acks=0 asks for no answer: nothing to check.
      if (batch.acks === 0) return answers;
      const missing = unacknowledged(chosen, answers);
      if (missing.length > 0)
        throw new AppError(
          'transient_kafka',
          `kafka acknowledged the send without partitions ${missing.join(', ')} (their leader moved mid-send): not published`,
          true,
        );
      return answers;
    };
    const result = tail.then(run, run);
    tail = result.catch(() => undefined);
    return result;
  };
  const send = ({ topic, messages, ...rest }: ProducerRecord): Promise<RecordMetadata[]> =>
    sendBatch({ ...rest, topicMessages: [{ topic, messages: messages as Message[] }] });
  return { ...producer, sendBatch, send };
}
