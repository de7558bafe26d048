// Inserting the due sessions of one allocation: seq 1..due, dates from the contract's schedule.
import { cadenceDays, dueSessionCount, sessionTime } from '../../contracts/index.ts';
import type { PoolClient } from '../../lib/db.ts';

export interface LiveAllocation {
  readonly id: string;
  readonly trainer_id: string;
  readonly student_id: string;
  readonly start_date: string;
  readonly session_count: number;
}

/** Creates every session due at `now` that does not exist yet; returns how many were created. */
export async function fillWindow(client: PoolClient, a: LiveAllocation, now: Date): Promise<number> {
  const due = dueSessionCount(a.start_date, a.session_count, now);
  const r = await client.query(
    `INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time)
     SELECT $1, $2, $3, s, $4::date + (s - 1) * $5::int, $6::time FROM generate_series(1, $7::int) AS s
     ON CONFLICT DO NOTHING`,
    [a.id, a.trainer_id, a.student_id, a.start_date, cadenceDays, sessionTime, due],
  );
  return r.rowCount ?? 0;
}
