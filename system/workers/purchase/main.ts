import { runWorker } from '../../lib/worker.ts';
import { handlePurchaseConfirmed } from './handler.ts';

await runWorker({ group: 'purchase-worker', setup: async () => ({ handler: handlePurchaseConfirmed }) });
