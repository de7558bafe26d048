// Inserting the due sessions of many allocations in ONE statement: seq 1..due per allocation,
// dates from the contract's schedule.
import { cadenceDays, dueSessionCount, sessionTime } from '../../contracts/index.ts';
import type { PoolClient } from '../../lib/db.ts';

export interface LiveAllocation {
  readonly id: string;
  readonly trainer_id: string;
  readonly student_id: string;
  readonly start_date: string;
  readonly session_count: number;
}

/**
 * Creates every session due at `now` that does not exist yet, for every allocation given, and moves
 * each allocation's `next_session_on` (what the top-up sweep looks for) past them;
 * returns how many were created per allocation id (absent: none). An allocation given twice is
 * filled once (the slot's unique constraint skips the second copy's rows).
 */
export async function fillWindows(
  client: PoolClient,
  allocations: readonly LiveAllocation[],
  now: Date,
): Promise<Map<string, number>> {
  if (allocations.length === 0) return new Map();
  const r = await client.query<{ allocation_id: string; n: number }>(
    `WITH ins AS (
       INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time)
       SELECT a.id, a.trainer_id, a.student_id, s, a.start_date + (s - 1) * $6::int, $7::time
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[], $5::int[])
              AS a(id, trainer_id, student_id, start_date, due)
       CROSS JOIN LATERAL generate_series(1, a.due) AS s
       ON CONFLICT DO NOTHING
       RETURNING allocation_id
     ), advanced AS (
       -- Sessions 1..due now exist: the next one to create is seq due + 1 (none past session_count).
       -- Only forwards, and only rows that move: a redelivery that creates nothing locks nothing.
       UPDATE trainer_allocations t
       SET next_session_on = CASE WHEN a.due >= t.session_count THEN NULL ELSE t.start_date + a.due * $6::int END
       FROM unnest($1::uuid[], $5::int[]) AS a(id, due)
       -- t.id = ANY($1) as well: the generic plan of this prepared statement assumes 100 rows per
       -- array and, planned while the table was small, scanned all of trainer_allocations for
       -- every chunk (docs/benchmarks.md, ninth round); with it an index on id is used.
       WHERE t.id = a.id AND t.id = ANY($1::uuid[]) AND t.next_session_on IS NOT NULL
         AND (a.due >= t.session_count OR t.next_session_on < t.start_date + a.due * $6::int)
       RETURNING 1)
     SELECT allocation_id, count(*)::int AS n FROM ins GROUP BY allocation_id`,
    [
      allocations.map((a) => a.id),
      allocations.map((a) => a.trainer_id),
      allocations.map((a) => a.student_id),
      allocations.map((a) => a.start_date),
      allocations.map((a) => dueSessionCount(a.start_date, a.session_count, now)),
      cadenceDays,
      sessionTime,
    ],
  );
  return new Map(r.rows.map((x) => [x.allocation_id, x.n]));
}
