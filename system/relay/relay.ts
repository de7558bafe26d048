// The outbox relay: claims unpublished rows (FOR UPDATE SKIP LOCKED, so several relays can run),
// publishes them with acks=all, and marks them published only after the broker acknowledged.
// A crash between the two re-publishes the same event id; the consumers' inbox absorbs it.
// With a fallback (issue 15), a circuit breaker moves the relay to Redis Streams while Kafka is
// unreachable; back on Kafka, the rows that went only through the streams are still unpublished in
// Kafka's sense (published_at NULL), so the ordinary claim publishes them to Kafka first (id order).
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import type { Transport } from '../contracts/index.ts';
import { backoffMs, sleep } from '../lib/backoff.ts';
import type { Pool, PoolClient } from '../lib/db.ts';
import { AppError, isTransient } from '../lib/errors.ts';
import type { FaultSet } from '../lib/faults.ts';
import type { Logger } from '../lib/log.ts';
import { metrics } from '../lib/metrics.ts';
import { defaultMaxLen, publishToStreams } from '../lib/streams.ts';
import type { TransportBreaker } from './breaker.ts';

interface OutboxRow {
  id: number;
  event_id: string;
  correlation_id: string | null;
  event_type: string;
  topic: string;
  message_key: string;
  value: string;
  /** The row already went through the Redis Streams fallback (this send is its re-publication). */
  via_stream?: boolean;
}

/** The Redis Streams fallback of a relay (issue 15). */
export interface RelayFallback {
  /** A fail-fast client (createRedis): a refused XADD is retried by the loop, the rows stay unmarked. */
  readonly redis: Redis;
  readonly breaker: TransportBreaker;
  /** Asks Kafka for its metadata; used while no send tells whether Kafka answers. */
  readonly probeKafka: () => Promise<unknown>;
  /** Entries kept per stream (XADD MAXLEN ~). */
  readonly maxLen?: number;
  /** A probe every this many ms when no send succeeded within as long (default 1000). */
  readonly probeEveryMs?: number;
  /** A probe that has not answered after this many ms is a failure (default 1500). */
  readonly probeTimeoutMs?: number;
  /** Monotonic milliseconds (injectable for tests). */
  readonly now?: () => number;
}

export interface RelayDeps {
  readonly pool: Pool;
  /** Replaced by `renewProducer` when the broker no longer accepts its sequence numbers. */
  producer: Producer;
  readonly renewProducer?: () => Promise<Producer>;
  readonly faults: FaultSet;
  readonly log: Logger;
  readonly batchSize?: number;
  /** Level of the one line per published event (EVENT_LOG_LEVEL). */
  readonly eventLogLevel?: 'info' | 'debug' | 'trace';
  /**
   * -1 (all in-sync replicas, the default) or 1 (the leader alone). KAFKA_ACKS=1 is a
   * misconfiguration kept on purpose: on a cluster, a leader killed right after acknowledging loses
   * what its followers had not copied yet, and the outbox already says "published"
   * (docs/targets.md shows the harness catching it).
   */
  readonly acks?: -1 | 1;
  /** The Redis Streams fallback and its breaker; absent: Kafka only, as before issue 15. */
  readonly fallback?: RelayFallback;
}

async function publish(producer: Producer, rows: readonly OutboxRow[], acks: -1 | 1 = -1) {
  const byTopic = new Map<string, { key: string; value: string }[]>();
  for (const r of rows) {
    const list = byTopic.get(r.topic) ?? [];
    list.push({ key: r.message_key, value: r.value });
    byTopic.set(r.topic, list);
  }
  await producer.sendBatch({
    acks,
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}

const monotonic = () => performance.now();

/**
 * Publishes to Kafka; with a fallback, tells the breaker how Kafka answered and gives the send up
 * when the breaker opens meanwhile (a send to an unreachable broker waits out kafkajs's retries,
 * ~12 s). A send given up may still land later: one more copy in Kafka, absorbed by the inboxes.
 */
async function sendToKafka(deps: RelayDeps, rows: readonly OutboxRow[]): Promise<void> {
  const fb = deps.fallback;
  if (!fb) return publish(deps.producer, rows, deps.acks);
  const now = fb.now ?? monotonic;
  const since = now();
  inFlightSince.set(fb, since);
  const sending = publish(deps.producer, rows, deps.acks);
  let cancel = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    cancel = fb.breaker.onOpen(() =>
      reject(new AppError('transient_kafka', 'kafka send given up: the relay moved to the fallback', true)),
    );
  });
  try {
    await Promise.race([sending, abandoned]);
    fb.breaker.observe(true, now());
  } catch (err) {
    sending.catch(() => {});
    fb.breaker.observe(false, now(), since);
    throw err;
  } finally {
    cancel();
    inFlightSince.delete(fb);
  }
}

/**
 * One claim → deliver → mark cycle in two round trips: BEGIN with the claim of the rows `unpublished`
 * selects, then the mark with COMMIT (simple-protocol queries of two statements; the batch size and
 * the claimed ids are integers, inlined). `deliver` sends the rows and runs the mark (given the ids
 * as a bigint[] literal); false: nothing to count (the planted publish-before-commit lost them).
 * Returns the number of rows delivered; each gets its log line.
 */
async function claimAndDeliver(
  deps: RelayDeps,
  unpublished: string,
  deliver: (client: PoolClient, rows: readonly OutboxRow[], ids: string) => Promise<boolean>,
  logged: { readonly message: string; readonly transport?: Transport },
): Promise<number> {
  const batchSize = deps.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new TypeError(`batch size ${batchSize}`);
  const client = await deps.pool.connect();
  let broken: Error | undefined;
  try {
    const claimed = (await client.query(
      `BEGIN; SELECT id, event_id, envelope->>'correlationId' AS correlation_id, event_type, topic, message_key, envelope::text AS value,
         stream_published_at IS NOT NULL AS via_stream FROM outbox
       WHERE ${unpublished} ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
    )) as unknown as { rows: OutboxRow[] }[];
    const rows = claimed[1]!.rows;
    if (rows.length === 0) {
      await client.query('COMMIT');
      return 0;
    }
    const ids = rows.map((x) => Number(x.id));
    if (!ids.every(Number.isSafeInteger)) throw new TypeError('outbox ids must be integers');
    if (!(await deliver(client, rows, `'{${ids.join(',')}}'::bigint[]`))) return 0;
    const level = deps.eventLogLevel ?? 'info';
    if (deps.log.isLevelEnabled(level))
      for (const row of rows)
        deps.log[level](
          {
            correlationId: row.correlation_id,
            eventId: row.event_id,
            eventType: row.event_type,
            topic: row.topic,
            ...(logged.transport ? { transport: logged.transport } : {}),
            batch: rows.length,
          },
          logged.message,
        );
    return rows.length;
  } catch (err) {
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}

/** One Kafka cycle: every row not yet in Kafka (fallback-only rows included), marked published. */
export async function relayOnce(deps: RelayDeps): Promise<number> {
  return claimAndDeliver(
    deps,
    'published_at IS NULL',
    async (client, rows, ids) => {
      const markAndCommit = `UPDATE outbox SET published_at = now(), publish_attempts = publish_attempts + 1
       WHERE id = ANY(${ids}); COMMIT`;
      // Stryker disable next-line all: planted-bug switch, exercised by the planted-bug matrix
      if (deps.faults.has('publish-before-commit')) {
        // Stryker disable next-line all: planted bug (PAYPROOF_FAULTS), off in production
        if (!(await markThenPublish(deps, client, markAndCommit, rows))) return false;
      } else {
        await sendToKafka(deps, rows);
        await client.query(markAndCommit);
      }
      for (const row of rows) metrics.eventsPublished.inc({ type: row.event_type });
      const republished = rows.filter((r) => r.via_stream).length;
      metrics.transportEvents.inc(
        { transport: 'kafka', stage: 'published', outcome: 'published' },
        rows.length - republished,
      );
      if (republished > 0)
        metrics.transportEvents.inc(
          { transport: 'kafka', stage: 'published', outcome: 'republished' },
          republished,
        );
      return true;
    },
    { message: 'event published' },
  );
}

// Stryker disable all: planted bug (PAYPROOF_FAULTS), off in production; proven by the planted-bug matrix
/** Planted bug publish-before-commit: the rows are marked and committed before Kafka acknowledged them. */
async function markThenPublish(
  deps: RelayDeps,
  client: PoolClient,
  markAndCommit: string,
  rows: readonly OutboxRow[],
): Promise<boolean> {
  await client.query(markAndCommit);
  try {
    await publish(deps.producer, rows, deps.acks);
    return true;
  } catch (err) {
    deps.log.error(
      {
        err: (err as Error).message,
        count: rows.length,
        correlationIds: rows.slice(0, 20).map((r) => r.correlation_id),
      },
      'publish failed after commit (events lost)',
    );
    return false;
  }
}
// Stryker restore all

/**
 * The fallback's cycle: claims rows that went through no transport yet, appends them to their
 * streams, and marks them `stream_published_at` (NOT published_at: they are not in Kafka, and the
 * Kafka claim takes them again once Kafka is back). Returns the number of rows appended.
 */
export async function relayToStreamsOnce(deps: RelayDeps): Promise<number> {
  const fb = deps.fallback;
  if (!fb) throw new TypeError('relayToStreamsOnce needs a fallback');
  return claimAndDeliver(
    deps,
    'published_at IS NULL AND stream_published_at IS NULL',
    async (client, rows, ids) => {
      await publishToStreams(
        fb.redis,
        rows.map((r) => ({ topic: r.topic, key: r.message_key, value: r.value })),
        fb.maxLen ?? defaultMaxLen,
      );
      // Planted bug no-kafka-republish: the rows are marked as in Kafka too, so they are never
      // published to Kafka; Kafka's log misses every event of the outage.
      // Stryker disable next-line all: planted bug (PAYPROOF_FAULTS), off in production
      const alsoKafka = deps.faults.has('no-kafka-republish') ? ', published_at = now()' : '';
      await client.query(
        `UPDATE outbox SET stream_published_at = now()${alsoKafka}, publish_attempts = publish_attempts + 1
         WHERE id = ANY(${ids}); COMMIT`,
      );
      metrics.transportEvents.inc(
        { transport: 'stream', stage: 'published', outcome: 'published' },
        rows.length,
      );
      return true;
    },
    { message: 'event published to the fallback', transport: 'stream' },
  );
}

/** Since when a Kafka send has been waiting for its answer (undefined: none in flight), per fallback. */
const inFlightSince = new WeakMap<RelayFallback, number>();

/**
 * Probes Kafka and feeds the breaker, only when a probe can tell something the sends do not: on the
 * streams (is Kafka back?), while a send has been waiting longer than a probe interval (is Kafka
 * gone?), or after a failure (is it back?). An idle relay on a healthy Kafka sends no probe: the
 * normal path costs nothing more (a probe every second cost Kafka ~10% of a core idle, measured).
 */
export function watchKafka(fb: RelayFallback, signal: AbortSignal): Promise<void> {
  const everyMs = fb.probeEveryMs ?? 1_000;
  const timeoutMs = fb.probeTimeoutMs ?? 1_500;
  const now = fb.now ?? monotonic;
  return (async () => {
    while (!signal.aborted) {
      const t = now();
      const sending = inFlightSince.get(fb);
      const wanted =
        fb.breaker.transport(t) === 'stream' ||
        (sending !== undefined && t - sending >= everyMs) ||
        !fb.breaker.lastOk();
      if (wanted && !fb.breaker.recentlyHealthy(t, everyMs)) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            fb.probeKafka(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          fb.breaker.observe(true, now());
        } catch {
          // A send still waiting: Kafka has not answered it since it started.
          fb.breaker.observe(false, now(), inFlightSince.get(fb));
        } finally {
          clearTimeout(timer);
        }
      }
      // Wakes when the breaker is due to open, not up to a probe interval later: the relay's loop
      // waits on its send, and the move to the streams happens when someone asks the breaker.
      const opensAt = fb.breaker.opensAt();
      await sleep(opensAt === undefined ? everyMs : Math.max(0, Math.min(everyMs, opensAt - now())), signal);
    }
  })();
}

/** True when the error (or any cause) says the idempotent producer's sequence is broken. */
export function sequenceBroken(err: unknown): boolean {
  for (
    let e = err as
        | { type?: unknown; message?: unknown; cause?: unknown; originalError?: unknown }
        | undefined,
      depth = 0;
    e && depth < 8;
    depth++
  ) {
    if (
      /OUT_OF_ORDER_SEQUENCE_NUMBER|UNKNOWN_PRODUCER_ID|INVALID_PRODUCER_EPOCH/.test(String(e.type ?? '')) ||
      /out of order sequence|unknown producer id/i.test(String(e.message ?? ''))
    )
      return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** True when at least one row waits for `transport`: one cheap index probe, no transaction, no lock. */
export async function hasBacklog(pool: Pool, transport: Transport = 'kafka'): Promise<boolean> {
  const r = await pool.query(
    transport === 'kafka'
      ? 'SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1'
      : 'SELECT 1 FROM outbox WHERE published_at IS NULL AND stream_published_at IS NULL LIMIT 1',
  );
  return (r.rowCount ?? 0) > 0;
}

/** Sets the active-transport gauge (1 for `active`, 0 for the other). */
function showTransport(active: Transport) {
  metrics.transportActive.set({ transport: 'kafka' }, active === 'kafka' ? 1 : 0);
  metrics.transportActive.set({ transport: 'stream' }, active === 'stream' ? 1 : 0);
}

/**
 * Polls adaptively: straight again while there is work; when the outbox is empty, a cheap probe
 * (no transaction) with a sleep that doubles from `idleMs` up to `maxIdleMs`, so an idle relay
 * costs almost nothing and a busy one never waits.
 * Every error is retried with backoff (Kafka or Postgres may be away for a while).
 */
export async function runRelay(
  deps: RelayDeps,
  signal: AbortSignal,
  {
    idleMs = 2,
    maxIdleMs = 25,
    lingerMs = 25,
  }: { idleMs?: number; maxIdleMs?: number; lingerMs?: number } = {},
): Promise<void> {
  let failures = 0;
  let idle = idleMs;
  // After a batch, the next claim is tried straight away (its own SELECT says whether there is
  // work); the cheap probe is for an outbox that was found empty.
  let busy = false;
  const fb = deps.fallback;
  const now = fb?.now ?? monotonic;
  const probing = fb ? watchKafka(fb, signal) : Promise.resolve();
  let current: Transport = 'kafka';
  showTransport(current);
  while (!signal.aborted) {
    const transport: Transport = fb ? fb.breaker.transport(now()) : 'kafka';
    if (transport !== current) {
      current = transport;
      failures = 0;
      busy = false;
      showTransport(current);
      metrics.transportSwitches.inc({ to: current });
      deps.log.warn(
        { transport: current },
        current === 'stream'
          ? 'kafka unreachable: publishing to the Redis Streams fallback'
          : 'kafka healthy again: back to kafka, re-publishing what went only through the fallback',
      );
      // Back on Kafka after an outage: a fresh producer (new producer id, sequences from 0); the
      // old one's connections died with the outage.
      if (current === 'kafka' && deps.renewProducer)
        deps.producer = await deps.renewProducer().catch(() => deps.producer);
    }
    try {
      if (!busy && !(await hasBacklog(deps.pool, current))) {
        await sleep(idle, signal);
        idle = Math.min(maxIdleMs, idle * 2);
        continue;
      }
      idle = idleMs;
      const n = current === 'kafka' ? await relayOnce(deps) : await relayToStreamsOnce(deps);
      busy = n > 0;
      failures = 0;
      // Rows exist but all are claimed by other relays: do not spin.
      if (n === 0) await sleep(idleMs, signal);
      // A short batch means rows trickle in: wait a moment so the next claim carries more of them
      // (one Kafka request, and one fetch per consumer group, for tens of events instead of one).
      else if (n < (deps.batchSize ?? 500) && lingerMs > 0) await sleep(lingerMs, signal);
    } catch (err) {
      // Also after every 5th consecutive failure, whatever it was: a wedged client must not stall the outbox forever.
      if (current === 'kafka' && deps.renewProducer && (sequenceBroken(err) || failures % 5 === 4)) {
        // kafkajs's idempotent producer never recovers from a lost produce request
        // (OUT_OF_ORDER_SEQUENCE_NUMBER forever, tulios/kafkajs#598): start a fresh one (new
        // producer id, sequences from 0). Re-publication of the batch is absorbed by the inbox.
        deps.log.warn({ err: (err as Error).message }, 'producer out of sequence: replacing it');
        deps.producer = await deps.renewProducer().catch(() => deps.producer);
      }
      metrics.retries.inc({ component: 'relay', reason: isTransient(err) ? 'transient' : 'error' });
      if (failures % 20 === 0)
        deps.log.warn({ err: (err as Error).message, failures }, 'relay cycle failed, retrying');
      await sleep(backoffMs(failures++, { baseMs: 100, maxMs: 3_000 }), signal);
    }
  }
  await probing;
}

/** Keeps the outbox backlog gauge current. */
export function watchBacklog(pool: Pool, signal: AbortSignal, everyMs = 1_000): Promise<void> {
  return (async () => {
    while (!signal.aborted) {
      try {
        // All from the partial index of rows not in Kafka; the age on the database's clock. The
        // backlog is what went through no transport; what went only through the fallback waits
        // for Kafka apart.
        const r = await pool.query<{ n: number; fallback: number; age: number | null }>(
          `SELECT count(*) FILTER (WHERE stream_published_at IS NULL)::int AS n,
             count(*) FILTER (WHERE stream_published_at IS NOT NULL)::int AS fallback,
             extract(epoch FROM clock_timestamp() - min(created_at) FILTER (WHERE stream_published_at IS NULL))::float8 AS age
           FROM outbox WHERE published_at IS NULL`,
        );
        metrics.outboxBacklog.set(r.rows[0]?.n ?? 0);
        metrics.outboxFallbackOnly.set(r.rows[0]?.fallback ?? 0);
        metrics.outboxOldestSeconds.set(Math.max(0, r.rows[0]?.age ?? 0));
      } catch {
        // the database is away; the relay loop reports it
      }
      await sleep(everyMs, signal);
    }
  })();
}
