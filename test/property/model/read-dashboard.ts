// read dashboard: GET /students/:id/dashboard, which may cache the view in Redis. Nothing in the
// model changes; the cache must be invalidated by whatever changes the view later (the final check
// judges every cached dashboard against the database).
import fc from 'fast-check';
import { expect } from 'vitest';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class ReadDashboardCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly student: number;
  constructor(student: number) {
    this.student = student;
  }
  check(): boolean {
    return true;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const res = await r.readDashboard(this.student);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `readDashboard(s${this.student})`;
  }
}

export const readDashboardArb = (students: number) =>
  fc.nat(students - 1).map((s) => new ReadDashboardCommand(s));
