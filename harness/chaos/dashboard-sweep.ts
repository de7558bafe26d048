// The workload's epilogue: right after the load (the faults healed, events still draining), read the
// dashboards of the students who paid last. Each read may cache a view that the events still in
// flight must then invalidate, so the checker's cache-converged invariant judges real cache
// entries. Without it every entry cached during the load is invalidated by that student's own
// later events, and nothing is left to compare (a vacuous pass, reported as unknown).
import pg from 'pg';
import { TokenBook } from '../lib/tokens.ts';
import type { History } from '../run/history.ts';

export interface SweepOptions {
  readonly apiUrl: string;
  readonly directDatabaseUrl: string;
  readonly history: History;
  /** Students to read, most recent payers first. */
  readonly students?: number;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
}

/** Reads the dashboards; returns how many answered 200. Every read is in the history. */
export async function dashboardSweep(o: SweepOptions): Promise<{ read: number; ok: number }> {
  const db = new pg.Client({ connectionString: o.directDatabaseUrl, connectionTimeoutMillis: 5_000 });
  await db.connect();
  let ids: string[];
  try {
    const r = await db.query<{ student_id: string }>(
      `SELECT student_id FROM payments WHERE status = 'succeeded'
       GROUP BY student_id ORDER BY max(confirmed_at) DESC LIMIT $1`,
      [o.students ?? 300],
    );
    ids = r.rows.map((x) => x.student_id);
  } finally {
    await db.end().catch(() => undefined);
  }
  let ok = 0;
  // Each read is the student's own, signed in (the dev issuer's token).
  const tokens = await new TokenBook().prepare(ids);
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: o.concurrency ?? 8 }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const index = o.history.invoke('dashboard', 'sweep', { studentId: id });
        try {
          const res = await fetch(`${o.apiUrl}/students/${id}/dashboard`, {
            headers: { authorization: tokens.bearer(id) },
            signal: AbortSignal.timeout(o.timeoutMs ?? 5_000),
          });
          await res.arrayBuffer();
          if (res.ok) ok++;
          o.history.complete(
            index,
            res.ok ? 'ok' : res.status < 500 ? 'fail' : 'info',
            'dashboard',
            'sweep',
            {
              ids: { studentId: id },
              status: res.status,
            },
          );
        } catch (err) {
          o.history.complete(index, 'info', 'dashboard', 'sweep', {
            ids: { studentId: id },
            error: (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message,
          });
        }
      }
    }),
  );
  return { read: ids.length, ok };
}
