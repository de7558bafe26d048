// Idempotency-Key rules of POST /payments (docs/semantics.md step 1), judged from the history and
// the payment each key ended up with: the same key with the same body gets the same status and body
// and the same payment; the same key with a different body gets 422 and creates nothing.
import { canonicalJson } from './canonical.ts';
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import type { Operation } from './operations.ts';
import { type CreateBody, createBodyOf, sameBody } from './request-body.ts';

const name = 'idempotency-keys';
const description =
  'a reused Idempotency-Key with the same body gets the same answer and payment; with a different body 422 and nothing created';

/** A 422 idempotency_key_reused (the error code decides when recorded, else the status). */
const isReuseRefusal = (o: Operation) =>
  o.outcome === 'fail' && (o.error ? o.error === 'idempotency_key_reused' : o.status === 422);
const isSuccess = (o: Operation) =>
  o.outcome === 'ok' && (o.status === undefined || (o.status >= 200 && o.status < 300));

/** The payment an answer named: learnt into the ids, or in the body (itself or the load engine's excerpt). */
function returnedPaymentId(o: Operation): string | undefined {
  const body = o.response as { id?: unknown; response?: { id?: unknown } } | null | undefined;
  const id = o.ids.paymentId ?? body?.id ?? body?.response?.id;
  return typeof id === 'string' ? id : undefined;
}

export async function idempotencyKeys(ctx: CheckContext): Promise<CheckedInvariant> {
  const byKey = new Map<string, Operation[]>();
  for (const o of ctx.ops) {
    const key = o.ids.idempotencyKey;
    if (o.op !== 'create' || !key || o.outcome === 'info') continue;
    byKey.set(key, [...(byKey.get(key) ?? []), o]);
  }
  const rows = await ctx.db.query<{
    id: string;
    idempotency_key: string;
    student_id: string;
    course_id: string;
    amount_cents: string;
    currency: string;
  }>(
    `SELECT id, idempotency_key, student_id, course_id, amount_cents::text, currency
       FROM payments WHERE idempotency_key = ANY($1::text[])`,
    [[...byKey.keys()]],
  );
  const rowByKey = new Map(rows.rows.map((r) => [r.idempotency_key, r]));
  const violations: Violation[] = [];
  let reused = 0;
  for (const [key, ops] of byKey) {
    if (ops.length > 1) reused++;
    const row = rowByKey.get(key);
    const stored: CreateBody | undefined = row && {
      studentId: row.student_id,
      courseId: row.course_id,
      amountCents: Number(row.amount_cents),
      currency: row.currency,
    };
    const at = (o: Operation) => ({ idempotencyKey: key, op: o.index });
    let firstReplay: Operation | undefined;
    for (const o of ops) {
      const body = createBodyOf(o);
      const matches = stored && body ? sameBody(stored, body) : undefined;
      if (isSuccess(o)) {
        if (!row) {
          violations.push({
            kind: 'acknowledged-but-missing',
            ...at(o),
            expected: 'a payment with this key',
            found: null,
          });
          continue;
        }
        if (matches === false)
          violations.push({
            kind: 'different-body-accepted',
            ...at(o),
            paymentId: row.id,
            expected: 422,
            found: o.status ?? 'ok',
            body,
            stored,
          });
        const returned = returnedPaymentId(o);
        if (typeof returned === 'string' && returned !== row.id)
          violations.push({
            kind: 'different-payment-returned',
            ...at(o),
            expected: row.id,
            found: returned,
          });
        if (matches !== false) {
          if (!firstReplay) firstReplay = o;
          else if (
            firstReplay.status !== o.status ||
            (firstReplay.response !== undefined &&
              o.response !== undefined &&
              canonicalJson(firstReplay.response) !== canonicalJson(o.response))
          )
            violations.push({
              kind: 'replay-differs',
              ...at(o),
              firstOp: firstReplay.index,
              expected: { status: firstReplay.status, body: firstReplay.response },
              found: { status: o.status, body: o.response },
            });
        }
      } else if (isReuseRefusal(o)) {
        if (!row)
          violations.push({
            kind: 'reuse-claimed-without-payment',
            ...at(o),
            expected: 'a payment with this key',
            found: null,
          });
        else if (matches === true)
          violations.push({
            kind: 'same-body-refused',
            ...at(o),
            paymentId: row.id,
            expected: 'the first answer',
            found: o.status,
          });
      }
    }
  }
  return judge({
    name,
    description,
    checked: byKey.size,
    violations,
    notExercised: reused > 0 ? undefined : 'no Idempotency-Key was used twice',
  });
}
