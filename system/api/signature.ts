// Verifying provider webhook signatures (the scheme: system/contracts/webhook.ts). Several v1
// entries are allowed (the provider signs with every active secret during a rotation); one valid
// entry is enough. Comparison is
// constant-time; a timestamp outside the tolerance is refused, so a captured webhook cannot be
// replayed later (and a replay inside the window is harmless: the event id makes it idempotent).
import { timingSafeEqual } from 'node:crypto';
import { sign } from '../contracts/webhook.ts';

export type SignatureVerdict =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

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
