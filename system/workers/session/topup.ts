// The top-up job: as days pass, extends every live allocation's window. Safe with any number of
// instances running it at once: allocations are claimed FOR NO KEY UPDATE SKIP LOCKED (NO KEY, so
// the foreign-key checks of concurrent session inserts are not blocked), and the unique slot
// constraint makes a double insert impossible anyway.
import { isoDate, windowDays } from '../../contracts/index.ts';
import { appNow } from '../../lib/clock.ts';
import { type Pool, withTransaction } from '../../lib/db.ts';
import type { DashboardCache } from '../../lib/inbox.ts';
import { fillWindows, type LiveAllocation } from './schedule-sql.ts';

/** One pass over every allocation whose window is short; returns the number of sessions created. */
export async function topUp(
  pool: Pool,
  dashboards: DashboardCache,
  {
    skewMs = 0,
    batch = 200,
    minAgeMs = 0,
  }: {
    skewMs?: number;
    batch?: number;
    /**
     * An allocation without any session yet is left to its TRAINER_ALLOCATED handler for this long
     * (wall time): racing the handler for the same rows only makes both wait (and deadlock).
     */
    minAgeMs?: number;
  } = {},
): Promise<number> {
  let created = 0;
  for (let round = 0; round < 10_000; round++) {
    const { claimed, made, touched } = await withTransaction(pool, async (client) => {
      const now = await appNow(client, skewMs);
      const horizon = isoDate(new Date(now.getTime() + windowDays * 86_400_000));
      const r = await client.query<LiveAllocation>(
        // Due: the next session's date is inside the window (next_session_on <= horizon; it is
        // '-infinity' before the first session). A range scan of the partial index
        // trainer_allocations_topup: the allocations that are due, not every live one.
        `SELECT a.id, a.trainer_id, a.student_id, a.start_date, a.session_count FROM trainer_allocations a
         WHERE a.status IN ('approved', 'active') AND a.next_session_on IS NOT NULL
           AND a.next_session_on <= $1::date
           AND (a.next_session_on > '-infinity'::date
                OR a.created_at < now() - make_interval(secs => $3::int / 1000.0))
         ORDER BY a.id LIMIT $2 FOR NO KEY UPDATE OF a SKIP LOCKED`,
        [horizon, batch, minAgeMs],
      );
      const made = await fillWindows(client, r.rows, now);
      let n = 0;
      const touched = new Set<string>();
      for (const a of r.rows) {
        const k = made.get(a.id) ?? 0;
        if (k > 0) touched.add(a.student_id);
        n += k;
      }
      return { claimed: r.rows.length, made: n, touched };
    });
    // New sessions are on the students' dashboards: invalidate once they are visible (after the
    // commit), or a reader could re-cache the old view under the new generation.
    await dashboards.invalidate([...touched]);
    created += made;
    if (claimed < batch) break;
  }
  return created;
}
