// deliver: the relay publishes the outbox, then every group takes its whole backlog, in order, in
// chunks, and commits it; one round, or rounds until nothing is left (quiescence).
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

/** Rounds on both sides, the model deciding when the flow is quiet (the projection then says whether the real one is). */
export async function deliverRounds(
  m: FlowModel,
  r: RealFlow,
  reversed: boolean,
  untilQuiet: boolean,
): Promise<void> {
  for (let round = 0; ; round++) {
    if (round >= 10) throw new Error('the model did not quiesce in 10 rounds');
    m.deliverRound(reversed);
    await r.deliverRound(reversed);
    if (!untilQuiet || m.quiet()) return;
  }
}

/** deliver (oldest first) or reorder (every group takes its backlog newest first). */
export class DeliverCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly untilQuiet: boolean;
  readonly reversed: boolean;
  constructor(untilQuiet: boolean, reversed = false) {
    this.untilQuiet = untilQuiet;
    this.reversed = reversed;
  }
  check(m: Readonly<FlowModel>): boolean {
    return !m.quiet();
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    await deliverRounds(m, r, this.reversed, this.untilQuiet);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `${this.reversed ? 'reorder' : 'deliver'}${this.untilQuiet ? 'All' : 'Round'}`;
  }
}

export const deliverArb = fc.boolean().map((all) => new DeliverCommand(all));
