// The fallback transport (issue 15): Redis Streams, used by the relay while Kafka is unreachable.
// Durable as a queue, unlike Pub/Sub: an entry stays in its stream until trimmed, a consumer group
// remembers what each consumer was given (the pending entries list) until it is acknowledged, and
// entries of a consumer that died are claimed by another after `claimIdleMs` (XAUTOCLAIM).
// Kafka stays the complete log: every event that went only through a stream is published to Kafka
// as well once Kafka is back (system/relay/relay.ts), so a trimmed or lost stream entry delays an
// event, it never loses it.
import type { Redis } from 'ioredis';
import { type ConsumerGroup, dlqStream, streamFields, streamKey } from '../contracts/index.ts';
import { AppError } from './errors.ts';

/** One entry read from a stream: its id, and the Kafka message's key and value it carries. */
export interface StreamEntry {
  readonly stream: string;
  /** Redis stream id (`<ms>-<seq>`), the entry's "offset". */
  readonly id: string;
  readonly key: string | null;
  readonly value: string | null;
}

/** What the relay puts in a stream: the outbox row's topic, key and value. */
export interface StreamMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}

/** Entries kept per stream (`MAXLEN ~`): a bound on Redis's memory, not on delivery (see above). */
export const defaultMaxLen = 100_000;

function refused(what: string, err: unknown): AppError {
  return new AppError('transient_stream', `${what}: ${(err as Error)?.message ?? String(err)}`, true, {
    cause: err,
  });
}

/**
 * Appends every message to its topic's stream in one round trip (a pipeline of XADD with an
 * approximate MAXLEN). Rejects, retriable, unless Redis answered every XADD with an id: only then
 * may the relay mark the rows as gone through the fallback.
 */
export async function publishToStreams(
  redis: Redis,
  messages: readonly StreamMessage[],
  maxLen = defaultMaxLen,
): Promise<string[]> {
  if (messages.length === 0) return [];
  const p = redis.pipeline();
  for (const m of messages)
    p.xadd(
      streamKey(m.topic),
      'MAXLEN',
      '~',
      maxLen,
      '*',
      streamFields.key,
      m.key,
      streamFields.value,
      m.value,
    );
  let answers: [Error | null, unknown][] | null;
  try {
    answers = await p.exec();
  } catch (err) {
    throw refused('redis refused the stream append', err);
  }
  if (!answers || answers.length !== messages.length)
    throw refused('stream append', new Error(`${answers?.length ?? 0} answers for ${messages.length} XADD`));
  const failed = answers.find(([err]) => err);
  if (failed) throw refused('redis refused an XADD', failed[0]);
  return answers.map(([, id]) => String(id));
}

/**
 * Creates the group on each stream (from the stream's start, creating the stream if needed);
 * an existing group is left as it is.
 */
export async function ensureGroups(
  redis: Redis,
  group: ConsumerGroup,
  streams: readonly string[],
): Promise<void> {
  for (const s of streams) {
    try {
      await redis.xgroup('CREATE', s, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw refused(`XGROUP CREATE ${s}`, err);
    }
  }
}

type RawEntry = [string, string[] | null];

function toEntry(stream: string, [id, fields]: RawEntry): StreamEntry {
  let key: string | null = null;
  let value: string | null = null;
  for (let i = 0; fields && i + 1 < fields.length; i += 2) {
    if (fields[i] === streamFields.key) key = fields[i + 1]!;
    else if (fields[i] === streamFields.value) value = fields[i + 1]!;
  }
  return { stream, id, key, value };
}

/**
 * Reads new entries for `consumer` (XREADGROUP ... `>`), at most `count` per stream, waiting up to
 * `blockMs` when there are none. Needs a connection of its own (blocking), with a command timeout
 * above `blockMs`.
 */
export async function readNew(
  redis: Redis,
  group: ConsumerGroup,
  consumer: string,
  streams: readonly string[],
  { count, blockMs }: { count: number; blockMs: number },
): Promise<StreamEntry[][]> {
  const reply = (await redis.call(
    'XREADGROUP',
    'GROUP',
    group,
    consumer,
    'COUNT',
    count,
    'BLOCK',
    blockMs,
    'STREAMS',
    ...streams,
    ...streams.map(() => '>'),
  )) as [string, RawEntry[]][] | null;
  return (reply ?? []).map(([stream, entries]) => entries.map((e) => toEntry(stream, e)));
}

/**
 * Claims for `consumer` the entries of `stream` that another consumer of the group was given more
 * than `minIdleMs` ago and never acknowledged (it died, or is stuck), at most `count`. Entries
 * trimmed meanwhile are dropped from the pending list by Redis (they reach Kafka anyway).
 */
export async function claimStale(
  redis: Redis,
  group: ConsumerGroup,
  consumer: string,
  stream: string,
  { minIdleMs, count }: { minIdleMs: number; count: number },
): Promise<StreamEntry[]> {
  const reply = (await redis.call(
    'XAUTOCLAIM',
    stream,
    group,
    consumer,
    minIdleMs,
    '0-0',
    'COUNT',
    count,
  )) as [string, RawEntry[], string[]?];
  return (reply?.[1] ?? []).filter(([, fields]) => fields !== null).map((e) => toEntry(stream, e));
}

/** Acknowledges entries of one stream. Only after the database transaction that handled them committed. */
export async function ack(redis: Redis, group: ConsumerGroup, stream: string, ids: readonly string[]) {
  if (ids.length === 0) return 0;
  return redis.xack(stream, group, ...ids);
}

/** A dead letter of the fallback: the entry as it was, with the reason (the Kafka DLQ's headers as fields). */
export interface StreamDeadLetter {
  readonly entry: { readonly key: string | null; readonly value: string | null; readonly id: string };
  readonly sourceStream: string;
  readonly reason: string;
  readonly detail: string;
}

/** Appends dead letters to the group's dead-letter stream; rejects unless every XADD answered. */
export async function sendStreamDeadLetters(
  redis: Redis,
  group: ConsumerGroup,
  letters: readonly StreamDeadLetter[],
  maxLen = defaultMaxLen,
): Promise<void> {
  if (letters.length === 0) return;
  const p = redis.pipeline();
  for (const l of letters)
    p.xadd(
      dlqStream(group),
      'MAXLEN',
      '~',
      maxLen,
      '*',
      streamFields.key,
      l.entry.key ?? '',
      streamFields.value,
      l.entry.value ?? '',
      'x-dlq-reason',
      l.reason,
      'x-dlq-detail',
      l.detail.slice(0, 1000),
      'x-source-stream',
      l.sourceStream,
      'x-source-id',
      l.entry.id,
      'x-consumer-group',
      group,
    );
  const answers = await p.exec().catch((err: unknown) => {
    throw refused('dead-letter stream append', err);
  });
  const failed = answers?.find(([err]) => err);
  if (!answers || failed) throw refused('dead-letter stream append', failed?.[0] ?? 'no answer');
}

/** The group's state on one stream (XINFO GROUPS): given but not acknowledged, and not given yet. */
export async function groupState(
  redis: Redis,
  group: ConsumerGroup,
  stream: string,
): Promise<{ pending: number; lag: number } | undefined> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as (string | number | null)[][];
  for (const g of groups) {
    const f = new Map<string, string | number | null>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]!);
    if (f.get('name') !== group) continue;
    // `lag` is null when Redis cannot tell (after a trim or an XDEL): count it as unknown, 0.
    return { pending: Number(f.get('pending') ?? 0), lag: Number(f.get('lag') ?? 0) };
  }
  return undefined;
}
