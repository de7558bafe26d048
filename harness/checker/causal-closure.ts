// Invariant 3: nothing exists without its cause. Every purchase has a succeeded payment of the same
// (student, course); every allocation a purchase of the same pair; every session a live allocation
// of the same trainer and student; every outbox row an entity it announces; every derived event
// names, as its causationId, the event that caused it (the audit trail from a session back to the
// payment that paid for it).
import type { DomainEvent } from '../../system/contracts/events.ts';
import { parseEvent } from '../../system/contracts/validate.ts';
import { sameJson } from './canonical.ts';
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import { queryRows } from './rows.ts';
import { inOwnTopic } from './topic-set.ts';

const name = 'causal-closure';

/** SQL casting a text expression to uuid, NULL when it is not one (so that the index is used and junk cannot abort the query). */
const asUuid = (expr: string) =>
  `(CASE WHEN ${expr} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (${expr})::uuid END)`;
const description =
  'every purchase has a succeeded payment, every allocation a purchase, every session a live allocation, every outbox row its entity, every derived event names its cause';

export async function causalClosure(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  let checked = 0;
  const paymentOfPurchase = new Map<string, string>();
  const purchases = queryRows<{
    id: string;
    payment_id: string;
    status: string | null;
    same_pair: boolean;
  }>(
    ctx.db,
    `SELECT c.id, c.payment_id, p.status,
            coalesce(p.student_id = c.student_id AND p.course_id = c.course_id, false) AS same_pair
       FROM student_course_purchases c LEFT JOIN payments p ON p.id = c.payment_id`,
  );
  for await (const r of purchases) {
    checked++;
    paymentOfPurchase.set(r.id, r.payment_id);
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
  const purchaseOfAllocation = new Map<string, string>();
  const allocations = queryRows<{
    id: string;
    purchase_id: string;
    found: boolean;
    same_pair: boolean;
  }>(
    ctx.db,
    `SELECT a.id, a.purchase_id, c.id IS NOT NULL AS found,
            coalesce(c.student_id = a.student_id AND c.course_id = a.course_id, false) AS same_pair
       FROM trainer_allocations a LEFT JOIN student_course_purchases c ON c.id = a.purchase_id`,
  );
  for await (const r of allocations) {
    checked++;
    purchaseOfAllocation.set(r.id, r.purchase_id);
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
  const sessions = queryRows<{
    seq: number;
    allocation_id: string;
    status: string | null;
    same_people: boolean;
  }>(
    ctx.db,
    `SELECT s.seq, s.allocation_id, a.status,
            coalesce(a.trainer_id = s.trainer_id AND a.student_id = s.student_id, false) AS same_people
       FROM tutoring_sessions s LEFT JOIN trainer_allocations a ON a.id = s.allocation_id`,
  );
  for await (const r of sessions) {
    checked++;
    if (r.status !== 'approved' && r.status !== 'active')
      violations.push({
        kind: 'session-without-live-allocation',
        sessionId: sessionLabel(r),
        allocationId: r.allocation_id,
        expected: 'approved or active',
        found: r.status ?? 'no allocation',
      });
    else if (!r.same_people)
      violations.push({
        kind: 'session-of-another-trainer-or-student',
        sessionId: sessionLabel(r),
        allocationId: r.allocation_id,
        expected: 'the allocation’s trainer and student',
        found: 'different',
      });
  }
  const outbox = queryRows<{
    event_id: string;
    event_type: string;
    entity: string;
    found: string | null;
  }>(
    ctx.db,
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
  for await (const r of outbox) {
    checked++;
    if (!r.found || !ok[r.event_type]?.includes(r.found))
      violations.push({
        kind: 'event-without-entity',
        eventId: r.event_id,
        eventType: r.event_type,
        entityId: r.entity,
        expected: ok[r.event_type]?.join(' or ') ?? 'a known event type',
        found: r.found ?? 'no such entity',
      });
  }
  const events = await eventsById(ctx);
  violations.push(...causationViolations(events, paymentOfPurchase, purchaseOfAllocation));
  return judge({ name, description, checked: checked + events.size, violations });
}

/** Every event the run produced, by id: the outbox, and the copies in their own topics (when read). */
async function eventsById(ctx: CheckContext): Promise<Map<string, DomainEvent>> {
  const events = new Map<string, DomainEvent>();
  for await (const r of queryRows<{ envelope: unknown }>(ctx.db, 'SELECT envelope FROM outbox')) {
    const parsed = parseEvent(JSON.stringify(r.envelope));
    if (!parsed.ok) continue;
    // The outbox's version is the one judged; a topic copy identical to it is held instead, so that
    // the run's events are not held twice (copies that differ are event-identity's violation).
    const copy = ctx.copies.get(parsed.event.eventId)?.[0]?.event;
    events.set(parsed.event.eventId, copy && sameJson(copy, parsed.event) ? copy : parsed.event);
  }
  for (const list of ctx.copies.values())
    for (const m of list)
      if (m.event && inOwnTopic(ctx.topicSet, m) && !events.has(m.event.eventId))
        events.set(m.event.eventId, m.event);
  return events;
}

/**
 * Causation (docs/semantics.md): a PURCHASE_CONFIRMED is a root (no cause); a PAYMENT_REFUND_REQUESTED
 * is a root or names the PURCHASE_CONFIRMED of its payment; a PURCHASE_CREATED names
 * the PURCHASE_CONFIRMED of its purchase's payment; a TRAINER_ALLOCATED names the PURCHASE_CREATED of
 * its allocation's purchase. The cause must be an event the run produced (outbox or topics), of that
 * type, announcing that entity. Events whose entity is not in the database are left to the
 * event-without-entity check above.
 */
export function causationViolations(
  events: ReadonlyMap<string, DomainEvent>,
  paymentOfPurchase: ReadonlyMap<string, string>,
  purchaseOfAllocation: ReadonlyMap<string, string>,
): Violation[] {
  const violations: Violation[] = [];
  for (const e of events.values()) {
    if (e.eventType === 'PURCHASE_CONFIRMED') {
      if (e.causationId !== null)
        violations.push({
          kind: 'root-event-with-cause',
          eventId: e.eventId,
          eventType: e.eventType,
          expected: null,
          found: e.causationId,
        });
      continue;
    }
    if (e.eventType === 'PAYMENT_REFUND_REQUESTED') {
      // From the webhook: a root (its cause is the provider's event, not a domain event). From the
      // purchase worker: the PURCHASE_CONFIRMED of the payment whose capture is refunded.
      if (e.causationId === null) continue;
      const cause = events.get(e.causationId);
      if (
        !cause ||
        cause.eventType !== 'PURCHASE_CONFIRMED' ||
        cause.payload.paymentId !== e.payload.paymentId
      )
        violations.push({
          kind: cause ? 'event-names-the-wrong-cause' : 'event-without-its-cause',
          eventId: e.eventId,
          eventType: e.eventType,
          causationId: e.causationId,
          expected: `null or the PURCHASE_CONFIRMED of ${e.payload.paymentId}`,
          found: cause ? `${cause.eventType} ${cause.eventId}` : 'no event with that id',
        });
      continue;
    }
    const want =
      e.eventType === 'PURCHASE_CREATED'
        ? {
            type: 'PURCHASE_CONFIRMED' as const,
            entity: paymentOfPurchase.get(e.payload.purchaseId),
            of: (c: DomainEvent) => (c.eventType === 'PURCHASE_CONFIRMED' ? c.payload.paymentId : undefined),
          }
        : {
            type: 'PURCHASE_CREATED' as const,
            entity: purchaseOfAllocation.get(e.payload.allocationId),
            of: (c: DomainEvent) => (c.eventType === 'PURCHASE_CREATED' ? c.payload.purchaseId : undefined),
          };
    if (want.entity === undefined) continue;
    const cause = e.causationId === null ? undefined : events.get(e.causationId);
    if (!cause || want.of(cause) !== want.entity)
      violations.push({
        kind: cause ? 'event-names-the-wrong-cause' : 'event-without-its-cause',
        eventId: e.eventId,
        eventType: e.eventType,
        causationId: e.causationId,
        expected: `the ${want.type} of ${want.entity}`,
        found: cause ? `${cause.eventType} ${cause.eventId}` : 'no event with that id',
      });
  }
  return violations;
}

/** A session has no id of its own (its key is its slot, migration 18): it is named by allocation and seq. */
function sessionLabel(r: { allocation_id: string; seq: number }): string {
  return `${r.allocation_id}#${r.seq}`;
}
