// The consumer framework every worker runs on: validate, inbox + handler in one transaction per
// chunk, dead-letter what can never succeed, retry what can, and only then commit the Kafka offset.
// The Redis Streams fallback (stream-consumer.ts) runs its entries through the same processChunk:
// same inbox, same handlers, same dead-letter rules.
import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import {
  type ConsumerGroup,
  consumerGroups,
  type DomainEvent,
  dlqTopic,
  type EventType,
  groupTopics,
  parseEvent,
  type Transport,
} from '../contracts/index.ts';
import { backoffMs, sleep } from './backoff.ts';
import { beginAt } from './clock.ts';
import type { Pool, PoolClient } from './db.ts';
import { AppError, isTransient, sqlState } from './errors.ts';
import type { FaultSet } from './faults.ts';
import {
  type ChunkContext,
  type DashboardCache,
  type EventHandler,
  inboxStatement,
  type ProcessOutcome,
} from './inbox.ts';
import type { Logger } from './log.ts';
import { metrics } from './metrics.ts';

export interface ConsumerDeps {
  readonly group: ConsumerGroup;
  readonly pool: Pool;
  readonly consumer: Consumer;
  /** Producer for the dead-letter topic. */
  readonly producer: Producer;
  readonly handler: EventHandler;
  /** The cache every writer invalidates for what it changed. */
  readonly dashboards: DashboardCache;
  readonly faults: FaultSet;
  readonly log: Logger;
  readonly clockSkewMs: number;
  /** Events per database transaction. */
  readonly chunkSize?: number;
  /** Attempts of a handler error that is not transient before the event is dead-lettered. */
  readonly maxAttempts?: number;
  /**
   * Attempts of a chunk failing for a logical transient reason (isLogicalTransient) before the
   * event still failing is dead-lettered as retries_exhausted (default 100, ~2.5 min of backoff).
   */
  readonly maxTransientAttempts?: number;
  /**
   * Level of the one line logged per processed event (correlation id, outcome, processing and
   * end-to-end time): `info` by default, `debug` (or a LOG_LEVEL above it) turns it off under load.
   */
  readonly eventLogLevel?: 'info' | 'debug' | 'trace';
}

/** What processChunk needs: everything but the Kafka clients (the stream consumer has none). */
export type ChunkDeps = Omit<ConsumerDeps, 'consumer' | 'producer'> &
  Partial<Pick<ConsumerDeps, 'consumer' | 'producer'>>;

/** A delivered message, whichever the transport: a Kafka message, or a stream entry (offset = its id). */
export interface SourceMessage {
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly offset: string;
}

export interface DeadLetter {
  readonly message: SourceMessage;
  readonly reason: string;
  readonly detail: string;
  /** The parsed event, when the message was one (its ids go on the log line). */
  readonly event?: DomainEvent;
}

export type Parsed = { readonly message: SourceMessage; readonly event: DomainEvent };

export type ChunkOutcome = ProcessOutcome | 'dead-lettered';

/** A handler error that is not transient: the chunk falls back to one savepoint per event. */
class PermanentHandlerError extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

/**
 * Handles one chunk of valid events in ONE transaction. Fast path: the inbox rows of the whole
 * chunk in one statement, then ONE handler call for every new event (set-based: a few statements
 * per chunk), no savepoints. If the handler fails for a reason retrying cannot fix, the chunk is
 * rolled back and replayed on the slow path, where each event is handled alone under its own
 * savepoint with up to `maxAttempts`, after which it is dead-lettered.
 */
export async function processChunk(
  deps: ChunkDeps,
  events: readonly Parsed[],
  { exhausted = false }: { exhausted?: boolean } = {},
): Promise<{ outcomes: ChunkOutcome[]; dead: DeadLetter[] }> {
  // Retries of a condition only time can fix ran out: each event alone, and the one still
  // contended goes to the dead-letter topic (reason retries_exhausted) instead of holding the partition.
  if (exhausted) return inTransaction(deps, events, true, true);
  try {
    return await inTransaction(deps, events, false);
  } catch (err) {
    if (!(err instanceof PermanentHandlerError)) throw err;
    deps.log.warn(
      { err: err.message, correlationIds: events.slice(0, 10).map((e) => e.event.correlationId) },
      'handler failed; replaying the chunk one event at a time',
    );
    return inTransaction(deps, events, true);
  }
}

/**
 * A transient condition of the data, not of the infrastructure: every trainer with room locked
 * by another allocator (`capacity_contended`), a cause not visible yet. Retried, but not forever
 * (the database or Kafka being away is retried without bound: dead-lettering then would be wrong).
 */
export function isLogicalTransient(err: unknown): boolean {
  return (
    err instanceof AppError &&
    err.retriable &&
    err.code !== 'transient_cache' &&
    err.code !== 'transient_stream'
  );
}

async function inTransaction(
  deps: ChunkDeps,
  events: readonly Parsed[],
  careful: boolean,
  exhausted = false,
): Promise<{ outcomes: ChunkOutcome[]; dead: DeadLetter[] }> {
  const maxAttempts = deps.maxAttempts ?? 3;
  const client: PoolClient = await deps.pool.connect();
  let broken: Error | undefined;
  try {
    // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
    const useInbox = !deps.faults.has('skip-inbox');
    // Planted bug dedupe-by-key: copies recognised by message key (the student) instead of event
    // id, so a second event of one student in a chunk is dropped unprocessed (and its offset committed).
    // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
    const dropped = deps.faults.has('dedupe-by-key') ? laterOfSameKey(events) : new Set<number>();
    // BEGIN, the clock and the chunk's inbox rows in one round trip.
    const begun = await beginAt<{ event_id: string }>(
      client,
      deps.clockSkewMs,
      useInbox
        ? inboxStatement(
            deps.group,
            // Stryker disable next-line MethodExpression: planted-bug switch, exercised by the planted-bug matrix
            events.filter((_, i) => !dropped.has(i)).map((e) => e.event),
          )
        : undefined,
    );
    const { now } = begun;
    const begunAt = performance.now();
    const fresh = useInbox ? new Set(begun.rows.map((r) => r.event_id)) : undefined;
    // Dashboards to invalidate, each once per chunk, in one round trip before or after the commit.
    const dashboards = { 'before-commit': new Set<string>(), 'after-commit': new Set<string>() };
    const ctx: ChunkContext = {
      client,
      group: deps.group,
      now,
      faults: deps.faults,
      log: deps.log,
      onConflict: (constraint: string) => metrics.constraintConflicts.inc({ group: deps.group, constraint }),
      invalidateDashboard: (studentId: string, when: 'before-commit' | 'after-commit') => {
        // Planted bug skip-cache-invalidation: every writer forgets to invalidate.
        // Stryker disable next-line all: planted bug (PAYPROOF_FAULTS), off in production
        if (deps.faults.has('skip-cache-invalidation')) return;
        dashboards[when].add(studentId);
      },
    };
    // An id new to the inbox is handled once even if the chunk holds it twice.
    const isNew = (e: DomainEvent) => (fresh ? fresh.delete(e.eventId) : true);
    const outcomes: ChunkOutcome[] = events.map(({ event }, i) =>
      !dropped.has(i) && isNew(event) ? 'applied' : 'duplicate',
    );
    const todo = events.flatMap((_e, i) => (outcomes[i] === 'duplicate' ? [] : [i]));
    const dead: DeadLetter[] = [];
    if (!careful && todo.length > 0) {
      let handled: ChunkOutcome[];
      try {
        handled = await deps.handler(
          ctx,
          todo.map((i) => events[i]!.event),
        );
      } catch (err) {
        throw isTransient(err) ? err : new PermanentHandlerError(err);
      }
      todo.forEach((i, j) => {
        outcomes[i] = handled[j]!;
      });
    }
    // The slow path: each event alone under its own savepoint, so one bad event cannot sink the chunk.
    for (const i of careful ? todo : []) {
      const { message, event } = events[i]!;
      const log = deps.log.child({
        eventId: event.eventId,
        correlationId: event.correlationId,
        causationId: event.causationId,
        eventType: event.eventType,
      });
      for (let attempt = 1; ; attempt++) {
        await client.query('SAVEPOINT ev');
        try {
          const [outcome] = await deps.handler({ ...ctx, log }, [event]);
          outcomes[i] = outcome!;
          await client.query('RELEASE SAVEPOINT ev');
          break;
        } catch (err) {
          // A transient error aborts the whole chunk: the caller rolls back and retries it (once its
          // retries ran out, a logical one is this event's alone: it is dead-lettered below).
          const gaveUp = exhausted && isLogicalTransient(err);
          if (isTransient(err) && !gaveUp) throw err;
          await client.query('ROLLBACK TO SAVEPOINT ev');
          log.warn({ err, attempt }, 'handler failed');
          if (attempt >= maxAttempts || gaveUp) {
            const reason = gaveUp ? 'retries_exhausted' : 'handler_error';
            metrics.retriesExhausted.inc({ component: deps.group, reason });
            const state = sqlState(err);
            // A constraint the handler did not absorb: a bug or corrupt data, never "already done".
            if (state?.startsWith('23'))
              // The constraint's name is in the dead letter's detail and the log line, not a label:
              // a label value first seen at the violation would start its series at 1 (see initCounters).
              metrics.constraintViolations.inc({ group: deps.group });
            // Rolled back with the savepoint: take the inbox row out too, so a redelivery retries it.
            // Stryker disable next-line ConditionalExpression: planted-bug switch, exercised by the planted-bug matrix
            if (useInbox)
              await client.query('DELETE FROM processed_events WHERE consumer = $1 AND event_id = $2', [
                deps.group,
                event.eventId,
              ]);
            dead.push({
              message,
              event,
              reason,
              detail: `${sqlState(err) ?? ''} ${(err as Error).message}`.trim(),
            });
            outcomes[i] = 'dead-lettered';
            break;
          }
        }
      }
    }
    // Side effects outside the database happen before the commit: if the commit fails, the
    // events come again and the effect is repeated (it is idempotent); never the reverse.
    await deps.dashboards.invalidate([...dashboards['before-commit']]);
    await client.query('COMMIT');
    observeCommitted(deps, events, outcomes, now.getTime() + (performance.now() - begunAt), begunAt);
    // Committed: this can no longer roll back. The workers' cache parks what Redis refuses (in
    // pending_invalidations, delivered by its sweeper), so this never retries inside the consume loop.
    const after = [...dashboards['after-commit']];
    if (after.length > 0)
      await deps.dashboards.invalidate(after).catch((err: Error) => {
        metrics.retriesExhausted.inc({ component: deps.group, reason: 'after_commit_invalidation' });
        deps.log.error(
          { err: err.message, students: after.length },
          'after-commit invalidation failed and could not be parked (the cache TTL bounds the staleness)',
        );
      });
    return { outcomes, dead };
  } catch (err) {
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * After a commit: the end-to-end latency of every event handled (not of duplicates), from its own
 * timestamp (when its cause committed, on the app clock) to this commit on the same clock, and one
 * log line per event with its ids, outcome and times.
 */
function observeCommitted(
  deps: ChunkDeps,
  events: readonly Parsed[],
  outcomes: readonly ChunkOutcome[],
  committedAtMs: number,
  begunAt: number,
) {
  const processingMs = Math.round((performance.now() - begunAt) * 10) / 10;
  const level = deps.eventLogLevel ?? 'info';
  const logging = deps.log.isLevelEnabled(level);
  for (const [i, { event, message }] of events.entries()) {
    const outcome = outcomes[i]!;
    const e2eMs = committedAtMs - Date.parse(event.timestamp);
    if (outcome !== 'duplicate' && outcome !== 'dead-lettered' && Number.isFinite(e2eMs))
      metrics.e2eSeconds.observe({ group: deps.group }, Math.max(0, e2eMs) / 1000);
    if (logging)
      deps.log[level](
        {
          correlationId: event.correlationId,
          eventId: event.eventId,
          causationId: event.causationId,
          eventType: event.eventType,
          offset: message.offset,
          outcome,
          processingMs,
          e2eMs: Math.round(e2eMs),
        },
        'event processed',
      );
  }
}

// Stryker disable all: planted bug (PAYPROOF_FAULTS), off in production; proven by the planted-bug matrix
/** Planted bug dedupe-by-key: indexes of events whose student already had an event earlier in the chunk. */
function laterOfSameKey(events: readonly Parsed[]): Set<number> {
  const seen = new Set<string>();
  const later = new Set<number>();
  for (const [i, { event }] of events.entries()) {
    if (seen.has(event.payload.studentId)) later.add(i);
    seen.add(event.payload.studentId);
  }
  return later;
}
// Stryker restore all

/** Counted per chunk (one labelled increment per type and outcome, and per transport), not per event. */
export function countOutcomes(
  group: ConsumerGroup,
  transport: Transport,
  events: readonly Parsed[],
  outcomes: readonly ChunkOutcome[],
): void {
  const counts = new Map<string, number>();
  outcomes.forEach((outcome, j) => {
    const key = `${events[j]!.event.eventType} ${outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  const byOutcome = new Map<string, number>();
  for (const [key, n] of counts) {
    const [type, outcome] = key.split(' ') as [string, string];
    metrics.eventsProcessed.inc({ group, type, outcome }, n);
    if (outcome === 'duplicate') metrics.idempotencyHits.inc({ group }, n);
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + n);
  }
  for (const [outcome, n] of byOutcome)
    metrics.transportEvents.inc({ transport, stage: 'consumed', outcome }, n);
}

async function sendDeadLetters(
  deps: ConsumerDeps,
  topic: string,
  partition: number,
  letters: readonly DeadLetter[],
) {
  if (letters.length === 0) return;
  await deps.producer.send({
    topic: dlqTopic(deps.group),
    acks: -1,
    messages: letters.map((l) => ({
      key: l.message.key,
      value: l.message.value,
      headers: {
        'x-dlq-reason': l.reason,
        'x-dlq-detail': l.detail.slice(0, 1000),
        'x-source-topic': topic,
        'x-source-partition': String(partition),
        'x-source-offset': l.message.offset,
        'x-consumer-group': deps.group,
      },
    })),
  });
  for (const l of letters) {
    metrics.deadLetters.inc({ group: deps.group, reason: l.reason });
    deps.log.warn(
      {
        correlationId: l.event?.correlationId ?? correlationOf(l.message),
        eventId: l.event?.eventId,
        causationId: l.event?.causationId,
        eventType: l.event?.eventType,
        topic,
        partition,
        offset: l.message.offset,
        reason: l.reason,
        detail: l.detail.slice(0, 200),
      },
      'dead-lettered',
    );
  }
}

/** Best effort for a message that failed validation: its correlationId if it is JSON carrying one. */
export function correlationOf(message: SourceMessage): string | undefined {
  try {
    const v = JSON.parse(message.value?.toString() ?? '') as { correlationId?: unknown };
    return typeof v?.correlationId === 'string' ? v.correlationId.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Retries `fn` on transient errors with backoff + jitter while the batch is still ours, heartbeating
 * between attempts; `onRetry` sees each error first (to count the logical ones).
 */
async function retrying<T>(
  deps: ConsumerDeps,
  what: string,
  payload: EachBatchPayload,
  fn: () => Promise<T>,
  onRetry?: (err: unknown) => void,
  /** The events at stake, for the log line (correlation ids of the chunk). */
  correlationIds: readonly (string | undefined)[] = [],
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err)) throw err;
      onRetry?.(err);
      if (!payload.isRunning() || payload.isStale()) return undefined;
      metrics.retries.inc({
        component: deps.group,
        reason: sqlState(err) ?? (err as { code?: string }).code ?? 'transient',
      });
      deps.log.warn(
        {
          err: (err as Error).message,
          code: sqlState(err),
          attempt,
          correlationIds: correlationIds.slice(0, 10),
        },
        `${what}: transient error, retrying`,
      );
      await sleep(backoffMs(attempt, { maxMs: 2_000 }));
      await payload.heartbeat().catch(() => {});
    }
  }
}

/** Told when an offset commit is sent and how it ended; times are performance.now() milliseconds. */
export interface CommitListener {
  sent(sentAt: number): void;
  /** Whether the broker took the commit sent at `sentAt` (kafkajs may have retried it for seconds). */
  ended(ok: boolean, sentAt: number): void;
}

/**
 * Offsets of chunks whose transaction committed, sent to Kafka together at most every
 * `intervalMs` (one OffsetCommit for every partition, instead of one per chunk and partition).
 * Safe by construction: only offsets of committed chunks are queued, and a commit that is lost
 * (crash, rebalance) only means events come again, which the inbox absorbs.
 */
export class OffsetCommitter {
  readonly #pending = new Map<string, { topic: string; partition: number; offset: string }>();
  readonly #deps: ConsumerDeps;
  readonly #intervalMs: number;
  /** How long add() waits for the commit it sent (twice the heartbeat interval). */
  readonly #maxWaitMs: number;
  #last = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #outcomes: CommitListener[] = [];
  /** Moved on by forget(): a commit refused after it is not queued again. */
  #epoch = 0;

  constructor(deps: ConsumerDeps, intervalMs: number, maxWaitMs = 2_000) {
    this.#deps = deps;
    this.#intervalMs = intervalMs;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Tells `l` when each commit is sent and how it ended (the stall watchdog's progress). */
  onCommit(l: CommitListener): void {
    this.#outcomes.push(l);
  }

  /**
   * Queues `offset` (the next one to read) for its partition; commits if the interval is up. The
   * caller (the batch loop) waits for that commit at most `maxWaitMs`, and not at all while an
   * earlier commit is still unanswered (the offset goes with the next one): kafkajs retries a
   * refused commit inside one call for up to ~30 s (NOT_COORDINATOR after a broker restart), and a
   * batch blocked that long sends no heartbeat, so kafkajs never learns from one that its
   * coordinator moved and never joins again (kill-leader, docs/targets.md). The commit itself goes
   * on, and its outcome still reaches onCommit's listeners.
   */
  async add(topic: string, partition: number, offset: string): Promise<void> {
    this.#pending.set(`${topic}:${partition}`, { topic, partition, offset });
    const due = this.#intervalMs === 0 || performance.now() - this.#last >= this.#intervalMs;
    if (!due || this.#flushing) {
      this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs).unref();
      return;
    }
    const flushed = this.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      flushed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#maxWaitMs).unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Drops what is queued: after the group was joined again, the partitions may be another member's
   * (committing this member's older offsets there would move them back). Redelivered, absorbed.
   */
  forget(): void {
    this.#epoch++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  /** Commits everything queued (also on shutdown and before a rebalance gives partitions away). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#pending.size === 0) return;
    const offsets = [...this.#pending.values()];
    this.#pending.clear();
    this.#last = performance.now();
    const epoch = this.#epoch;
    const sentAt = this.#last;
    for (const l of this.#outcomes) l.sent(sentAt);
    this.#flushing = this.#deps.consumer
      .commitOffsets(offsets)
      .then(
        () => {
          for (const l of this.#outcomes) l.ended(true, sentAt);
        },
        (err: Error) => {
          for (const l of this.#outcomes) l.ended(false, sentAt);
          this.#deps.log.warn(
            { err: err.message, partitions: offsets.length },
            'offset commit failed; queued again (until a rebalance), and redelivered if it never lands (the inbox absorbs it)',
          );
          // Queued again unless a newer offset of the partition already is, and retried even if no
          // new event comes: an idle consumer's last offsets land, and a consumer that can never
          // commit keeps saying so (the stall watchdog counts refused commits).
          if (epoch !== this.#epoch) return;
          for (const o of offsets) {
            const key = `${o.topic}:${o.partition}`;
            if (!this.#pending.has(key)) this.#pending.set(key, o);
          }
          this.#timer ??= setTimeout(() => void this.flush(), Math.max(this.#intervalMs, 1_000)).unref();
        },
      )
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }
}

/** The eachBatch callback: chunks of messages, each chunk committed before its offsets. */
export function batchHandler(deps: ConsumerDeps, committer = new OffsetCommitter(deps, 0)) {
  const accepted = consumerGroups[deps.group] as readonly EventType[];
  const chunkSize = deps.chunkSize ?? 100;
  const maxLogical = deps.maxTransientAttempts ?? 100;
  return async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const started = performance.now();
    for (let i = 0; i < batch.messages.length; i += chunkSize) {
      if (!payload.isRunning() || payload.isStale()) return;
      const slice = batch.messages.slice(i, i + chunkSize);
      const valid: Parsed[] = [];
      const invalid: DeadLetter[] = [];
      for (const message of slice) {
        const parsed = parseEvent(message.value, accepted);
        if (parsed.ok) valid.push({ message, event: parsed.event });
        else invalid.push({ message, reason: parsed.code, detail: parsed.detail });
      }
      let dead: DeadLetter[] = [];
      if (valid.length > 0) {
        let logical = 0;
        const result = await retrying(
          deps,
          'process chunk',
          payload,
          () => processChunk(deps, valid, { exhausted: logical >= maxLogical }),
          (err) => {
            if (isLogicalTransient(err)) logical++;
          },
          valid.map((e) => e.event.correlationId),
        );
        if (!result) return; // lost the partition or stopping: the next owner gets these again
        dead = result.dead;
        countOutcomes(deps.group, 'kafka', valid, result.outcomes);
      }
      const sent = await retrying(
        deps,
        'dead-letter',
        payload,
        async () => {
          await sendDeadLetters(deps, batch.topic, batch.partition, [...invalid, ...dead]);
          return true;
        },
        undefined,
        [...invalid, ...dead].map((l) => l.event?.correlationId),
      );
      if (!sent) return;
      const last = slice[slice.length - 1]!;
      payload.resolveOffset(last.offset);
      await committer.add(batch.topic, batch.partition, (BigInt(last.offset) + 1n).toString());
      metrics.consumerLag.set(
        { group: deps.group, topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
      );
      await payload.heartbeat().catch(() => {});
    }
    const perEvent = (performance.now() - started) / 1000 / Math.max(1, batch.messages.length);
    metrics.processingSeconds.observe({ group: deps.group }, perEvent);
  };
}

/**
 * The counters the alert rules read through increase(), exported at 0 from the start: a labelled
 * series that first appears at 1 has no earlier sample, increase() sees no change, and the alert on
 * the first dead letter of a process's life would never fire (test/e2e/alerts-fire caught it).
 */
export function initCounters(group: ConsumerGroup): void {
  for (const reason of ['handler_error', 'retries_exhausted', 'after_commit_invalidation'])
    metrics.retriesExhausted.inc({ component: group, reason }, 0);
  metrics.constraintViolations.inc({ group }, 0);
}

/**
 * Subscribes the group to its topics (`topics` overrides them: tests read topics of their own) and
 * starts consuming; returns the committer, to be flushed before the consumer disconnects. Offsets are
 * committed by the committer only (autoCommit off), and only those batchHandler resolved.
 */
export async function startConsuming(
  deps: ConsumerDeps,
  {
    concurrency = 3,
    commitIntervalMs = 200,
    topics: subscribed = groupTopics(deps.group),
  }: { concurrency?: number; commitIntervalMs?: number; topics?: readonly string[] } = {},
): Promise<OffsetCommitter> {
  const committer = new OffsetCommitter(deps, commitIntervalMs);
  await deps.consumer.connect();
  await deps.consumer.subscribe({ topics: [...subscribed], fromBeginning: true });
  await deps.consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: concurrency,
    eachBatch: batchHandler(deps, committer),
  });
  return committer;
}
