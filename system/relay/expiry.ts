// Pending payments do not stay pending forever: after PAYMENT_EXPIRY_MS (default 30 min) without a
// provider event they fail with failure_reason 'expired'. A capture that arrives later is paid
// back (the webhook answers refund_captured_after_failure), so money never disappears. Runs in
// the relay process; several relays may run it at once (SKIP LOCKED, bounded batches).
import type { Pool } from '../lib/db.ts';
import type { Logger } from '../lib/log.ts';
import { metrics } from '../lib/metrics.ts';

const expireSql = `
UPDATE payments SET status = 'failed', failure_reason = 'expired'
WHERE id IN (
  SELECT id FROM payments WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
  ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id`;

/** Expires one batch of overdue pending payments; returns how many. */
export async function expirePending(pool: Pool, afterMs: number, batch = 500): Promise<number> {
  const r = await pool.query(expireSql, [afterMs, batch]);
  const n = r.rowCount ?? 0;
  if (n > 0) metrics.paymentsExpired.inc(n);
  return n;
}

export function runExpiry(
  pool: Pool,
  log: Logger,
  signal: AbortSignal,
  opts: { afterMs: number; everyMs: number },
): Promise<void> {
  return (async () => {
    while (!signal.aborted) {
      try {
        let n: number;
        do {
          n = await expirePending(pool, opts.afterMs);
          if (n > 0) log.info({ expired: n }, 'pending payments expired');
        } while (n > 0 && !signal.aborted);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'expiry sweep failed; retrying on the next tick');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.everyMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  })();
}
