// Exactly-once effects on top of at-least-once delivery: the inbox row and the change it guards
// commit in the same transaction, so a redelivered event finds its row and does nothing.
import pg from 'pg';
import type { ConsumerGroup, DomainEvent } from '../contracts/index.ts';
import type { PoolClient } from './db.ts';
import { AppError } from './errors.ts';
import type { FaultSet } from './faults.ts';
import type { Logger } from './log.ts';

/**
 * What a handler gets for one chunk: the transaction, the app clock's now, and the planted faults.
 * Everything a handler does for the chunk commits (or rolls back) together with its inbox rows.
 */
export interface ChunkContext {
  readonly client: PoolClient;
  readonly group: ConsumerGroup;
  readonly now: Date;
  readonly faults: FaultSet;
  readonly log: Logger;
  /** Called with the constraint name when a domain unique constraint said "already done". */
  readonly onConflict: (constraint: string) => void;
  /**
   * Invalidates a student's cached dashboard, once per student per chunk. `after-commit` for the
   * handler's OWN writes (sessions, a waitlist entry): invalidating before they are visible would
   * let a reader re-cache the old view under the new generation. `before-commit` for writes that
   * were committed earlier by someone else (the cache worker's events): then a failed commit
   * redelivers the event and the invalidation is repeated.
   */
  readonly invalidateDashboard: (studentId: string, when: 'before-commit' | 'after-commit') => void;
}

/** The dashboard cache, as writers see it. */
export interface DashboardCache {
  /** Invalidates these students' dashboards, all in one round trip. */
  invalidate(studentIds: readonly string[]): Promise<void>;
}

/** `applied`: the handler changed something; `already-done`: a domain guard found the effect in place. */
export type Outcome = 'applied' | 'already-done';

/**
 * Handles a chunk of NEW events (the inbox filtered out the ones already done) set-based: a few
 * statements for the whole chunk, not a few per event. Returns one outcome per event, in order.
 * Throws when any event of the chunk cannot be handled: the framework then replays the chunk one
 * event at a time (each call with a single event, under its own savepoint) to isolate it.
 */
export type EventHandler = (ctx: ChunkContext, events: readonly DomainEvent[]) => Promise<Outcome[]>;

/** `duplicate`: the inbox already had this (group, event) — an idempotency hit. */
export type ProcessOutcome = Outcome | 'duplicate';

/**
 * The inbox insert of a chunk's events as ONE statement, to run in the chunk's BEGIN round trip
 * (clock.ts beginAt); it returns the ids that were new. An id that appears twice in the chunk is new
 * at most once. The simple protocol takes no parameters, so every value is inlined as an escaped
 * literal (the ids and types were validated by the event schema before; escaped all the same).
 */
export function inboxStatement(group: ConsumerGroup, events: readonly DomainEvent[]): string {
  const ids = events.map((e) => pg.escapeLiteral(e.eventId)).join(',');
  const types = events.map((e) => pg.escapeLiteral(e.eventType)).join(',');
  return `INSERT INTO processed_events (consumer, event_id, event_type)
     SELECT ${pg.escapeLiteral(group)}, e.id, e.type FROM unnest(ARRAY[${ids}]::uuid[], ARRAY[${types}]::text[]) AS e(id, type)
     ON CONFLICT DO NOTHING RETURNING event_id`;
}

/** Narrows a chunk to one event type, or throws (a handler got an event its group does not take). */
export function eventsOfType<T extends DomainEvent['eventType']>(
  events: readonly DomainEvent[],
  ...types: T[]
): Extract<DomainEvent, { eventType: T }>[] {
  for (const e of events)
    if (!(types as string[]).includes(e.eventType))
      throw new AppError('handler_error', `unexpected ${e.eventType}`, false);
  return events as Extract<DomainEvent, { eventType: T }>[];
}
