// Everything the invariants look at, loaded once after convergence: the database (queried live
// through a pool on the DIRECT url, so faults never touch the checker), every message of the event
// and dead-letter topics, the dashboard cache, and the client history.
import pg from 'pg';
import type { ConsumerGroup } from '../../system/contracts/topics.ts';
import { eventTypes, groupNames } from '../../system/contracts/topics.ts';
import { interner } from '../lib/intern.ts';
import { type HistoryOp, historyOps } from '../run/history.ts';
import type { Exercised } from '../run/result.ts';
import { measureExercised } from './exercised.ts';
import { type Operation, toOperations } from './operations.ts';
import { type CacheSnapshot, readCache } from './read-cache.ts';
import { readStreams, type StreamCopy } from './read-streams.ts';
import { readTopics, type TopicMessage } from './read-topics.ts';
import { queryRows } from './rows.ts';
import { eventTypeOfTopic, everyTopic, systemTopicSet, type TopicSet } from './topic-set.ts';

/** One `processed_events` row. */
export interface ProcessedRow {
  readonly consumer: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly processedAt: Date;
}

/** What the checker knows before it measures what the run exercised. */
export interface Evidence {
  readonly db: pg.Pool;
  /** The app clock (wall clock + app_clock.offset_ms) when the context was loaded. */
  readonly now: Date;
  /** Largest clock skew of any process, ms: widens the session-window bounds. */
  readonly clockToleranceMs: number;
  /** An app-clock time by which the top-up job is known to have run (raises the window's lower bound). */
  readonly toppedUpBy: Date | undefined;
  readonly topicSet: TopicSet;
  /** False when no brokers were given: invariants that need the topics answer 'unknown'. */
  readonly topicsRead: boolean;
  /** Messages of the event topics, in (topic, partition, offset) order. */
  readonly eventMessages: readonly TopicMessage[];
  /** Messages of each group's dead-letter topic. */
  readonly deadLetters: ReadonlyMap<ConsumerGroup, readonly TopicMessage[]>;
  /** Every copy of each event id in the event topics (messages whose JSON has an eventId). */
  readonly copies: ReadonlyMap<string, readonly TopicMessage[]>;
  readonly cacheRead: boolean;
  readonly cache: CacheSnapshot;
  /** Every entry of the event topics' fallback streams (Redis), by event id; empty when Redis was not read (cacheRead). */
  readonly streamCopies: ReadonlyMap<string, readonly StreamCopy[]>;
  readonly historyRead: boolean;
  readonly ops: readonly Operation[];
  /** processed_events by group, then event id. */
  readonly processed: ReadonlyMap<string, ReadonlyMap<string, ProcessedRow>>;
}

/** The input of every invariant. */
export interface CheckContext extends Evidence {
  /** What the run exercised: measured by the checker, merged with what the caller reports. */
  readonly exercised: Exercised;
}

export interface LoadOptions {
  /** Use the direct URL: the checker must see the truth even while a fault is still on a proxy. */
  readonly databaseUrl: string;
  /** Kafka bootstrap (the proxied address: the broker advertises it). Absent: topics not read. */
  readonly brokers?: string;
  /** Absent: the cache is not read. */
  readonly redisUrl?: string;
  readonly topicSet?: TopicSet;
  /** history.jsonl path (streamed) or the operations themselves (read once). Absent: no history. */
  readonly history?: string | Iterable<HistoryOp>;
  /** Counters the checker cannot see (restarts, rebalances, retries...), merged by max. */
  readonly extraExercised?: Partial<Exercised>;
  readonly clockToleranceMs?: number;
  readonly toppedUpBy?: Date;
  readonly topicReadTimeoutMs?: number;
  /** Read processed_events (default true); false leaves `processed` empty (run-checker's databaseOnly). */
  readonly processedEvents?: boolean;
}

export interface LoadedContext extends CheckContext {
  /** Closes the database pool. */
  close(): Promise<void>;
}

export async function loadContext(o: LoadOptions): Promise<LoadedContext> {
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 2 });
  // An idle connection dropped by the server must not crash the checker; the next query reconnects.
  db.on('error', () => {});
  try {
    const topicSet = o.topicSet ?? systemTopicSet;
    // The topics' messages and the processed_events rows name the same event ids, payments,
    // students and courses: each distinct string is held once for both (issue 11, goal 6).
    const intern = interner();
    const [messages, cache, streamEntries, nowRow, processed] = await Promise.all([
      o.brokers
        ? readTopics({
            brokers: o.brokers,
            topics: everyTopic(topicSet),
            validValues: false,
            intern,
            ...(o.topicReadTimeoutMs ? { timeoutMs: o.topicReadTimeoutMs } : {}),
          })
        : Promise.resolve([]),
      o.redisUrl ? readCache(o.redisUrl) : Promise.resolve({ dashboards: [], generations: new Map() }),
      o.redisUrl
        ? readStreams(
            o.redisUrl,
            eventTypes.map((t) => topicSet.events[t]),
          )
        : Promise.resolve([]),
      db.query<{ ms: number }>(
        `SELECT (extract(epoch FROM clock_timestamp()) * 1000 + offset_ms)::float8 AS ms FROM app_clock`,
      ),
      o.processedEvents === false ? Promise.resolve(new Map()) : readProcessed(db, intern),
    ]);
    const eventMessages = messages.filter((m) => eventTypeOfTopic(topicSet, m.topic) !== undefined);
    const deadLetters = new Map<ConsumerGroup, TopicMessage[]>(
      groupNames.map((g) => [g, messages.filter((m) => m.topic === topicSet.dlq[g])]),
    );
    const copies = byEventId(eventMessages);
    const streamCopies = byEventId(streamEntries);
    const history =
      o.history === undefined ? [] : typeof o.history === 'string' ? historyOps(o.history) : o.history;
    const evidence: Evidence = {
      db,
      now: new Date(nowRow.rows[0]?.ms ?? Date.now()),
      clockToleranceMs: o.clockToleranceMs ?? 0,
      toppedUpBy: o.toppedUpBy,
      topicSet,
      topicsRead: o.brokers !== undefined,
      eventMessages,
      deadLetters,
      copies,
      cacheRead: o.redisUrl !== undefined,
      cache,
      streamCopies,
      historyRead: o.history !== undefined,
      ops: toOperations(history),
      processed,
    };
    const exercised = await measureExercised(evidence, o.extraExercised);
    return { ...evidence, exercised, close: () => db.end() };
  } catch (err) {
    await db.end();
    throw err;
  }
}

/**
 * processed_events by group, then event id: read a page at a time (a bench's ~200k rows held as
 * pg's row objects and as ProcessedRows at once took ~90 MiB), every string interned.
 */
async function readProcessed(
  db: pg.Pool,
  intern: (s: string) => string,
): Promise<Map<string, Map<string, ProcessedRow>>> {
  const processed = new Map<string, Map<string, ProcessedRow>>();
  for await (const r of queryRows<{
    consumer: string;
    event_id: string;
    event_type: string;
    processed_at: Date;
  }>(db, 'SELECT consumer, event_id, event_type, processed_at FROM processed_events')) {
    const consumer = intern(r.consumer);
    const byId = processed.get(consumer) ?? new Map<string, ProcessedRow>();
    processed.set(consumer, byId);
    const eventId = intern(r.event_id);
    byId.set(eventId, { consumer, eventId, eventType: intern(r.event_type), processedAt: r.processed_at });
  }
  return processed;
}

/** Items with an event id, grouped by it (in their order); items without one are left out. */
function byEventId<T extends { readonly eventId: string | null }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    if (x.eventId === null) continue;
    const list = out.get(x.eventId);
    if (list) list.push(x);
    else out.set(x.eventId, [x]);
  }
  return out;
}

/** Whether `group` recorded `eventId` in processed_events. */
export function wasProcessed(ctx: Evidence, group: string, eventId: string): boolean {
  return ctx.processed.get(group)?.has(eventId) ?? false;
}
