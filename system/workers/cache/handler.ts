// PURCHASE_CREATED, TRAINER_ALLOCATED → the student's cached dashboard is invalidated.
import type { Redis } from 'ioredis';
import { dashboardCacheKey } from '../../contracts/index.ts';
import { AppError } from '../../lib/errors.ts';
import type { EventContext, EventHandler } from '../../lib/inbox.ts';

/**
 * Bumps the generation first, then deletes: a reader that loaded the old view before this point
 * can no longer store it (the API's conditional set compares generations).
 */
export async function invalidateDashboard(redis: Redis, studentId: string): Promise<void> {
  const key = dashboardCacheKey(studentId);
  try {
    await redis.multi().incr(`${key}:gen`).del(key).exec();
  } catch (err) {
    throw new AppError('transient_cache', `redis invalidate ${key}: ${(err as Error).message}`, true, {
      cause: err,
    });
  }
}

export function cacheHandler(redis: Redis): EventHandler {
  // Runs inside the inbox transaction, before commit: if the process dies after invalidating and
  // before committing, the event comes again and invalidates again (harmless); the reverse order
  // could record the event as done with the cache never invalidated.
  return async (ctx: EventContext) => {
    if (ctx.event.eventType !== 'PURCHASE_CREATED' && ctx.event.eventType !== 'TRAINER_ALLOCATED') {
      throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
    }
    if (!ctx.faults.has('skip-cache-invalidation'))
      await invalidateDashboard(redis, ctx.event.payload.studentId);
    return 'applied';
  };
}
