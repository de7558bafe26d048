// The checker's own computation of a student's dashboard from the database (docs/semantics.md
// step 7, contracts/api.ts DashboardView), written independently of the API's query.
import type pg from 'pg';
import type { DashboardView } from '../../system/contracts/api.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

/** Dashboards of `studentIds`, as the database says they must look now. */
export async function dashboardsFromDb(
  db: pg.Pool,
  studentIds: readonly string[],
): Promise<Map<string, DashboardView>> {
  const views = new Map<string, Mutable<DashboardView>>(
    studentIds.map((id) => [id, { studentId: id, purchases: [], allocations: [], upcomingSessions: [] }]),
  );
  if (studentIds.length === 0) return views;
  const ids = [...studentIds];
  const [purchases, allocations, sessions] = await Promise.all([
    db.query<{ student_id: string; id: string; course_id: string; purchase_tier: number }>(
      `SELECT student_id, id, course_id, purchase_tier FROM student_course_purchases
        WHERE student_id = ANY($1::uuid[]) AND is_active ORDER BY course_id, id`,
      [ids],
    ),
    db.query<{
      student_id: string;
      id: string;
      course_id: string;
      trainer_id: string | null;
      status: string;
    }>(
      `SELECT student_id, id, course_id, trainer_id, status FROM trainer_allocations
        WHERE student_id = ANY($1::uuid[]) ORDER BY course_id, id`,
      [ids],
    ),
    db.query<{ student_id: string; allocation_id: string; seq: number; date: string; time: string }>(
      `SELECT student_id, allocation_id, seq, to_char(scheduled_date, 'YYYY-MM-DD') AS date,
              scheduled_time::text AS time FROM tutoring_sessions
        WHERE student_id = ANY($1::uuid[]) AND status = 'scheduled'
        ORDER BY scheduled_date, allocation_id, seq`,
      [ids],
    ),
  ]);
  for (const r of purchases.rows)
    views
      .get(r.student_id)
      ?.purchases.push({ purchaseId: r.id, courseId: r.course_id, purchaseTier: r.purchase_tier });
  for (const r of allocations.rows)
    views.get(r.student_id)?.allocations.push({
      allocationId: r.id,
      courseId: r.course_id,
      trainerId: r.trainer_id,
      status: r.status,
    });
  for (const r of sessions.rows)
    views
      .get(r.student_id)
      ?.upcomingSessions.push({ allocationId: r.allocation_id, seq: r.seq, date: r.date, time: r.time });
  return views;
}

/**
 * A dashboard with its lists in one total order. The contract orders purchases and allocations by
 * course only, so rows of one course (a cancelled and a live allocation) may come in any order:
 * comparing normalised views judges content (is the cache stale?), not tie order.
 */
export function normalizeDashboard(view: unknown): unknown {
  if (view === null || typeof view !== 'object' || Array.isArray(view)) return view;
  const v = view as Record<string, unknown>;
  const sorted = (list: unknown, keys: string[]) =>
    Array.isArray(list)
      ? [...list].sort((a, b) => {
          for (const k of keys) {
            const x = String((a as Record<string, unknown>)?.[k] ?? '');
            const y = String((b as Record<string, unknown>)?.[k] ?? '');
            if (x !== y) return x < y ? -1 : 1;
          }
          return 0;
        })
      : list;
  return {
    ...v,
    purchases: sorted(v.purchases, ['courseId', 'purchaseId']),
    allocations: sorted(v.allocations, ['courseId', 'allocationId']),
    upcomingSessions: Array.isArray(v.upcomingSessions)
      ? [...v.upcomingSessions].sort((a, b) => {
          const x = a as Record<string, unknown>;
          const y = b as Record<string, unknown>;
          return (
            String(x?.date).localeCompare(String(y?.date)) ||
            String(x?.allocationId).localeCompare(String(y?.allocationId)) ||
            Number(x?.seq) - Number(y?.seq)
          );
        })
      : v.upcomingSessions,
  };
}
