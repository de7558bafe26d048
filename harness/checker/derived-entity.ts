// The shape invariant 1 has for each derived entity (purchase from payment, allocation from
// purchase): at most one per (student, course) among the rows that count, one per parent, and
// every id derived from its parent's id (a random id would let a replay insert a second row).
import type { EventType } from '../../system/contracts/index.ts';
import type { CheckContext } from './context.ts';
import { redeliveryChances } from './exercised.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

export interface DerivedEntitySpec {
  readonly name: string;
  readonly description: string;
  readonly table: 'student_course_purchases' | 'trainer_allocations';
  /** 'purchase' | 'allocation': names the violation fields (purchaseIds, allocationId...). */
  readonly entity: string;
  /** The parent's id column and its name in violations ('payment_id' → paymentId). */
  readonly parentColumn: 'payment_id' | 'purchase_id';
  readonly parent: string;
  /** SQL condition of the rows of which a (student, course) may have one. */
  readonly liveWhere: string;
  /** Extra array of the duplicate pairs, e.g. `array_agg(status ...) AS statuses`. */
  readonly pairExtra?: { readonly sql: string; readonly field: string };
  readonly kinds: { readonly pair: string; readonly parent: string };
  readonly idFor: (parentId: string) => string;
  /** The event whose redelivery could create a second row. */
  readonly cause: EventType;
}

export async function checkDerivedEntity(
  ctx: CheckContext,
  spec: DerivedEntitySpec,
): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  const { table, entity, parent, parentColumn } = spec;
  const extra = spec.pairExtra ? `, ${spec.pairExtra.sql} AS extra` : '';
  const pairs = await ctx.db.query<{
    student_id: string;
    course_id: string;
    ids: string[];
    extra?: string[];
  }>(
    `SELECT student_id, course_id, array_agg(id::text ORDER BY created_at, id) AS ids${extra}
       FROM ${table} WHERE ${spec.liveWhere}
      GROUP BY student_id, course_id HAVING count(*) > 1`,
  );
  for (const r of pairs.rows)
    violations.push({
      kind: spec.kinds.pair,
      studentId: r.student_id,
      courseId: r.course_id,
      [`${entity}Ids`]: r.ids,
      ...(spec.pairExtra ? { [spec.pairExtra.field]: r.extra } : {}),
      expected: 1,
      found: r.ids.length,
    });
  const perParent = await ctx.db.query<{ parent_id: string; ids: string[] }>(
    `SELECT ${parentColumn} AS parent_id, array_agg(id::text ORDER BY created_at, id) AS ids
       FROM ${table} GROUP BY ${parentColumn} HAVING count(*) > 1`,
  );
  for (const r of perParent.rows)
    violations.push({
      kind: spec.kinds.parent,
      [`${parent}Id`]: r.parent_id,
      [`${entity}Ids`]: r.ids,
      expected: 1,
      found: r.ids.length,
    });
  const all = await ctx.db.query<{ id: string; parent_id: string }>(
    `SELECT id, ${parentColumn} AS parent_id FROM ${table}`,
  );
  for (const r of all.rows) {
    const expected = spec.idFor(r.parent_id);
    if (r.id !== expected)
      violations.push({
        kind: 'non-deterministic-id',
        [`${entity}Id`]: r.id,
        [`${parent}Id`]: r.parent_id,
        expected,
        found: r.id,
      });
  }
  const x = ctx.exercised;
  const chances = redeliveryChances(x, spec.cause) + (x.repeatedPairs ?? 0);
  return judge({
    name: spec.name,
    description: spec.description,
    checked: all.rows.length,
    violations,
    notExercised:
      chances > 0
        ? undefined
        : `no ${spec.cause} was delivered twice, no restart or rebalance, no (student, course) paid twice`,
  });
}
