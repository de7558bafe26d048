// confirm: a pending payment is confirmed (200, succeeded) and its PURCHASE_CONFIRMED enters the outbox.
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

const pending = (m: Readonly<FlowModel>) => m.payments.flatMap((p, i) => (p.status === 'pending' ? [i] : []));

export class ConfirmCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<FlowModel>): boolean {
    return pending(m).length > 0;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const list = pending(m);
    const i = list[this.pick % list.length]!;
    m.confirm(i);
    await r.confirmPending(i);
    await expectMatch(m, r, `${this.toString()} of p${i}`);
  }
  toString(): string {
    return `confirm(#${this.pick})`;
  }
}

export const confirmArb = fc.nat(9).map((n) => new ConfirmCommand(n));
