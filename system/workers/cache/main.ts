import { loadBaseConfig } from '../../lib/config.ts';
import { createRedis } from '../../lib/redis.ts';
import { runWorker } from '../../lib/worker.ts';
import { cacheHandler } from './handler.ts';

await runWorker({
  group: 'cache-worker',
  setup: async ({ log, env }) => {
    const redis = createRedis(loadBaseConfig(env).redisUrl, log);
    return { handler: cacheHandler(redis), close: async () => void redis.disconnect() };
  },
});
