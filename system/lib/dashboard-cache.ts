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
    async invalidate(studentIds: readonly string[]) {
      if (studentIds.length === 0) return;
      // One MULTI, one round trip, for every student of a chunk.
      const tx = redis.multi();
      for (const id of studentIds) {
        const key = dashboardCacheKey(id);
        tx.incr(`${key}:gen`).del(key);
      }
      try {
        await tx.exec();
      } catch (err) {
        throw new AppError(
          'transient_cache',
          `redis invalidate ${studentIds.length} dashboards: ${(err as Error).message}`,
          true,
          { cause: err },
        );
      }
    },
  };
}
