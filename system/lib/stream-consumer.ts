// The workers' side of the Redis Streams fallback (issue 15): each worker reads its group's streams
// beside its Kafka topics, through the SAME processChunk (same inbox processed_events, same
// handlers, same dead-letter rules; dead letters go to the group's dead-letter stream), and
// acknowledges an entry (XACK) only after the transaction that handled it committed, as the Kafka
// side commits an offset only then. An entry given to a consumer that died stays pending and is
// claimed by another after `claimIdleMs` (XAUTOCLAIM). An event that comes by both transports is a
// duplicate for the inbox, whichever comes first.
import type { Redis } from 'ioredis';
import { consumerGroups, type EventType, groupTopics, parseEvent, streamKey } from '../contracts/index.ts';
import { backoffMs, sleep } from './backoff.ts';
import {
  type ChunkDeps,
  type ChunkOutcome,
  correlationOf,
  countOutcomes,
  type DeadLetter,
  isLogicalTransient,
  type Parsed,
  processChunk,
} from './consumer.ts';
import { isTransient, sqlState } from './errors.ts';
import { metrics } from './metrics.ts';
import {
  ack,
  claimStale,
  defaultMaxLen,
  ensureGroups,
  groupState,
  readNew,
  type StreamEntry,
  sendStreamDeadLetters,
} from './streams.ts';

export interface StreamConsumerDeps extends ChunkDeps {
  /**
   * A connection of its own: XREADGROUP ... BLOCK holds it while waiting (command timeout above
   * `blockMs`, createRedis's `commandTimeoutMs`).
   */
  readonly redis: Redis;
  /** This process's name in the group (unique per process, so a restart is a new consumer). */
  readonly consumerName: string;
  /** How long one read waits for new entries (ms). */
  readonly blockMs?: number;
  /** An entry given to a consumer and not acknowledged for this long (ms) is claimed by another. */
  readonly claimIdleMs?: number;
  /** How often this consumer looks for such entries (ms). */
  readonly claimEveryMs?: number;
  /** Entries kept in the dead-letter stream (XADD MAXLEN ~). */
  readonly maxLen?: number;
  /** The streams to read; by default one per event type the group consumes (tests pass fresh ones). */
  readonly streams?: readonly string[];
}

/** The group's streams: one per event type it consumes (or the ones `deps` names). */
export function streamsOf(deps: Pick<StreamConsumerDeps, 'group' | 'streams'>): string[] {
  return deps.streams ? [...deps.streams] : groupTopics(deps.group).map(streamKey);
}

/**
 * Handles entries of one stream: validate, ONE processChunk (retried while the error is transient),
 * dead letters to the group's dead-letter stream, then XACK. Returns false when it stopped before
 * acknowledging (aborted): the entries stay pending and are claimed again.
 */
export async function handleEntries(
  deps: StreamConsumerDeps,
  stream: string,
  entries: readonly StreamEntry[],
  signal?: AbortSignal,
): Promise<{ acked: boolean; outcomes: ChunkOutcome[] }> {
  const accepted = consumerGroups[deps.group] as readonly EventType[];
  const maxLogical = deps.maxTransientAttempts ?? 100;
  const valid: Parsed[] = [];
  const invalid: DeadLetter[] = [];
  for (const e of entries) {
    const message = { key: e.key, value: e.value, offset: e.id };
    const parsed = parseEvent(e.value, accepted);
    if (parsed.ok) valid.push({ message, event: parsed.event });
    else invalid.push({ message, reason: parsed.code, detail: parsed.detail });
  }
  let dead: DeadLetter[] = [];
  let outcomes: ChunkOutcome[] = [];
  if (valid.length > 0) {
    let logical = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await processChunk(deps, valid, { exhausted: logical >= maxLogical });
        dead = result.dead;
        outcomes = result.outcomes;
        break;
      } catch (err) {
        if (!isTransient(err)) throw err;
        if (isLogicalTransient(err)) logical++;
        if (signal?.aborted) return { acked: false, outcomes };
        metrics.retries.inc({
          component: deps.group,
          reason: sqlState(err) ?? (err as { code?: string }).code ?? 'transient',
        });
        if (attempt % 10 === 0)
          deps.log.warn(
            {
              err: (err as Error).message,
              attempt,
              transport: 'stream',
              correlationIds: valid.slice(0, 10).map((v) => v.event.correlationId),
            },
            'process chunk: transient error, retrying',
          );
        await sleep(backoffMs(attempt, { maxMs: 2_000 }), signal);
      }
    }
    countOutcomes(deps.group, 'stream', valid, outcomes);
  }
  const letters = [...invalid, ...dead];
  await sendStreamDeadLetters(
    deps.redis,
    deps.group,
    letters.map((l) => ({
      entry: {
        key: l.message.key === null ? null : String(l.message.key),
        value: l.message.value === null ? null : String(l.message.value),
        id: l.message.offset,
      },
      sourceStream: stream,
      reason: l.reason,
      detail: l.detail,
    })),
    deps.maxLen ?? defaultMaxLen,
  );
  for (const l of letters) {
    metrics.deadLetters.inc({ group: deps.group, reason: l.reason });
    deps.log.warn(
      {
        correlationId: l.event?.correlationId ?? correlationOf(l.message),
        eventId: l.event?.eventId,
        eventType: l.event?.eventType,
        stream,
        entryId: l.message.offset,
        reason: l.reason,
        detail: l.detail.slice(0, 200),
      },
      'dead-lettered (fallback stream)',
    );
  }
  // Acknowledged only now: the transaction committed and the dead letters are in their stream. A
  // crash before this line leaves the entries pending: claimed again, absorbed by the inbox.
  await ack(
    deps.redis,
    deps.group,
    stream,
    entries.map((e) => e.id),
  );
  return { acked: true, outcomes };
}

/**
 * Reads the group's streams until `signal` aborts: first, every `claimEveryMs`, the entries other
 * consumers left pending for `claimIdleMs`; then new entries, waiting up to `blockMs`. Every error
 * (Redis away, the group gone with a Redis restart) is retried with backoff: the streams are the
 * fallback, and everything they carry reaches Kafka as well.
 */
export function runStreamConsumer(deps: StreamConsumerDeps, signal: AbortSignal): Promise<void> {
  const streams = streamsOf(deps);
  const chunkSize = deps.chunkSize ?? 100;
  const blockMs = deps.blockMs ?? 1_000;
  const claimIdleMs = deps.claimIdleMs ?? 10_000;
  const claimEveryMs = deps.claimEveryMs ?? 5_000;
  return (async () => {
    let grouped = false;
    let failures = 0;
    let lastClaim = Number.NEGATIVE_INFINITY;
    while (!signal.aborted) {
      try {
        if (!grouped) {
          await ensureGroups(deps.redis, deps.group, streams);
          grouped = true;
        }
        if (performance.now() - lastClaim >= claimEveryMs) {
          lastClaim = performance.now();
          for (const s of streams) {
            const claimed = await claimStale(deps.redis, deps.group, deps.consumerName, s, {
              minIdleMs: claimIdleMs,
              count: chunkSize,
            });
            if (claimed.length === 0) continue;
            metrics.transportEvents.inc(
              { transport: 'stream', stage: 'claimed', outcome: 'claimed' },
              claimed.length,
            );
            deps.log.warn(
              { stream: s, entries: claimed.length, idleMs: claimIdleMs },
              'claimed stream entries another consumer left unacknowledged',
            );
            if (!(await handleEntries(deps, s, claimed, signal)).acked) return;
          }
        }
        const read = await readNew(deps.redis, deps.group, deps.consumerName, streams, {
          count: chunkSize,
          blockMs,
        });
        for (const entries of read)
          if (entries.length > 0 && !(await handleEntries(deps, entries[0]!.stream, entries, signal)).acked)
            return;
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        // A Redis that restarted without its data lost the groups: create them again.
        if (/NOGROUP/.test((err as Error).message)) grouped = false;
        metrics.retries.inc({ component: deps.group, reason: 'stream' });
        if (failures % 20 === 0)
          deps.log.warn(
            { err: (err as Error).message, failures, transport: 'stream' },
            'fallback stream read failed, retrying',
          );
        await sleep(backoffMs(failures++, { baseMs: 200, maxMs: 5_000 }), signal);
      }
    }
  })();
}

/** Keeps the pending and lag gauges of the group's streams current (a connection that does not block). */
export function watchStreams(
  redis: Redis,
  deps: Pick<StreamConsumerDeps, 'group' | 'streams'>,
  signal: AbortSignal,
  everyMs = 2_000,
): Promise<void> {
  const streams = streamsOf(deps);
  return (async () => {
    while (!signal.aborted) {
      for (const s of streams) {
        try {
          const state = await groupState(redis, deps.group, s);
          metrics.fallbackPending.set({ group: deps.group, stream: s }, state?.pending ?? 0);
          metrics.fallbackLag.set({ group: deps.group, stream: s }, state?.lag ?? 0);
        } catch {
          // Redis is away or the stream does not exist yet; the consume loop reports it.
        }
      }
      await sleep(everyMs, signal);
    }
  })();
}
