// fallback (issue 15): Kafka is unreachable, so the relay puts every row Kafka has not had in the
// Redis Streams, and every group takes its streams through the real stream consumer (same inbox,
// same handlers). Those rows stay unpublished in Kafka's sense: a later deliver publishes them to
// Kafka as well and every group gets each of them a second time, by the other transport, which the
// inbox absorbs. Deliveries may thus come from either transport, in any order, any number of times.
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class FallbackCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  check(m: Readonly<FlowModel>): boolean {
    return m.unstreamed() > 0;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    m.fallbackRound();
    await r.fallbackRound();
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return 'fallback';
  }
}

export const fallbackArb = fc.constant(new FallbackCommand());
