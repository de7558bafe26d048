// Invariant (issue 14): no effect from forged input. No payment of the run changed state without a
// genuine provider event: a succeeded payment holds a providerPaymentId the provider captured for
// it, and a payment the provider failed has such an event in the history. Forged webhooks (signed
// with the wrong secret, unsigned, stale) are in the history as confirm operations marked forged:
// they must have been refused, and nothing they named may have happened.
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';
import { paymentIdOf } from './operations.ts';

const name = 'no-forged-effect';
const description =
  'no payment changed state without a genuine provider event, and every forged webhook was refused';

export async function noForgedEffect(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.historyRead) return notAvailable(name, description, 'no client history: provider events unknown');
  // Genuine provider deliveries per payment: the providerPaymentIds they carried ('' when the
  // history did not record it). A forged one is marked; a refused (4xx) one changed nothing.
  const genuine = new Map<string, Set<string>>();
  for (const o of ctx.ops) {
    if (o.op !== 'confirm' || o.ids.forged === 'true' || o.outcome === 'fail') continue;
    const id = paymentIdOf(o);
    if (!id) continue;
    const set = genuine.get(id) ?? new Set<string>();
    set.add(o.ids.providerPaymentId ?? '');
    genuine.set(id, set);
  }
  const failedByProvider = new Set(
    ctx.ops
      .filter(
        (o) => o.op === 'confirm' && o.ids.forged !== 'true' && o.ids.providerEventType === 'payment_failed',
      )
      .map((o) => paymentIdOf(o)),
  );
  const forged = ctx.ops.filter((o) => o.op === 'confirm' && o.ids.forged === 'true');
  const runPayments = [
    ...new Set(
      ctx.ops
        .filter((o) => o.op === 'create')
        .map((o) => paymentIdOf(o))
        .filter((x): x is string => !!x),
    ),
  ];
  const rows = await ctx.db.query<{ id: string; status: string; ppid: string | null; reason: string | null }>(
    'SELECT id, status, provider_payment_id AS ppid, failure_reason AS reason FROM payments WHERE id = ANY($1::uuid[])',
    [runPayments],
  );
  const violations: Violation[] = [];
  for (const p of rows.rows) {
    if (p.status === 'succeeded') {
      const sent = genuine.get(p.id);
      if (!sent || !(sent.has(p.ppid ?? '') || sent.has('')))
        violations.push({
          kind: 'succeeded-without-capture',
          paymentId: p.id,
          providerPaymentId: p.ppid,
          expected: 'a capture of this payment by the provider',
          found: sent ? `captures ${[...sent].join(', ')}` : 'none',
        });
    }
    if (p.status === 'failed' && p.reason === 'provider_failed' && !failedByProvider.has(p.id))
      violations.push({
        kind: 'failed-without-provider-event',
        paymentId: p.id,
        expected: 'a payment_failed',
        found: 'none',
      });
  }
  for (const o of forged)
    if (o.outcome === 'ok')
      violations.push({
        kind: 'forged-webhook-accepted',
        op: o.index,
        paymentId: paymentIdOf(o),
        expected: 'a 401',
        found: o.status ?? 'ok',
      });
  return judge({
    name,
    description,
    checked: rows.rows.length + forged.length,
    violations,
    notExercised: forged.length === 0 ? 'no forged webhook was sent' : undefined,
  });
}
