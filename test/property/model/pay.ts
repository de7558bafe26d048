// pay: POST /payments, then (usually) POST confirm. The model gains a pending payment, and on
// confirmation a succeeded one with its PURCHASE_CONFIRMED in the outbox; nothing else moves.
import fc from 'fast-check';
import type { FlowModel } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class PayCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly student: number;
  readonly course: number;
  readonly confirm: boolean;
  constructor(student: number, course: number, confirm: boolean) {
    this.student = student;
    this.course = course;
    this.confirm = confirm;
  }
  check(): boolean {
    return true;
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    const i = m.create(this.student, this.course);
    const j = await r.create(this.student, this.course);
    if (i !== j) throw new Error(`payment index ${j}, model ${i}`);
    if (this.confirm) {
      m.confirm(i);
      await r.confirmPending(i);
    }
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `pay(s${this.student}, c${this.course}${this.confirm ? '' : ', no confirm'})`;
  }
}

export const payArb = (students: number, courses: number) =>
  fc
    .tuple(fc.nat(students - 1), fc.nat(courses - 1), fc.boolean(), fc.boolean())
    // Three in four payments are confirmed at once; the others wait for `confirm`.
    .map(([s, c, a, b]) => new PayCommand(s, c, a || b));
