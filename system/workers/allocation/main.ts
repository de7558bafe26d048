import { runWorker } from '../../lib/worker.ts';
import { handlePurchaseCreated } from './handler.ts';

await runWorker({ group: 'allocation-worker', setup: async () => ({ handler: handlePurchaseCreated }) });
