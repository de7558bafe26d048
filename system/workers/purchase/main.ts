import { runWorker } from '../../lib/worker.ts';
import { handlePurchaseWorkerChunk } from './handler.ts';

await runWorker({ group: 'purchase-worker', setup: async () => ({ handler: handlePurchaseWorkerChunk }) });
