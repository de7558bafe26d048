// PURCHASE_CREATED, TRAINER_ALLOCATED → the student's cached dashboard is invalidated.
import type { ChunkContext, EventHandler, Outcome } from '../../lib/inbox.ts';
import { eventsOfType } from '../../lib/inbox.ts';

/**
 * Runs inside the inbox transaction: the invalidations happen just before the commit, once per
 * student however many of its events the chunk holds. If the process dies after invalidating and
 * before committing, the events come again and invalidate again (harmless); the reverse order
 * could record an event as done with the cache never invalidated.
 */
export const handleCacheEvent: EventHandler = async (ctx: ChunkContext, chunk) => {
  const events = eventsOfType(chunk, 'PURCHASE_CREATED', 'TRAINER_ALLOCATED');
  // (With the planted bug skip-cache-invalidation this does nothing: see consumer.ts.)
  // The change each event announces was committed before it was emitted: invalidate before our
  // commit, so a failed commit redelivers the event and invalidates again.
  for (const e of events) ctx.invalidateDashboard(e.payload.studentId, 'before-commit');
  return events.map((): Outcome => 'applied');
};
