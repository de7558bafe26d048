import { Redis } from 'ioredis';
import type { Logger } from './log.ts';

/** A Redis client that fails fast when Redis is unreachable (callers decide to retry or degrade). */
export function createRedis(
  url: string,
  log: Logger,
  /** Longer for a connection that runs blocking commands (the fallback's XREADGROUP ... BLOCK). */
  { commandTimeoutMs = 1_000 }: { commandTimeoutMs?: number } = {},
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
