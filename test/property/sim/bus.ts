// An in-memory stand-in for the topics, for handler-level property runs (no Kafka): the relay
// publishes into it, the simulated consumers read from it, and the checker reads it as it would
// read the real topics.
import type { Producer } from 'kafkajs';
import { type TopicMessage, toTopicMessage } from '../../../harness/checker/read-topics.ts';

export interface BusRecord {
  readonly topic: string;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

export class Bus {
  readonly records: BusRecord[] = [];
  #offsets = new Map<string, number>();

  append(topic: string, key: string | null, value: string, headers: Record<string, string> = {}): BusRecord {
    const offset = this.#offsets.get(topic) ?? 0;
    this.#offsets.set(topic, offset + 1);
    const r = { topic, offset, key, value, headers };
    this.records.push(r);
    return r;
  }

  /** Records of `topics` appended after index `from` of the log. */
  since(from: number, topics: readonly string[]): BusRecord[] {
    return this.records.slice(from).filter((r) => topics.includes(r.topic));
  }

  /** The bus as the checker sees topics. */
  topicMessages(): TopicMessage[] {
    return this.records.map((r) => toTopicMessage(r.topic, 0, r.offset, r.key, r.value, r.headers));
  }

  /**
   * A producer for the relay. `failNext(n)` makes the next n sends fail after nothing was
   * appended (the broker never acknowledged), as during a Kafka partition.
   */
  producer(): Producer & { failNext(n: number): void } {
    let failures = 0;
    const send = async ({
      topicMessages,
    }: {
      topicMessages: { topic: string; messages: { key?: unknown; value: unknown }[] }[];
    }) => {
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('simulated broker unavailable'), { retriable: true });
      }
      for (const tm of topicMessages)
        for (const m of tm.messages)
          this.append(tm.topic, m.key == null ? null : String(m.key), String(m.value));
      return [];
    };
    return {
      sendBatch: send,
      send: async ({ topic, messages }: { topic: string; messages: { key?: unknown; value: unknown }[] }) =>
        send({ topicMessages: [{ topic, messages }] }),
      failNext: (n: number) => {
        failures += n;
      },
    } as unknown as Producer & { failNext(n: number): void };
  }
}
