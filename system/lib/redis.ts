import { Redis } from 'ioredis';
import type { Logger } from './log.ts';

/** A Redis client that fails fast when Redis is unreachable (callers decide to retry or degrade). */
export function createRedis(
  url: string,
  log: Logger,
  {
    /** Longer for a connection that runs blocking commands (the fallback's XREADGROUP ... BLOCK). */
    commandTimeoutMs = 1_000,
    /**
     * Commands issued in the same turn of the event loop go out in one write (ioredis's
     * autopipelining): for a process that serves many requests at once (the API's cache reads),
     * never for a connection that blocks.
     */
    autoPipelining = false,
  }: { commandTimeoutMs?: number; autoPipelining?: boolean } = {},
): Redis {
  const redis = new Redis(url, {
    connectTimeout: 1_000,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // A command that timed out must not be re-sent after a reconnect: a late write could land
    // after a newer invalidation.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    enableAutoPipelining: autoPipelining,
  });
  let last = 0;
  redis.on('error', (err) => {
    // One line per 5 s at most: a partition makes ioredis report every reconnect attempt.
    if (Date.now() - last > 5_000) {
      last = Date.now();
      log.warn({ err: err.message }, 'redis error');
    }
  });
  return redis;
}
