// The fallback transport's names (issue 15): one Redis stream per event topic, one dead-letter
// stream per consumer group, one consumer group per worker group (the same names as Kafka's).
// Part of the contract: the harness reads these streams to prove what went through the fallback.
import { type ConsumerGroup, topics } from './topics.ts';

/** The two transports an event can travel by. */
export type Transport = 'kafka' | 'stream';
export const transports: readonly Transport[] = ['kafka', 'stream'];

/** Prefix of every key the fallback writes (so a shared Redis can tell them from the dashboard cache). */
export const streamPrefix = 'payproof:stream:';

/** The stream that carries a topic's events while Kafka is unreachable. */
export function streamKey(topic: string): string {
  return `${streamPrefix}${topic}`;
}

/** The fallback's dead-letter stream of a consumer group (the twin of `<group>.dlq`). */
export function dlqStream(group: ConsumerGroup): string {
  return `${streamPrefix}${group}.dlq`;
}

/** Every event stream (one per event topic). */
export function allStreams(): string[] {
  return Object.values(topics).map(streamKey);
}

/**
 * Fields of a stream entry: the Kafka message's key and value, byte for byte, so a copy that went
 * through the fallback is identical to the one in Kafka (event identity).
 */
export const streamFields = { key: 'key', value: 'value' } as const;
