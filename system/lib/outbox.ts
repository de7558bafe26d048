import { type DomainEvent, topics } from '../contracts/index.ts';
import type { PoolClient } from './db.ts';

/**
 * Puts an event into the outbox. Must run in the same transaction as the change it announces, or
 * a crash in between loses the event (or announces a change that never happened). One row per
 * event id: a re-emission of the same id is a no-op. Returns true when a row was written.
 */
export async function enqueueEvent(client: PoolClient, event: DomainEvent): Promise<boolean> {
  const r = await client.query(
    `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
    [event.eventId, event.eventType, topics[event.eventType], event.payload.studentId, JSON.stringify(event)],
  );
  return r.rowCount === 1;
}

/** ISO 8601 of a timestamp read from the database: deterministic, so re-emissions are identical. */
export function isoTimestamp(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
