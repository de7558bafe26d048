// PURCHASE_CREATED, TRAINER_ALLOCATED → the student's cached dashboard is invalidated.
import { AppError } from '../../lib/errors.ts';
import type { EventContext, EventHandler } from '../../lib/inbox.ts';

/**
 * Runs inside the inbox transaction: the invalidation happens just before the commit. If the
 * process dies after invalidating and before committing, the event comes again and invalidates
 * again (harmless); the reverse order could record the event as done with the cache never
 * invalidated.
 */
export const handleCacheEvent: EventHandler = async (ctx: EventContext) => {
  if (ctx.event.eventType !== 'PURCHASE_CREATED' && ctx.event.eventType !== 'TRAINER_ALLOCATED') {
    throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
  }
  // (With the planted bug skip-cache-invalidation this does nothing: see consumer.ts.)
  // The change this event announces was committed before it was emitted: invalidate before our
  // commit, so a failed commit redelivers the event and invalidates again.
  ctx.invalidateDashboard(ctx.event.payload.studentId, 'before-commit');
  return 'applied';
};
