// End-to-end latency, confirm → sessions scheduled, from the database's own timestamps:
// payments.confirmed_at, then the purchase, the allocation and the first tutoring session of that
// payment (their created_at). Every one of them is now() of the writing transaction, i.e. its
// START: the last hop's transaction commits a little later than its stamp (one chunk's handling
// time), so these figures slightly UNDER-state the true latency to "visible".
import pg from 'pg';
import { Trend } from '../../load/histogram.ts';

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface E2eResult {
  /** Confirmed payments in the selection. */
  readonly confirmed: number;
  /** Of those, with at least one session. */
  readonly withSessions: number;
  /** confirm → first session. */
  readonly total: Percentiles;
  /** The hops: confirm → purchase row, purchase → allocation, allocation → first session. */
  readonly hops: {
    readonly purchase: Percentiles;
    readonly allocation: Percentiles;
    readonly session: Percentiles;
  };
}

function percentiles(values: readonly number[]): Percentiles {
  const t = new Trend();
  for (const v of values) t.add(Math.max(0, v));
  return {
    count: t.count,
    p50: t.percentile(50),
    p95: t.percentile(95),
    p99: t.percentile(99),
    max: t.max(),
  };
}

/** Selection: payments by id, or every payment confirmed in a window (database clock). */
export type Selection =
  | { readonly paymentIds: readonly string[] }
  | { readonly confirmedFrom: Date; readonly confirmedTo: Date };

export async function e2eLatency(databaseUrl: string, sel: Selection): Promise<E2eResult> {
  const c = new pg.Client({ connectionString: databaseUrl, statement_timeout: 300_000 });
  await c.connect();
  try {
    // Fresh statistics first: the bench inserts tens of thousands of rows between autovacuum's
    // passes, and with stale counts the planner joined trainer_allocations (no index on
    // purchase_id) by a nested loop: the full bench's 1500/s step hit the 300 s statement timeout.
    await c.query('ANALYZE payments, student_course_purchases, trainer_allocations, tutoring_sessions');
    const where =
      'paymentIds' in sel ? 'p.id = ANY($1::uuid[])' : 'p.confirmed_at >= $1 AND p.confirmed_at < $2';
    const args = 'paymentIds' in sel ? [sel.paymentIds] : [sel.confirmedFrom, sel.confirmedTo];
    const r = await c.query<{ purchase: number | null; allocation: number | null; session: number | null }>(
      `WITH p AS (SELECT id, confirmed_at FROM payments p WHERE ${where} AND status = 'succeeded'),
            pu AS (SELECT p.id AS payment_id, p.confirmed_at, c.id AS purchase_id, c.created_at AS purchase_at
                     FROM p LEFT JOIN student_course_purchases c ON c.payment_id = p.id),
            al AS (SELECT pu.*, a.id AS allocation_id, a.created_at AS allocation_at
                     FROM pu LEFT JOIN trainer_allocations a ON a.purchase_id = pu.purchase_id)
       SELECT extract(epoch FROM (al.purchase_at - al.confirmed_at)) * 1000 AS purchase,
              extract(epoch FROM (al.allocation_at - al.purchase_at)) * 1000 AS allocation,
              extract(epoch FROM ((SELECT min(s.created_at) FROM tutoring_sessions s WHERE s.allocation_id = al.allocation_id)
                                  - al.allocation_at)) * 1000 AS session
         FROM al`,
      args,
    );
    const total: number[] = [];
    const purchase: number[] = [];
    const allocation: number[] = [];
    const session: number[] = [];
    for (const row of r.rows) {
      if (row.purchase !== null) purchase.push(Number(row.purchase));
      if (row.allocation !== null) allocation.push(Number(row.allocation));
      if (row.session !== null) session.push(Number(row.session));
      if (row.purchase !== null && row.allocation !== null && row.session !== null)
        total.push(Number(row.purchase) + Number(row.allocation) + Number(row.session));
    }
    return {
      confirmed: r.rows.length,
      withSessions: total.length,
      total: percentiles(total),
      hops: {
        purchase: percentiles(purchase),
        allocation: percentiles(allocation),
        session: percentiles(session),
      },
    };
  } finally {
    await c.end();
  }
}
