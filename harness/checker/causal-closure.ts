// Invariant 3: nothing exists without its cause. Every purchase has a succeeded payment of the same
// (student, course); every allocation a purchase of the same pair; every session a live allocation
// of the same trainer and student; every outbox row an entity it announces.
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

const name = 'causal-closure';

/** SQL casting a text expression to uuid, NULL when it is not one (so that the index is used and junk cannot abort the query). */
const asUuid = (expr: string) =>
  `(CASE WHEN ${expr} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (${expr})::uuid END)`;
const description =
  'every purchase has a succeeded payment, every allocation a purchase, every session a live allocation, every outbox row its entity';

export async function causalClosure(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  const purchases = await ctx.db.query<{
    id: string;
    payment_id: string;
    status: string | null;
    same_pair: boolean;
  }>(
    `SELECT c.id, c.payment_id, p.status,
            coalesce(p.student_id = c.student_id AND p.course_id = c.course_id, false) AS same_pair
       FROM student_course_purchases c LEFT JOIN payments p ON p.id = c.payment_id`,
  );
  for (const r of purchases.rows) {
    if (r.status !== 'succeeded')
      violations.push({
        kind: 'purchase-without-succeeded-payment',
        purchaseId: r.id,
        paymentId: r.payment_id,
        expected: 'succeeded',
        found: r.status ?? 'no payment',
      });
    else if (!r.same_pair)
      violations.push({
        kind: 'purchase-of-another-pair',
        purchaseId: r.id,
        paymentId: r.payment_id,
        expected: 'the payment’s (student, course)',
        found: 'a different pair',
      });
  }
  const allocations = await ctx.db.query<{
    id: string;
    purchase_id: string;
    found: boolean;
    same_pair: boolean;
  }>(
    `SELECT a.id, a.purchase_id, c.id IS NOT NULL AS found,
            coalesce(c.student_id = a.student_id AND c.course_id = a.course_id, false) AS same_pair
       FROM trainer_allocations a LEFT JOIN student_course_purchases c ON c.id = a.purchase_id`,
  );
  for (const r of allocations.rows) {
    if (!r.found)
      violations.push({
        kind: 'allocation-without-purchase',
        allocationId: r.id,
        purchaseId: r.purchase_id,
        expected: 'a purchase',
        found: null,
      });
    else if (!r.same_pair)
      violations.push({
        kind: 'allocation-of-another-pair',
        allocationId: r.id,
        purchaseId: r.purchase_id,
        expected: 'the purchase’s (student, course)',
        found: 'a different pair',
      });
  }
  const sessions = await ctx.db.query<{
    id: string;
    allocation_id: string;
    status: string | null;
    same_people: boolean;
  }>(
    `SELECT s.id, s.allocation_id, a.status,
            coalesce(a.trainer_id = s.trainer_id AND a.student_id = s.student_id, false) AS same_people
       FROM tutoring_sessions s LEFT JOIN trainer_allocations a ON a.id = s.allocation_id`,
  );
  for (const r of sessions.rows) {
    if (r.status !== 'approved' && r.status !== 'active')
      violations.push({
        kind: 'session-without-live-allocation',
        sessionId: r.id,
        allocationId: r.allocation_id,
        expected: 'approved or active',
        found: r.status ?? 'no allocation',
      });
    else if (!r.same_people)
      violations.push({
        kind: 'session-of-another-trainer-or-student',
        sessionId: r.id,
        allocationId: r.allocation_id,
        expected: 'the allocation’s trainer and student',
        found: 'different',
      });
  }
  const outbox = await ctx.db.query<{
    event_id: string;
    event_type: string;
    entity: string;
    found: string | null;
  }>(
    `SELECT o.event_id, o.event_type, o.envelope #>> '{payload,paymentId}' AS entity,
            (SELECT status FROM payments p WHERE p.id = ${asUuid("o.envelope #>> '{payload,paymentId}'")}) AS found
       FROM outbox o WHERE o.event_type = 'PURCHASE_CONFIRMED'
     UNION ALL
     SELECT o.event_id, o.event_type, o.envelope #>> '{payload,purchaseId}',
            (SELECT 'exists' FROM student_course_purchases c WHERE c.id = ${asUuid("o.envelope #>> '{payload,purchaseId}'")})
       FROM outbox o WHERE o.event_type = 'PURCHASE_CREATED'
     UNION ALL
     SELECT o.event_id, o.event_type, o.envelope #>> '{payload,allocationId}',
            (SELECT status FROM trainer_allocations a WHERE a.id = ${asUuid("o.envelope #>> '{payload,allocationId}'")})
       FROM outbox o WHERE o.event_type = 'TRAINER_ALLOCATED'`,
  );
  const ok: Record<string, readonly string[]> = {
    PURCHASE_CONFIRMED: ['succeeded'],
    PURCHASE_CREATED: ['exists'],
    TRAINER_ALLOCATED: ['approved', 'active'],
  };
  for (const r of outbox.rows)
    if (!r.found || !ok[r.event_type]?.includes(r.found))
      violations.push({
        kind: 'event-without-entity',
        eventId: r.event_id,
        eventType: r.event_type,
        entityId: r.entity,
        expected: ok[r.event_type]?.join(' or ') ?? 'a known event type',
        found: r.found ?? 'no such entity',
      });
  return judge({
    name,
    description,
    checked: purchases.rows.length + allocations.rows.length + sessions.rows.length + outbox.rows.length,
    violations,
  });
}
