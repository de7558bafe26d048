// A SYSTEM BUG the model-based property found (fixed: every writer of dashboard data invalidates the
// student's dashboard after its own commit): the cache worker invalidated a student's dashboard when
// it handled PURCHASE_CREATED / TRAINER_ALLOCATED, but two writers changed the dashboard without any
// later invalidation:
//   - the allocation worker's waitlisted allocation (it emits no event), when the cache worker
//     handled the same PURCHASE_CREATED first and a dashboard was read in between;
//   - sessions: the session worker's (when the cache worker handled the same TRAINER_ALLOCATED
//     first and a dashboard was read in between) and every top-up's (no event at all).
// The stale view then lived for the cache TTL (1 h). This module sorts stale dashboards into that
// shape (`known`) and any other (`other`); the regression tests in model.int.test.ts require both
// lists to be empty, and the property itself fails on any stale dashboard (cache-converged).

import type { Redis } from 'ioredis';
import type pg from 'pg';
import { canonicalJson } from '../../../harness/checker/canonical.ts';
import { dashboardsFromDb, normalizeDashboard } from '../../../harness/checker/dashboard-view.ts';
import { type DashboardView, dashboardCacheKey } from '../../../system/contracts/api.ts';

type View = {
  purchases: unknown[];
  allocations: { status: string }[];
  upcomingSessions: unknown[];
};

/** Whether `cached` is `db` minus waitlisted allocations and sessions, and nothing else. */
export function onlyKnownStaleness(cached: View, db: View): boolean {
  const has = (list: readonly unknown[], x: unknown) =>
    list.some((y) => canonicalJson(y) === canonicalJson(x));
  return (
    canonicalJson(cached.purchases) === canonicalJson(db.purchases) &&
    cached.allocations.every((a) => has(db.allocations, a)) &&
    db.allocations.every((a) => has(cached.allocations, a) || a.status === 'waitlisted') &&
    cached.upcomingSessions.every((s) => has(db.upcomingSessions, s))
  );
}

/**
 * Cached dashboards of `studentIds` that differ from the database: `known` when only in the known
 * bug's way, `other` otherwise (each with both views, for the failure message).
 */
export async function staleDashboards(
  redis: Redis,
  db: pg.Pool,
  studentIds: readonly string[],
): Promise<{ known: string[]; other: { studentId: string; cached: unknown; db: unknown }[] }> {
  const known: string[] = [];
  const other: { studentId: string; cached: unknown; db: unknown }[] = [];
  if (studentIds.length === 0) return { known, other };
  const raw = await redis.mget(...studentIds.map(dashboardCacheKey));
  const views = await dashboardsFromDb(db, studentIds);
  studentIds.forEach((studentId, i) => {
    if (!raw[i]) return;
    const cached = normalizeDashboard((JSON.parse(raw[i]!) as { view: DashboardView }).view) as View;
    const fromDb = normalizeDashboard(views.get(studentId)) as View;
    if (canonicalJson(cached) === canonicalJson(fromDb)) return;
    if (onlyKnownStaleness(cached, fromDb)) known.push(studentId);
    else other.push({ studentId, cached, db: fromDb });
  });
  return { known, other };
}

/** Students with a cached dashboard in this Redis (every `dashboard:v1:<id>` key but generations). */
export async function cachedStudents(redis: Redis): Promise<string[]> {
  const prefix = dashboardCacheKey('');
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) if (!k.endsWith(':gen')) ids.push(k.slice(prefix.length));
  } while (cursor !== '0');
  return ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
}
