// Invariant 1 (sessions): one session per (allocation, seq) and per (allocation, date, time), never
// more sessions than the allocation's session_count, no seq beyond it.
import type { CheckContext } from './context.ts';
import { redeliveryChances } from './exercised.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

const name = 'no-duplicate-sessions';
const description =
  'one session per (allocation, seq) and per (allocation, date, time); at most session_count per allocation';

// A session has no id of its own (its key is the slot: migration 18): duplicates are told apart by
// their physical row and when each was written, oldest first.
const rowLabel = `'row ' || ctid::text || ' created ' || created_at::text`;

export async function noDuplicateSessions(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];
  const sameSeq = await ctx.db.query<{ allocation_id: string; seq: number; rows: string[] }>(
    `SELECT allocation_id, seq, array_agg(${rowLabel} ORDER BY created_at, ctid) AS rows
       FROM tutoring_sessions GROUP BY allocation_id, seq HAVING count(*) > 1`,
  );
  for (const r of sameSeq.rows)
    violations.push({
      kind: 'two-sessions-same-seq',
      allocationId: r.allocation_id,
      seq: r.seq,
      rows: r.rows,
      expected: 1,
      found: r.rows.length,
    });
  const sameSlot = await ctx.db.query<{ allocation_id: string; slot: string; rows: string[] }>(
    `SELECT allocation_id, to_char(scheduled_date, 'YYYY-MM-DD') || ' ' || scheduled_time::text AS slot,
            array_agg(${rowLabel} ORDER BY created_at, ctid) AS rows
       FROM tutoring_sessions GROUP BY allocation_id, scheduled_date, scheduled_time HAVING count(*) > 1`,
  );
  for (const r of sameSlot.rows)
    violations.push({
      kind: 'two-sessions-same-slot',
      allocationId: r.allocation_id,
      slot: r.slot,
      rows: r.rows,
      expected: 1,
      found: r.rows.length,
    });
  const counts = await ctx.db.query<{
    allocation_id: string;
    session_count: number;
    n: number;
    max_seq: number;
  }>(
    `SELECT s.allocation_id, a.session_count, count(*)::int AS n, max(s.seq)::int AS max_seq
       FROM tutoring_sessions s JOIN trainer_allocations a ON a.id = s.allocation_id
      GROUP BY s.allocation_id, a.session_count
     HAVING count(*) > a.session_count OR max(s.seq) > a.session_count`,
  );
  for (const r of counts.rows) {
    if (r.n > r.session_count)
      violations.push({
        kind: 'more-than-session-count',
        allocationId: r.allocation_id,
        expected: `<= ${r.session_count}`,
        found: r.n,
      });
    if (r.max_seq > r.session_count)
      violations.push({
        kind: 'seq-beyond-session-count',
        allocationId: r.allocation_id,
        expected: `<= ${r.session_count}`,
        found: r.max_seq,
      });
  }
  const total = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tutoring_sessions');
  const x = ctx.exercised;
  const chances = redeliveryChances(x, 'TRAINER_ALLOCATED') + (x.toppedUpAllocations ?? 0);
  return judge({
    name,
    description,
    checked: total.rows[0]?.n ?? 0,
    violations,
    notExercised:
      chances > 0
        ? undefined
        : 'no TRAINER_ALLOCATED was delivered twice, no restart or rebalance, no window was topped up',
  });
}
