// re-confirm: a succeeded payment confirmed again with the same providerPaymentId answers 200 with
// the very same view and changes nothing (no second outbox row, no second event).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

const succeeded = (m: Readonly<FlowModel>) =>
  m.payments.flatMap((p, i) => (p.status === 'succeeded' ? [i] : []));

export class ReConfirmCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<FlowModel>): boolean {
    return succeeded(m).length > 0;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const list = succeeded(m);
    const i = list[this.pick % list.length]!;
    const res = await r.confirm(i);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body, 're-confirm answers as the first confirm did').toEqual(r.confirmed[i]);
    await expectMatch(m, r, `${this.toString()} of p${i}`);
  }
  toString(): string {
    return `reConfirm(#${this.pick})`;
  }
}

export const reConfirmArb = fc.nat(9).map((n) => new ReConfirmCommand(n));
