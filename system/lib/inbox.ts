// Exactly-once effects on top of at-least-once delivery: the inbox row and the change it guards
// commit in the same transaction, so a redelivered event finds its row and does nothing.
import type { ConsumerGroup, DomainEvent } from '../contracts/index.ts';
import type { PoolClient } from './db.ts';
import type { FaultSet } from './faults.ts';
import type { Logger } from './log.ts';

/** What a handler gets: the transaction, the event, the app clock's now, and the planted faults. */
export interface EventContext {
  readonly client: PoolClient;
  readonly event: DomainEvent;
  readonly group: ConsumerGroup;
  readonly now: Date;
  readonly faults: FaultSet;
  readonly log: Logger;
  /** Called with the constraint name when a domain unique constraint said "already done". */
  readonly onConflict: (constraint: string) => void;
}

/** `applied`: the handler changed something; `already-done`: a domain guard found the effect in place. */
export type Outcome = 'applied' | 'already-done';

export type EventHandler = (ctx: EventContext) => Promise<Outcome>;

/** `duplicate`: the inbox already had this (group, event) — an idempotency hit. */
export type ProcessOutcome = Outcome | 'duplicate';

/**
 * Records the event in the inbox and applies the handler, inside the caller's transaction. The
 * caller commits; nothing here commits or touches Kafka.
 */
export async function processEvent(ctx: EventContext, handler: EventHandler): Promise<ProcessOutcome> {
  if (!ctx.faults.has('skip-inbox')) {
    const r = await ctx.client.query(
      'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [ctx.group, ctx.event.eventId, ctx.event.eventType],
    );
    if (r.rowCount === 0) return 'duplicate';
  }
  return handler(ctx);
}
