// A Redis client for tests that call the system's code once, with no retry: createRedis's clients
// fail fast (no offline queue), so a command sent before the connection is up is refused.
import type { Redis } from 'ioredis';
import type { Logger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';

/** createRedis, resolved once the client is connected. */
export async function connectedRedis(url: string, log: Logger): Promise<Redis> {
  const redis = createRedis(url, log);
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
  return redis;
}
