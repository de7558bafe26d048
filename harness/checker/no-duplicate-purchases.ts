// Invariant 1 (purchases): one active purchase per student and course, one purchase per payment,
// and every purchase id derived from its payment (a random id would let a replay insert a second).
import { purchaseIdFor } from '../../system/contracts/ids.ts';
import type { CheckContext } from './context.ts';
import { redeliveryChances } from './exercised.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

const name = 'no-duplicate-purchases';
const description =
  'at most one active purchase per (student, course), one purchase per payment, id = purchaseIdFor(paymentId)';

export async function noDuplicatePurchases(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  const pairs = await ctx.db.query<{
    student_id: string;
    course_id: string;
    ids: string[];
    payments: string[];
  }>(
    `SELECT student_id, course_id, array_agg(id::text ORDER BY created_at, id) AS ids,
            array_agg(payment_id::text ORDER BY created_at, id) AS payments
       FROM student_course_purchases WHERE is_active
      GROUP BY student_id, course_id HAVING count(*) > 1`,
  );
  for (const r of pairs.rows)
    violations.push({
      kind: 'two-active-purchases',
      studentId: r.student_id,
      courseId: r.course_id,
      purchaseIds: r.ids,
      paymentIds: r.payments,
      expected: 1,
      found: r.ids.length,
    });
  const perPayment = await ctx.db.query<{ payment_id: string; ids: string[] }>(
    `SELECT payment_id, array_agg(id::text ORDER BY created_at, id) AS ids
       FROM student_course_purchases GROUP BY payment_id HAVING count(*) > 1`,
  );
  for (const r of perPayment.rows)
    violations.push({
      kind: 'two-purchases-for-one-payment',
      paymentId: r.payment_id,
      purchaseIds: r.ids,
      expected: 1,
      found: r.ids.length,
    });
  const all = await ctx.db.query<{ id: string; payment_id: string }>(
    'SELECT id, payment_id FROM student_course_purchases',
  );
  for (const r of all.rows) {
    const expected = purchaseIdFor(r.payment_id);
    if (r.id !== expected)
      violations.push({
        kind: 'non-deterministic-id',
        purchaseId: r.id,
        paymentId: r.payment_id,
        expected,
        found: r.id,
      });
  }
  const x = ctx.exercised;
  const chances = redeliveryChances(x, 'PURCHASE_CONFIRMED') + (x.repeatedPairs ?? 0);
  return judge({
    name,
    description,
    checked: all.rows.length,
    violations,
    notExercised:
      chances > 0
        ? undefined
        : 'no PURCHASE_CONFIRMED was delivered twice, no restart or rebalance, no (student, course) paid twice',
  });
}
