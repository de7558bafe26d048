import { runWorker } from '../../lib/worker.ts';
import { handleCacheEvent } from './handler.ts';

await runWorker({ group: 'cache-worker', setup: async () => ({ handler: handleCacheEvent }) });
