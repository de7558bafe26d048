// Reads the Redis Streams fallback (system/contracts/streams.ts) as evidence of deliveries: every
// entry of each event topic's stream, with the consumer groups that were given it. An event the relay
// put in a stream while Kafka was unreachable, and re-published to Kafka once it was back, reaches
// each group twice (the stream entry, then the Kafka copy): a duplicate delivery that the topics alone
// do not show. Read from Redis itself, never from the system's counters. A group was given an entry
// when its `last-delivered-id` (XINFO GROUPS) is at or past the entry's id: XREADGROUP hands entries
// out in id order, and an entry given to a consumer that died is claimed by another (XAUTOCLAIM).
import { Redis } from 'ioredis';
import { streamFields, streamKey } from '../../system/contracts/streams.ts';

/** One entry of an event stream. */
export interface StreamCopy {
  readonly stream: string;
  /** The Kafka topic the stream stands in for. */
  readonly topic: string;
  /** The entry's id (`<ms>-<seq>`). */
  readonly id: string;
  /** The event id in the entry's value, null when the value is not an event's JSON. */
  readonly eventId: string | null;
  /** Consumer groups whose last-delivered-id is at or past this entry. */
  readonly deliveredTo: readonly string[];
}

/** Entries read per XRANGE call. */
const page = 1000;

/** Compares two stream ids (`<ms>-<seq>`) in stream order. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The event id of a stream entry's value (the Kafka message's value, byte for byte). */
export function eventIdOfValue(value: string | null): string | null {
  if (value === null) return null;
  try {
    const id = (JSON.parse(value) as { eventId?: unknown } | null)?.eventId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** `last-delivered-id` of each group of a stream, from XINFO GROUPS' flat field lists. */
export function lastDelivered(reply: readonly unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of reply) {
    if (!Array.isArray(g)) continue;
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    const name = f.get('name');
    const last = f.get('last-delivered-id');
    if (typeof name === 'string' && typeof last === 'string') out.set(name, last);
  }
  return out;
}

/** Every entry of the streams of `topics`, in stream order, each with the groups that were given it. */
export async function readStreams(redisUrl: string, topics: readonly string[]): Promise<StreamCopy[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  try {
    const out: StreamCopy[] = [];
    for (const topic of topics) {
      const stream = streamKey(topic);
      if ((await redis.exists(stream)) === 0) continue;
      const groups = [...lastDelivered((await redis.call('XINFO', 'GROUPS', stream)) as unknown[])];
      let start = '-';
      for (;;) {
        const entries = (await redis.xrange(stream, start, '+', 'COUNT', page)) as [string, string[]][];
        for (const [id, fields] of entries) {
          let value: string | null = null;
          for (let i = 0; i + 1 < fields.length; i += 2)
            if (fields[i] === streamFields.value) value = fields[i + 1]!;
          out.push({
            stream,
            topic,
            id,
            eventId: eventIdOfValue(value),
            deliveredTo: groups.filter(([, last]) => compareStreamIds(last, id) >= 0).map(([g]) => g),
          });
        }
        if (entries.length < page) break;
        start = `(${entries[entries.length - 1]![0]}`;
      }
    }
    return out;
  } finally {
    redis.disconnect();
  }
}
