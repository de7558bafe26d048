// The body of a create request as the history recorded it. Looked for, in order: the invoke's
// `value` (or its `body`), the completion's `value.request` (the load engine notes the amount there),
// then the ids (studentId, courseId, amountCents, currency). Normalised the way the API canonicalises
// it: an amount or currency the client did not send is the course's (the server's price), so it
// is not compared.
import type { Operation } from './operations.ts';

export interface CreateBody {
  readonly studentId: string;
  readonly courseId: string;
  /** As sent; undefined when the client left the price to the server (it is the course's). */
  readonly amountCents: number | undefined;
  readonly currency: string | undefined;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

export function createBodyOf(op: Operation): CreateBody | undefined {
  const invoke = record(op.request);
  const sources = [
    record(invoke?.body) ?? invoke,
    record(record(op.response)?.request),
    op.ids as Record<string, unknown>,
  ];
  const pick = (k: string): unknown => sources.find((s) => s?.[k] !== undefined)?.[k];
  const studentId = pick('studentId');
  const courseId = pick('courseId');
  const rawAmount = pick('amountCents');
  const amountCents = rawAmount === undefined ? undefined : Number(rawAmount);
  const currency = pick('currency');
  if (typeof studentId !== 'string' || typeof courseId !== 'string') return undefined;
  if (amountCents !== undefined && !Number.isFinite(amountCents)) return undefined;
  return {
    studentId,
    courseId,
    amountCents,
    currency: currency === undefined ? undefined : String(currency),
  };
}

export function sameBody(a: CreateBody, b: CreateBody): boolean {
  return (
    a.studentId === b.studentId &&
    a.courseId === b.courseId &&
    (a.amountCents === undefined || b.amountCents === undefined || a.amountCents === b.amountCents) &&
    (a.currency === undefined ||
      b.currency === undefined ||
      a.currency.trim().toUpperCase() === b.currency.trim().toUpperCase())
  );
}
