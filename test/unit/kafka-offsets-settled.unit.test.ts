// harness/lib/kafka.ts fetchTopicOffsetsSettled: the checker's ListOffsets asked again while the
// broker gives a retriable answer (a topic created a moment ago, "not the leader"), never past its
// deadline, and never for an error that is not retriable. kafkajs's own error classes; no broker.
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchTopicOffsetsSettled, isRetriableKafkaError } from '../../harness/lib/kafka.ts';

/** A protocol error as kafkajs builds it from a broker's error code (its typings take an Error). */
const protocolError = (type: string, code: number, retriable: boolean, message: string) =>
  new KafkaJSProtocolError({ type, code, retriable, message } as unknown as Error);
const notLeader = () =>
  protocolError(
    'NOT_LEADER_FOR_PARTITION',
    6,
    true,
    'This server is not the leader for that topic-partition',
  );
const offsets = [{ partition: 0, offset: '3', high: '3', low: '0' }];

/** An admin whose ListOffsets fails with `errors` in turn, then answers; counts the calls. */
function admin(errors: Error[]) {
  const calls = { offsets: 0, metadata: 0 };
  return {
    calls,
    fetchTopicOffsets: async (_topic: string) => {
      calls.offsets++;
      const e = errors.shift();
      if (e) throw e;
      return offsets;
    },
    fetchTopicMetadata: async () => {
      calls.metadata++;
      return { topics: [] };
    },
  };
}

describe('fetchTopicOffsetsSettled', () => {
  it('asks again after "not the leader", refreshing the metadata first, and returns the answer', async () => {
    const a = admin([notLeader(), notLeader()]);
    await expect(fetchTopicOffsetsSettled(a, 't')).resolves.toEqual(offsets);
    expect(a.calls).toEqual({ offsets: 3, metadata: 2 });
  });

  it('sees a retriable error wrapped by kafkajs once its own retries ran out', async () => {
    const wrapped = new KafkaJSNumberOfRetriesExceeded(notLeader(), { retryCount: 5, retryTime: 2000 });
    expect(wrapped.retriable).toBe(false);
    expect(isRetriableKafkaError(wrapped)).toBe(true);
    const a = admin([wrapped]);
    await expect(fetchTopicOffsetsSettled(a, 't')).resolves.toEqual(offsets);
    expect(a.calls.offsets).toBe(2);
  });

  it('throws an error that is not retriable at once', async () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access topics');
    const a = admin([denied, notLeader()]);
    await expect(fetchTopicOffsetsSettled(a, 't')).rejects.toBe(denied);
    expect(a.calls.offsets).toBe(1);
  });

  it("gives up at its deadline, throwing the broker's answer", async () => {
    const errors = Array.from({ length: 50 }, notLeader);
    const last = errors[errors.length - 1];
    const a = admin(errors);
    const started = performance.now();
    const err = await fetchTopicOffsetsSettled(a, 't', 400).catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(err).toBeInstanceOf(KafkaJSProtocolError);
    expect(err).not.toBe(last);
    expect(a.calls.offsets).toBeGreaterThanOrEqual(2);
    expect(a.calls.offsets).toBeLessThan(6);
    expect(took).toBeLessThan(2_000);
  });
});
