// reorder: like deliver, but every group takes its backlog newest first. Which payment of a pair
// makes the purchase, and which pairs get a trainer before capacity runs out, follow that order.
import fc from 'fast-check';
import { DeliverCommand } from './deliver.ts';

export const reorderArb = fc.boolean().map((all) => new DeliverCommand(all, true));
