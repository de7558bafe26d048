// Invariant 1 (purchases): one active purchase per student and course, one purchase per payment,
// and every purchase id derived from its payment (a random id would let a replay insert a second).
import { purchaseIdFor } from '../../system/contracts/ids.ts';
import type { CheckContext } from './context.ts';
import { checkDerivedEntity } from './derived-entity.ts';
import type { CheckedInvariant } from './judge.ts';

export function noDuplicatePurchases(ctx: CheckContext): Promise<CheckedInvariant> {
  return checkDerivedEntity(ctx, {
    name: 'no-duplicate-purchases',
    description:
      'at most one active purchase per (student, course), one purchase per payment, id = purchaseIdFor(paymentId)',
    table: 'student_course_purchases',
    entity: 'purchase',
    parentColumn: 'payment_id',
    parent: 'payment',
    liveWhere: 'is_active',
    pairExtra: { sql: 'array_agg(payment_id::text ORDER BY created_at, id)', field: 'paymentIds' },
    kinds: { pair: 'two-active-purchases', parent: 'two-purchases-for-one-payment' },
    idFor: purchaseIdFor,
    cause: 'PURCHASE_CONFIRMED',
  });
}
