// Invariant 1 (allocations): one allocation outcome (live or waitlisted) per student and course,
// one allocation per purchase, every allocation id derived from its purchase.
import { allocationIdFor } from '../../system/contracts/ids.ts';
import type { CheckContext } from './context.ts';
import { redeliveryChances } from './exercised.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

const name = 'no-duplicate-allocations';
const description =
  'at most one live-or-waitlisted allocation per (student, course), one per purchase, id = allocationIdFor(purchaseId)';

export async function noDuplicateAllocations(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  const pairs = await ctx.db.query<{
    student_id: string;
    course_id: string;
    ids: string[];
    statuses: string[];
  }>(
    `SELECT student_id, course_id, array_agg(id::text ORDER BY created_at, id) AS ids,
            array_agg(status ORDER BY created_at, id) AS statuses
       FROM trainer_allocations WHERE status IN ('approved', 'active', 'waitlisted')
      GROUP BY student_id, course_id HAVING count(*) > 1`,
  );
  for (const r of pairs.rows)
    violations.push({
      kind: 'two-allocations-for-one-pair',
      studentId: r.student_id,
      courseId: r.course_id,
      allocationIds: r.ids,
      statuses: r.statuses,
      expected: 1,
      found: r.ids.length,
    });
  const perPurchase = await ctx.db.query<{ purchase_id: string; ids: string[] }>(
    `SELECT purchase_id, array_agg(id::text ORDER BY created_at, id) AS ids
       FROM trainer_allocations GROUP BY purchase_id HAVING count(*) > 1`,
  );
  for (const r of perPurchase.rows)
    violations.push({
      kind: 'two-allocations-for-one-purchase',
      purchaseId: r.purchase_id,
      allocationIds: r.ids,
      expected: 1,
      found: r.ids.length,
    });
  const all = await ctx.db.query<{ id: string; purchase_id: string }>(
    'SELECT id, purchase_id FROM trainer_allocations',
  );
  for (const r of all.rows) {
    const expected = allocationIdFor(r.purchase_id);
    if (r.id !== expected)
      violations.push({
        kind: 'non-deterministic-id',
        allocationId: r.id,
        purchaseId: r.purchase_id,
        expected,
        found: r.id,
      });
  }
  const x = ctx.exercised;
  const chances = redeliveryChances(x, 'PURCHASE_CREATED') + (x.repeatedPairs ?? 0);
  return judge({
    name,
    description,
    checked: all.rows.length,
    violations,
    notExercised:
      chances > 0
        ? undefined
        : 'no PURCHASE_CREATED was delivered twice, no restart or rebalance, no (student, course) paid twice',
  });
}
