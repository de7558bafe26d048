// Invariant 1 (allocations): one allocation outcome (live or waitlisted) per student and course,
// one allocation per purchase, every allocation id derived from its purchase.
import { allocationIdFor } from '../../system/contracts/ids.ts';
import type { CheckContext } from './context.ts';
import { checkDerivedEntity } from './derived-entity.ts';
import type { CheckedInvariant } from './judge.ts';

export function noDuplicateAllocations(ctx: CheckContext): Promise<CheckedInvariant> {
  return checkDerivedEntity(ctx, {
    name: 'no-duplicate-allocations',
    description:
      'at most one live-or-waitlisted allocation per (student, course), one per purchase, id = allocationIdFor(purchaseId)',
    table: 'trainer_allocations',
    entity: 'allocation',
    parentColumn: 'purchase_id',
    parent: 'purchase',
    liveWhere: "status IN ('approved', 'active', 'waitlisted')",
    pairExtra: { sql: 'array_agg(status ORDER BY created_at, id)', field: 'statuses' },
    kinds: { pair: 'two-allocations-for-one-pair', parent: 'two-allocations-for-one-purchase' },
    idFor: allocationIdFor,
    cause: 'PURCHASE_CREATED',
  });
}
