// advance clock: the app clock moves N days (UPDATE app_clock). Nothing changes by itself: windows
// grow only when the top-up job or the session worker runs.
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class AdvanceClockCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly days: number;
  constructor(days: number) {
    this.days = days;
  }
  check(): boolean {
    return true;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    m.advance(this.days);
    await r.advanceClock(this.days);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `advanceClock(${this.days} days)`;
  }
}

export const advanceClockArb = fc.integer({ min: 1, max: 10 }).map((d) => new AdvanceClockCommand(d));
