// run top-up: the real top-up job (one instance, or two at once): every live allocation's window is
// filled up to what is due at the app clock's now; concurrent instances never double a session.
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class TopUpCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly instances: number;
  constructor(instances: number) {
    this.instances = instances;
  }
  check(): boolean {
    return true;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    m.topUp();
    await r.topUp(this.instances);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `topUp(×${this.instances})`;
  }
}

export const topUpArb = fc.integer({ min: 1, max: 2 }).map((n) => new TopUpCommand(n));
