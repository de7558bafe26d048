// Invariant (issue 14): money never disappears and is never made up. Every capture the provider
// reported (a signed `payment_succeeded` the history shows delivered: an `ok` confirm, not a forged
// one) ends as exactly ONE of: a purchase of that payment at the course's price (the payment
// succeeded with this capture's providerPaymentId), or one refund request for the capture's
// amount. Not both, not neither; a refund request names a capture the provider made. The evidence
// of what was captured is the harness's own provider (the history), not the system's tables.
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';
import type { Operation } from './operations.ts';
import { paymentIdOf } from './operations.ts';

const name = 'money';
const description =
  "every payment asks for its course's price; every capture the provider reported ends as exactly one purchase at that price or one refund request for its amount; no refund without a capture";

/** A capture the fake provider made and reported: its id, payment, amount. */
export interface Capture {
  readonly providerPaymentId: string;
  readonly paymentId: string;
  readonly amountCents: number;
  /** The provider knows the system got it (2xx); `info`: it may have. */
  readonly definite: boolean;
  readonly op: number;
}

/** Captures in the history: genuine (not forged) confirm deliveries, by providerPaymentId. */
export function capturesOf(ops: readonly Operation[]): Map<string, Capture> {
  const out = new Map<string, Capture>();
  for (const o of ops) {
    if (o.op !== 'confirm' || o.ids.forged === 'true' || o.outcome === 'fail') continue;
    const ppid = o.ids.providerPaymentId;
    const paymentId = paymentIdOf(o);
    const amount = Number(o.ids.capturedCents);
    if (!ppid || !paymentId || !Number.isFinite(amount)) continue;
    const prior = out.get(ppid);
    out.set(ppid, {
      providerPaymentId: ppid,
      paymentId,
      amountCents: amount,
      definite: (prior?.definite ?? false) || o.outcome === 'ok',
      op: prior?.op ?? o.index,
    });
  }
  return out;
}

export async function money(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.historyRead) return notAvailable(name, description, 'no client history: the captures are unknown');
  const captures = capturesOf(ctx.ops);
  const [payments, purchases, refunds] = await Promise.all([
    ctx.db.query<{ id: string; status: string; ppid: string | null; amount: string; price: string }>(
      `SELECT p.id, p.status, p.provider_payment_id AS ppid, p.amount_cents::text AS amount, c.price_cents::text AS price
         FROM payments p JOIN courses c ON c.id = p.course_id WHERE p.id = ANY($1::uuid[])`,
      [[...new Set([...captures.values()].map((c) => c.paymentId))]],
    ),
    ctx.db.query<{ payment_id: string; n: number }>(
      'SELECT payment_id, count(*)::int AS n FROM student_course_purchases GROUP BY payment_id',
    ),
    ctx.db.query<{ ppid: string; amount: string; payment_id: string; reason: string }>(
      'SELECT provider_payment_id AS ppid, amount_cents::text AS amount, payment_id, reason FROM refund_requests',
    ),
  ]);
  const paymentById = new Map(payments.rows.map((p) => [p.id, p]));
  const purchasesOf = new Map(purchases.rows.map((p) => [p.payment_id, p.n]));
  const refundOf = new Map(refunds.rows.map((r) => [r.ppid, r]));
  const violations: Violation[] = [];
  let captured = 0;
  let accounted = 0;
  let refunded = 0;
  for (const c of captures.values()) {
    const p = paymentById.get(c.paymentId);
    const purchase =
      p?.status === 'succeeded' && p.ppid === c.providerPaymentId && (purchasesOf.get(p.id) ?? 0) > 0;
    const refund = refundOf.get(c.providerPaymentId);
    const at = {
      providerPaymentId: c.providerPaymentId,
      paymentId: c.paymentId,
      capturedCents: c.amountCents,
      op: c.op,
    };
    if (purchase && refund)
      violations.push({ kind: 'purchase-and-refund', ...at, expected: 'one of them', found: 'both' });
    if (!purchase && !refund && c.definite)
      violations.push({
        kind: 'capture-vanished',
        ...at,
        expected: 'a purchase or a refund request',
        found: `payment ${p?.status ?? 'missing'}, no purchase of it, no refund request`,
      });
    if (purchase && p && p.amount !== p.price)
      violations.push({
        kind: 'purchase-not-at-price',
        ...at,
        expected: Number(p.price),
        found: Number(p.amount),
      });
    if (purchase && p && Number(p.amount) !== c.amountCents)
      violations.push({
        kind: 'purchase-of-another-amount',
        ...at,
        expected: Number(p.amount),
        found: c.amountCents,
      });
    if (refund && Number(refund.amount) !== c.amountCents)
      violations.push({
        kind: 'refund-of-another-amount',
        ...at,
        expected: c.amountCents,
        found: Number(refund.amount),
      });
    if (c.definite) {
      captured += c.amountCents;
      if (purchase || refund) accounted += c.amountCents;
    }
    if (refund) refunded++;
  }
  // Money made up: a refund request for a capture the provider never reported (for this run's payments).
  const runPayments = new Set(ctx.ops.map((o) => paymentIdOf(o)).filter((x): x is string => !!x));
  // The price is the server's: every payment of the run asks for its course's price (prices do not
  // change during a run), whatever the client sent.
  const priced = await ctx.db.query<{ id: string; amount: string; price: string }>(
    `SELECT p.id, p.amount_cents::text AS amount, c.price_cents::text AS price
       FROM payments p JOIN courses c ON c.id = p.course_id
      WHERE p.id = ANY($1::uuid[]) AND p.amount_cents <> c.price_cents`,
    [[...runPayments]],
  );
  for (const p of priced.rows)
    violations.push({
      kind: 'payment-not-at-price',
      paymentId: p.id,
      expected: Number(p.price),
      found: Number(p.amount),
    });
  for (const r of refunds.rows)
    if (runPayments.has(r.payment_id) && !captures.has(r.ppid))
      violations.push({
        kind: 'refund-without-capture',
        providerPaymentId: r.ppid,
        paymentId: r.payment_id,
        expected: 'a capture by the provider',
        found: `a ${r.reason} refund request`,
      });
  return judge({
    name,
    description,
    checked: captures.size,
    violations,
    measured: captured === 0 ? undefined : accounted / captured,
    notExercised:
      captures.size === 0
        ? 'the provider captured nothing'
        : refunded === 0
          ? 'no capture had to be refunded (no repeat purchase, late or mismatched capture)'
          : undefined,
  });
}
