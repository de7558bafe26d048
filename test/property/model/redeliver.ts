// redeliver(eventId): one more copy of an event a group has already processed. The inbox says
// `duplicate` and nothing changes.
import fc from 'fast-check';
import type { EventKey, FlowModel, Group } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class RedeliverCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<FlowModel>): boolean {
    return m.processed.length > 0;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const [group, key] = m.processed[this.pick % m.processed.length]!.split(' ') as [Group, EventKey];
    if (m.handle(group, key) !== 'duplicate') throw new Error(`model: ${group} ${key} was not processed`);
    await r.redeliver(group, key);
    await expectMatch(m, r, `${this.toString()}: ${key} to ${group}`);
  }
  toString(): string {
    return `redeliver(#${this.pick})`;
  }
}

export const redeliverArb = fc.nat(49).map((n) => new RedeliverCommand(n));
