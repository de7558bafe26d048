// kafkajs's own producer (its sendMessages, retrier and partitioning, unchanged) over a fake
// two-broker cluster in which the leader of one partition dies mid-request: the broker fails the
// produce request with a closed connection, and the next metadata refresh names the surviving broker
// leader of its partition, as a KRaft cluster does after a SIGKILL. What the brokers wrote is
// recorded, so a test sees what a send really left in each partition.
import { createRequire } from 'node:module';
import { type ICustomPartitioner, KafkaJSConnectionError, type Producer, type ProducerConfig } from 'kafkajs';

const require = createRequire(import.meta.url);
// kafkajs's producer factory over any cluster (what Kafka#producer calls with its own cluster).
const createProducer = require('kafkajs/src/producer/index.js') as (o: {
  cluster: unknown;
  logger: unknown;
  createPartitioner?: ICustomPartitioner;
  retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
  idempotent?: boolean;
}) => Producer;

const quiet = {
  namespace: () => quiet,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  setLogLevel: () => undefined,
};

/** A message as a broker wrote it. */
export interface Written {
  readonly broker: number;
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
}

interface TopicData {
  topic: string;
  partitions: { partition: number; messages: { key?: unknown }[] }[];
}

/**
 * Partitions 0 and 1 of every topic, led by brokers 1 and 2. `killLeaderOf(p)` makes the leader of
 * partition `p` fail its next produce request (after the other broker answered) and hands its
 * partitions to the other broker at the next metadata refresh.
 */
export class FailoverCluster {
  readonly written: Written[] = [];
  /** partition → leader broker. */
  #leaders = new Map<number, number>([
    [0, 1],
    [1, 2],
  ]);
  #dying: number | undefined;
  #moved = false;
  readonly #brokers = new Map([1, 2].map((nodeId) => [nodeId, this.#broker(nodeId)]));

  killLeaderOf(partition: number): void {
    this.#dying = this.#leaders.get(partition);
  }

  #broker(nodeId: number) {
    return {
      nodeId,
      produce: async ({ topicData }: { topicData: TopicData[] }) => {
        if (nodeId === this.#dying) {
          // The other broker's request completes first; this one is cut off.
          await new Promise((r) => setTimeout(r, 20));
          this.#dying = undefined;
          this.#moved = true;
          for (const [p, l] of this.#leaders) if (l === nodeId) this.#leaders.set(p, nodeId === 1 ? 2 : 1);
          throw new KafkaJSConnectionError('Closed connection', { broker: `127.0.0.1:${nodeId}` });
        }
        for (const t of topicData)
          for (const p of t.partitions)
            for (const m of p.messages)
              this.written.push({
                broker: nodeId,
                topic: t.topic,
                partition: p.partition,
                key: String(m.key),
              });
        return {
          topics: topicData.map((t) => ({
            topicName: t.topic,
            partitions: t.partitions.map((p) => ({
              partition: p.partition,
              errorCode: 0,
              baseOffset: '0',
              logAppendTime: '-1',
              logStartOffset: '0',
            })),
          })),
        };
      },
    };
  }

  /** The subset of kafkajs's Cluster that its producer uses. */
  readonly cluster = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    isConnected: () => true,
    addMultipleTargetTopics: async () => undefined,
    refreshMetadataIfNecessary: async () => undefined,
    // The leadership change is known from the first refresh after the failure.
    refreshMetadata: async () => undefined,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () =>
      [...this.#leaders].map(([partitionId, leader]) => ({
        partitionId,
        leader,
        partitionErrorCode: 0,
        replicas: [1, 2],
        isr: this.#moved ? [leader] : [1, 2],
      })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const id of partitions) {
        const leader = this.#leaders.get(Number(id))!;
        out[leader] = [...(out[leader] ?? []), Number(id)];
      }
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: number }) => this.#brokers.get(Number(nodeId))!,
  };

  /** A `Kafka`-like whose producers are kafkajs producers over this cluster (not idempotent: no InitProducerId). */
  readonly kafka = {
    producer: (config: ProducerConfig = {}): Producer =>
      createProducer({
        cluster: this.cluster,
        logger: quiet,
        ...(config.createPartitioner ? { createPartitioner: config.createPartitioner } : {}),
        retry: { retries: 3, initialRetryTime: 5, maxRetryTime: 20 },
      }),
  };
}

/** Puts a message in the partition its key names ('0' or '1'), so a test chooses the partitions. */
export const partitionByKey: ICustomPartitioner =
  () =>
  ({ message }) =>
    Number(message.key);
