// Provider webhook signatures, Stripe's scheme: header `Payproof-Signature: t=<unix seconds>,v1=<hex>`
// where v1 = HMAC-SHA256(secret, `${t}.${raw body}`). Several v1 entries are allowed (the provider
// signs with every active secret during a rotation); one valid entry is enough. Comparison is
// constant-time; a timestamp outside the tolerance is refused, so a captured webhook cannot be
// replayed later (and a replay inside the window is harmless: the event id makes it idempotent).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'payproof-signature';

export type SignatureVerdict =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** The v1 signature of a body at a time: hex HMAC-SHA256 over `${t}.${body}`. */
export function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value a provider sends: `t=...,v1=...` (one v1 per secret). */
export function signatureHeaderValue(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${sign(s, timestamp, body)}`)].join(',');
}

export function verifySignature(
  header: string | string[] | undefined,
  body: Buffer,
  secrets: readonly string[],
  nowS: number,
  toleranceS: number,
): SignatureVerdict {
  if (header === undefined) return { ok: false, reason: 'missing' };
  if (typeof header !== 'string' || header.length > 1024) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) given.push(Buffer.from(v, 'hex'));
  }
  if (t === undefined || given.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowS - t) > toleranceS) return { ok: false, reason: 'stale' };
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, t, body), 'hex');
    // Every given entry is compared, in constant time per entry.
    let match = false;
    for (const g of given) match = timingSafeEqual(g, expected) || match;
    if (match) return { ok: true, timestamp: t };
  }
  return { ok: false, reason: 'mismatch' };
}
