import { type Admin, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import '../../system/lib/kafkajs-fix.ts';
import { isTransient } from '../../system/lib/errors.ts';
import { sleep } from './wait-for.ts';

/** `a:1,b:2` → ['a:1', 'b:2']: one bootstrap address per broker of a cluster. */
export function brokerList(brokers: string): string[] {
  return brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** A kafkajs client for the harness: quiet, short timeouts so a fault shows up as an error, not a hang. */
export function harnessKafka(brokers: string, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: brokerList(brokers),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    ...extra,
  });
}

/**
 * The system's own classification (`isTransient`: kafkajs's `retriable`, connection errors), applied
 * to the error and to what it wraps: kafkajs gives up with a non-retriable
 * KafkaJSNumberOfRetriesExceeded whose `cause` is the broker's retriable answer.
 */
export function isRetriableKafkaError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++, e = (e as { cause?: unknown }).cause)
    if (isTransient(e)) return true;
  return false;
}

type TopicOffsets = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/**
 * `admin.fetchTopicOffsets`, asked again while the broker gives a retriable answer, for up to
 * `withinMs`. A topic created a moment ago on a loaded single broker can answer ListOffsets with
 * "This server is not the leader for that topic-partition" after kafkajs's own retries (a CI
 * rehearsal, 2026-12-01); the metadata is refreshed before each new attempt. Anything else, or a
 * retriable error past the deadline, is thrown as it came.
 */
export async function fetchTopicOffsetsSettled(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchTopicMetadata'>,
  topic: string,
  withinMs = 15_000,
): Promise<TopicOffsets> {
  const deadline = Date.now() + withinMs;
  for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, 1_000)) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (!isRetriableKafkaError(err) || Date.now() + waitMs > deadline) throw err;
    }
    await sleep(waitMs);
    await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => {});
  }
}
