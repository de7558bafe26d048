import { type DomainEvent, topics } from '../contracts/index.ts';
import type { PoolClient } from './db.ts';
import { metrics } from './metrics.ts';

/**
 * Puts events into the outbox, in ONE statement. Must run in the same transaction as the changes
 * they announce, or a crash in between loses an event (or announces a change that never
 * happened). One row per event id: a re-emission of the same id is a no-op, also within the same
 * call. Returns the number of rows written.
 */
export async function enqueueEvents(
  client: PoolClient,
  events: readonly DomainEvent[],
  /** Planted bug bare-outbox-insert (PAYPROOF_FAULTS): the statement without its ON CONFLICT clause. */
  bare = false,
): Promise<number> {
  if (events.length === 0) return 0;
  const r = await client.query(
    `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
     ${bare ? '' : 'ON CONFLICT (event_id) DO NOTHING'}`,
    [
      events.map((e) => e.eventId),
      events.map((e) => e.eventType),
      events.map((e) => topics[e.eventType]),
      events.map((e) => e.payload.studentId),
      events.map((e) => JSON.stringify(e)),
    ],
  );
  // Counted when written, by type (a transaction that rolls back afterwards is counted too: the
  // emission rate, not an exact tally; the relay's payproof_events_published_total is exact).
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.eventType, (counts.get(e.eventType) ?? 0) + 1);
  for (const [type, n] of counts) metrics.eventsEmitted.inc({ type }, n);
  return r.rowCount ?? 0;
}

/** ISO 8601 of a timestamp read from the database: deterministic, so re-emissions are identical. */
export function isoTimestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
