// reorder: like deliver, but every group takes its backlog newest first. Which payment of a pair
// makes the purchase, and which pairs get a trainer before capacity runs out, follow that order.
import fc from 'fast-check';
import { deliverRounds } from './deliver.ts';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class ReorderCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly untilQuiet: boolean;
  constructor(untilQuiet: boolean) {
    this.untilQuiet = untilQuiet;
  }
  check(m: Readonly<FlowModel>): boolean {
    return !m.quiet();
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    await deliverRounds(m, r, true, this.untilQuiet);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return this.untilQuiet ? 'reorderAll' : 'reorderRound';
  }
}

export const reorderArb = fc.boolean().map((all) => new ReorderCommand(all));
