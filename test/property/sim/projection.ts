// What "the same final state" means when delivery order may differ: everything but ids chosen at
// random (payment ids) or by first-come-first-served (which trainer, which pair got waitlisted).
import type pg from 'pg';

export interface Projection {
  readonly payments: Record<string, number>;
  readonly activePurchasePairs: readonly string[];
  readonly allocationsByStatus: Record<string, number>;
  readonly sessionsPerLiveAllocation: readonly number[];
  readonly trainerLoadTotal: number;
  readonly outboxByType: Record<string, number>;
}

export async function project(pool: pg.Pool): Promise<Projection> {
  const q = async <T extends pg.QueryResultRow>(sql: string) => (await pool.query<T>(sql)).rows;
  const counts = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k, r.n]));
  return {
    payments: counts(
      await q<{ k: string; n: number }>(
        'SELECT status AS k, count(*)::int AS n FROM payments GROUP BY 1 ORDER BY 1',
      ),
    ),
    activePurchasePairs: (
      await q<{ p: string }>(
        "SELECT student_id || '/' || course_id AS p FROM student_course_purchases WHERE is_active ORDER BY 1",
      )
    ).map((r) => r.p),
    allocationsByStatus: counts(
      await q<{ k: string; n: number }>(
        'SELECT status AS k, count(*)::int AS n FROM trainer_allocations GROUP BY 1 ORDER BY 1',
      ),
    ),
    sessionsPerLiveAllocation: (
      await q<{ n: number }>(
        `SELECT count(s.*)::int AS n FROM trainer_allocations a LEFT JOIN tutoring_sessions s ON s.allocation_id = a.id
         WHERE a.status IN ('approved', 'active') GROUP BY a.id ORDER BY 1`,
      )
    ).map((r) => r.n),
    trainerLoadTotal: (
      await q<{ n: number }>('SELECT coalesce(sum(active_allocations), 0)::int AS n FROM trainers')
    )[0]!.n,
    outboxByType: counts(
      await q<{ k: string; n: number }>(
        'SELECT event_type AS k, count(*)::int AS n FROM outbox GROUP BY 1 ORDER BY 1',
      ),
    ),
  };
}
