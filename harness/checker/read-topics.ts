// Reads every partition of a set of topics from the low to the high watermark, as they stand when
// the read starts. A consumer with a fresh random group id, no offset commits; the group is deleted
// afterwards so that checks leave nothing behind on the broker.
import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import type { DomainEvent } from '../../system/contracts/events.ts';
import { parseEvent, type RejectCode } from '../../system/contracts/validate.ts';
import { type Intern, internValues } from '../lib/intern.ts';
import { fetchTopicOffsetsSettled, harnessKafka } from '../lib/kafka.ts';

/** One message as the checker saw it. */
export interface TopicMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /**
   * The raw value as UTF-8 (readers match and compare it: kept whole); null for a tombstone, and for
   * a valid event when read with `validValues: false` (its `event` is then the message).
   */
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The value parsed as JSON, undefined when it is not JSON. */
  readonly json: unknown;
  /** `json.eventId` when it is a string, even for a message that fails the schema. */
  readonly eventId: string | null;
  /** The event when the value passes its schema, else null. */
  readonly event: DomainEvent | null;
  /** Why the value fails the schema, when it does. */
  readonly rejectCode: RejectCode | null;
  /** The record's Kafka timestamp (ms since the epoch): when the copy reached the broker. */
  readonly timestampMs: number;
}

export interface ReadTopicsOptions {
  readonly brokers: string;
  readonly topics: readonly string[];
  /** Bound on the whole read; a partition that cannot be read to its watermark in time is an error. */
  readonly timeoutMs?: number;
  /**
   * Keep the raw text of messages that pass their schema (default true). The checker reads a run's
   * every message and compares valid ones by their parsed event; without the text each is held
   * about 500 bytes lighter (~40% of a message).
   */
  readonly validValues?: boolean;
  /**
   * Keep one copy of each distinct key and string value of a parsed message (ids, event types)
   * across every message read, and of those of whatever else is read with the same function.
   */
  readonly intern?: Intern;
}

/** The headers of a message that has none (every event of the system's own flow): one object for all. */
const noHeaders: Readonly<Record<string, string>> = Object.freeze({});

/** Strings of a parsed message worth keeping once: all but its timestamp, which no other message repeats. */
const repeats = (key: string) => key !== 'timestamp';

/** Turns a raw Kafka record into a TopicMessage (pure; exported for unit tests). */
export function toTopicMessage(
  topic: string,
  partition: number,
  offset: number,
  key: Buffer | string | null,
  value: Buffer | string | null,
  headers: IHeaders | undefined,
  timestamp: string | number = Number.NaN,
  validValues = true,
  intern?: Intern,
): TopicMessage {
  const text = value === null ? null : value.toString();
  // Parsed once: a value that passes its schema is both `json` and `event` (the validator does not
  // modify what it checks), so a run's messages are held once, not twice.
  const parsed = parseEvent(text);
  let json: unknown;
  if (parsed.ok) json = parsed.event;
  else if (text !== null) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (intern) internValues(json, intern, repeats);
  const id = (json as { eventId?: unknown } | null | undefined)?.eventId;
  let hdrs = noHeaders;
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    if (hdrs === noHeaders) hdrs = {};
    (hdrs as Record<string, string>)[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
  }
  const keyText = key === null ? null : key.toString();
  return {
    topic,
    partition,
    offset,
    key: keyText !== null && intern ? intern(keyText) : keyText,
    value: parsed.ok && !validValues ? null : text,
    headers: hdrs,
    json,
    eventId: typeof id === 'string' ? id : null,
    event: parsed.ok ? parsed.event : null,
    rejectCode: parsed.ok ? null : parsed.code,
    timestampMs: Number(timestamp),
  };
}

/**
 * Every message of `topics`, in (topic, partition, offset) order. A topic that does not exist
 * reads as empty (a dead-letter topic nobody ever wrote to, on a broker that creates on demand).
 */
export async function readTopics(o: ReadTopicsOptions): Promise<TopicMessage[]> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const kafka = harnessKafka(o.brokers, 'payproof-checker', {
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
  });
  const admin = kafka.admin();
  await admin.connect();
  /** Highest offset to read, per "topic/partition". */
  const target = new Map<string, number>();
  const present: string[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of o.topics) {
      if (!existing.has(topic)) continue;
      present.push(topic);
      for (const p of await fetchTopicOffsetsSettled(admin, topic)) {
        if (Number(p.high) > Number(p.low)) target.set(`${topic}/${p.partition}`, Number(p.high) - 1);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (target.size === 0) return [];

  const groupId = `payproof-checker-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, sessionTimeout: 30_000 });
  const out: TopicMessage[] = [];
  const reached = new Set<string>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: present, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const tp = `${batch.topic}/${batch.partition}`;
        const last = target.get(tp);
        if (last === undefined || reached.has(tp)) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset > last) break;
          out.push(
            toTopicMessage(
              batch.topic,
              batch.partition,
              offset,
              m.key,
              m.value,
              m.headers,
              m.timestamp,
              o.validValues ?? true,
              o.intern,
            ),
          );
        }
        // lastOffset() also covers control records (transaction markers) that carry no message.
        if (Number(batch.lastOffset()) >= last) {
          reached.add(tp);
          if (reached.size === target.size) done();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const missing = [...target.keys()].filter((k) => !reached.has(k));
        reject(new Error(`reading topics timed out after ${timeoutMs} ms; unread: ${missing.join(', ')}`));
      }, timeoutMs);
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => cleanup.disconnect());
  }
  return out.sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition || a.offset - b.offset : a.topic < b.topic ? -1 : 1,
  );
}
