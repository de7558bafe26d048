// Invalidation of the students' cached dashboards (the API reads through this cache).
import type { Redis } from 'ioredis';
import { dashboardCacheKey } from '../contracts/index.ts';
import { AppError } from './errors.ts';
import type { DashboardCache } from './inbox.ts';

/**
 * Bumps the generation first, then deletes: a reader that loaded the old view before this point
 * can no longer store it (the API's conditional set compares generations). A Redis failure is
 * transient: the chunk is retried, never committed with the cache left stale.
 */
export function redisDashboardCache(redis: Redis): DashboardCache {
  return {
    async invalidate(studentId: string) {
      const key = dashboardCacheKey(studentId);
      try {
        await redis.multi().incr(`${key}:gen`).del(key).exec();
      } catch (err) {
        throw new AppError('transient_cache', `redis invalidate ${key}: ${(err as Error).message}`, true, {
          cause: err,
        });
      }
    },
  };
}
