// stolen providerPaymentId: another payment is confirmed with a succeeded payment's
// providerPaymentId (a provider event naming a capture that paid for another payment). 409
// `provider_payment_id_in_use` whatever the thief's status, and nothing changes (no refund either:
// that capture is already a purchase).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class StolenProviderIdCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly victimPick: number;
  readonly thiefPick: number;
  constructor(victimPick: number, thiefPick: number) {
    this.victimPick = victimPick;
    this.thiefPick = thiefPick;
  }
  check(m: Readonly<FlowModel>): boolean {
    return m.payments.length >= 2 && m.payments.some((p) => p.status === 'succeeded');
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const victims = m.payments.flatMap((p, i) => (p.status === 'succeeded' ? [i] : []));
    const victim = victims[this.victimPick % victims.length]!;
    const thieves = m.payments.flatMap((_, i) => (i === victim ? [] : [i]));
    const thief = thieves[this.thiefPick % thieves.length]!;
    const res = await r.confirmWithStolenId(thief, victim);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect((res.body.error as { code: string }).code).toBe('provider_payment_id_in_use');
    await expectMatch(m, r, `${this.toString()}: p${thief} with p${victim}'s id`);
  }
  toString(): string {
    return `stolenProviderId(#${this.victimPick}, #${this.thiefPick})`;
  }
}

export const stolenProviderIdArb = fc
  .tuple(fc.nat(9), fc.nat(9))
  .map(([v, t]) => new StolenProviderIdCommand(v, t));
