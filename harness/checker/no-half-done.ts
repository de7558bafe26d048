// Invariant 8: a payment is all or nothing. Succeeded <=> its PURCHASE_CONFIRMED outbox row exists
// (the confirmation is one statement), and nothing downstream exists for a payment that did not
// succeed. That is checked for every payment; the risky ones are those whose create or confirm the
// API answered with an error or never answered (`fail` / `info` in the history). A failed create
// with an Idempotency-Key that no other request with that key got through must have left no row.
import { eventIdFor } from '../../system/contracts/ids.ts';
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import { paymentIdOf } from './operations.ts';

const name = 'no-half-done';
const description =
  'a payment is either untouched (pending, no event, no purchase) or complete (succeeded with its event); an errored create left nothing';

export async function noHalfDone(ctx: CheckContext): Promise<CheckedInvariant> {
  const [payments, events, purchases] = await Promise.all([
    ctx.db.query<{ id: string; status: string; idempotency_key: string | null }>(
      'SELECT id, status, idempotency_key FROM payments',
    ),
    ctx.db.query<{ event_id: string; payment_id: string | null }>(
      `SELECT event_id, envelope #>> '{payload,paymentId}' AS payment_id FROM outbox WHERE event_type = 'PURCHASE_CONFIRMED'`,
    ),
    ctx.db.query<{ payment_id: string }>('SELECT DISTINCT payment_id FROM student_course_purchases'),
  ]);
  const eventIds = new Set(events.rows.map((r) => r.event_id));
  const announced = new Set(events.rows.map((r) => r.payment_id));
  const withPurchase = new Set(purchases.rows.map((r) => r.payment_id));
  const violations: Violation[] = [];

  const errored = ctx.ops.filter((o) => (o.op === 'create' || o.op === 'confirm') && o.outcome !== 'ok');
  const erroredPayments = new Map<string, string>();
  for (const o of errored) {
    const id = paymentIdOf(o);
    if (id)
      erroredPayments.set(id, `history op ${o.index}: ${o.op} ${o.outcome}${o.status ? ` ${o.status}` : ''}`);
  }

  for (const p of payments.rows) {
    const hasEvent = eventIds.has(eventIdFor('PURCHASE_CONFIRMED', p.id)) || announced.has(p.id);
    const ids = {
      paymentId: p.id,
      ...(erroredPayments.has(p.id) ? { answer: erroredPayments.get(p.id) } : {}),
    };
    if (p.status === 'succeeded' && !hasEvent)
      violations.push({
        kind: 'succeeded-without-event',
        ...ids,
        expected: 'a PURCHASE_CONFIRMED outbox row',
        found: 'none',
      });
    if (p.status !== 'succeeded' && hasEvent)
      violations.push({ kind: 'event-without-success', ...ids, expected: 'succeeded', found: p.status });
    if (p.status !== 'succeeded' && withPurchase.has(p.id))
      violations.push({ kind: 'purchase-without-success', ...ids, expected: 'succeeded', found: p.status });
  }

  // A create answered with an error: its key must be unused, unless another request with the same
  // key was answered 2xx or may have gone through (info).
  const byKey = new Map(
    payments.rows.filter((p) => p.idempotency_key).map((p) => [p.idempotency_key!, p.id]),
  );
  const keysThatWent = new Set(
    ctx.ops
      .filter((o) => o.op === 'create' && o.outcome !== 'fail' && o.ids.idempotencyKey)
      .map((o) => o.ids.idempotencyKey!),
  );
  let failedCreates = 0;
  for (const o of errored) {
    const key = o.ids.idempotencyKey;
    if (o.op !== 'create' || o.outcome !== 'fail' || !key) continue;
    failedCreates++;
    const left = byKey.get(key);
    if (left && !keysThatWent.has(key))
      violations.push({
        kind: 'failed-create-left-payment',
        idempotencyKey: key,
        paymentId: left,
        answer: `history op ${o.index}: create fail ${o.status ?? ''}`.trim(),
        expected: 'no payment with this key',
        found: left,
      });
  }
  // A 4xx answer is a decision taken before any write; the risk is a 5xx or a lost answer.
  const risky = errored.filter((o) => o.outcome === 'info' || o.status === undefined || o.status >= 500);
  return judge({
    name,
    description,
    checked: payments.rows.length + failedCreates,
    violations,
    notExercised:
      risky.length > 0 ? undefined : 'no create or confirm got a 5xx answer or timed out (no answer lost)',
  });
}
