// The Kafka flood: produces planned messages (duplicates, reordered, some deliberately invalid)
// straight into the system's topics, bypassing the API and the relay, at a bounded rate, for a
// bounded count and time. Every message is an `inject` operation in the history.
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { DomainEvent } from '../../system/contracts/index.ts';
import { parseEvent } from '../../system/contracts/index.ts';
import { harnessKafka } from '../lib/kafka.ts';
import type { History } from '../run/history.ts';
import type { FloodMessage } from './flood-plan.ts';
import { dueByRate } from './flood-plan.ts';

export * from './flood-plan.ts';

export interface FloodOptions {
  /** A connected producer; createFloodProducer makes a suitable one. */
  readonly producer: Producer;
  readonly messages: readonly FloodMessage[];
  readonly ratePerS: number;
  /** The flood stops by itself at this deadline even if messages remain. */
  readonly maxDurationMs: number;
  readonly history?: History;
  /** The history's `process` for these operations; default 'flood'. */
  readonly process?: string;
  /** Messages per produce request, default 100. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

export interface FloodReport {
  readonly planned: number;
  /** Acknowledged by the broker (acks=all). */
  readonly produced: number;
  /** Sent without acknowledgement (an error after sending): may or may not be in the topic. */
  readonly indeterminate: number;
  readonly duplicates: number;
  readonly bad: number;
  readonly durationMs: number;
  readonly stoppedBy: 'done' | 'deadline' | 'signal';
  readonly firstError: string | null;
}

/**
 * An idempotent producer with one request in flight: kafkajs's own retries then neither add
 * unplanned duplicates nor reorder, so the topic holds exactly the planned sequence per partition.
 */
export async function createFloodProducer(brokers: string): Promise<Producer> {
  const producer = harnessKafka(brokers, `payproof-flood-${randomUUID().slice(0, 8)}`).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

export async function runFlood(o: FloodOptions): Promise<FloodReport> {
  const proc = o.process ?? 'flood';
  const batchSize = Math.max(1, o.batchSize ?? 100);
  const total = o.messages.length;
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  let sent = 0;
  let produced = 0;
  let indeterminate = 0;
  let duplicates = 0;
  let bad = 0;
  let firstError: string | null = null;
  let stoppedBy: FloodReport['stoppedBy'] = 'done';
  while (sent < total) {
    if (o.signal?.aborted) {
      stoppedBy = 'signal';
      break;
    }
    if (elapsed() >= o.maxDurationMs) {
      stoppedBy = 'deadline';
      break;
    }
    const due = dueByRate(elapsed(), o.ratePerS, total);
    if (due <= sent) {
      const nextAtMs = (sent * 1_000) / o.ratePerS - elapsed();
      await new Promise((r) =>
        setTimeout(r, Math.max(1, Math.min(nextAtMs, o.maxDurationMs - elapsed(), 100))),
      );
      continue;
    }
    const batch = o.messages.slice(sent, Math.min(due, sent + batchSize));
    sent += batch.length;
    const indices = batch.map((m) =>
      o.history?.invoke('inject', proc, {
        eventId: m.eventId,
        eventType: m.eventType,
        copy: String(m.copy),
        topic: m.topic,
        ...(m.bad ? { bad: m.bad } : {}),
      }),
    );
    const byTopic = new Map<string, { key: string | null; value: string }[]>();
    for (const m of batch) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ key: m.key, value: m.value });
      byTopic.set(m.topic, list);
    }
    let error: string | null = null;
    try {
      await o.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      error = (err as Error).message;
      firstError ??= error;
    }
    batch.forEach((m, i) => {
      const index = indices[i];
      if (index !== undefined) {
        o.history?.complete(index, error ? 'info' : 'ok', 'inject', proc, {
          ids: {
            eventId: m.eventId,
            eventType: m.eventType,
            copy: String(m.copy),
            topic: m.topic,
            ...(m.bad ? { bad: m.bad } : {}),
          },
          ...(error ? { error } : {}),
        });
      }
      if (error) indeterminate++;
      else {
        produced++;
        if (m.copy > 0) duplicates++;
        if (m.bad) bad++;
      }
    });
  }
  return {
    planned: total,
    produced,
    indeterminate,
    duplicates,
    bad,
    durationMs: elapsed(),
    stoppedBy,
    firstError,
  };
}

/**
 * Reads the valid envelopes of a topic back (deduplicated by eventId), to flood with exact copies
 * of what the system emitted. Bounded: stops at the high watermarks, `maxMessages` or `timeoutMs`.
 */
export async function readEnvelopes(
  brokers: string,
  topic: string,
  { maxMessages = 10_000, timeoutMs = 15_000 }: { maxMessages?: number; timeoutMs?: number } = {},
): Promise<DomainEvent[]> {
  const kafka = harnessKafka(brokers, 'payproof-flood-reader');
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `payproof-flood-reader-${randomUUID()}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const remaining = new Map<number, bigint>();
    for (const p of offsets) if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high));
    if (remaining.size === 0) return [];
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    const seen = new Map<string, DomainEvent>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const parsed = parseEvent(message.value);
            if (parsed.ok && !seen.has(parsed.event.eventId) && seen.size < maxMessages)
              seen.set(parsed.event.eventId, parsed.event);
            const high = remaining.get(partition);
            if (high !== undefined && BigInt(message.offset) + 1n >= high) remaining.delete(partition);
            if (remaining.size === 0 || seen.size >= maxMessages) finish();
          },
        });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    return [...seen.values()];
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
