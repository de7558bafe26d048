// Invariant 6: after quiescence every cached dashboard equals the view the checker computes from the
// database. Only students of this database are judged (a shared Redis may hold other runs' keys).
import { firstDifference } from './canonical.ts';
import type { CheckContext } from './context.ts';
import { dashboardsFromDb, normalizeDashboard } from './dashboard-view.ts';
import { uuidPattern } from './exercised.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';

const name = 'cache-converged';
const description = 'every cached dashboard equals the dashboard computed from the database';

export async function cacheConverged(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.cacheRead) return notAvailable(name, description, 'cache not read');
  const known = await ctx.db.query<{ id: string }>('SELECT id FROM students WHERE id = ANY($1::uuid[])', [
    ctx.cache.dashboards.map((d) => d.studentId).filter((id) => uuidPattern.test(id)),
  ]);
  const ours = new Set(known.rows.map((r) => r.id));
  const cached = ctx.cache.dashboards.filter((d) => ours.has(d.studentId));
  const views = await dashboardsFromDb(
    ctx.db,
    cached.map((d) => d.studentId),
  );
  const violations: Violation[] = [];
  for (const d of cached) {
    const expected = views.get(d.studentId);
    if (d.view === undefined) {
      violations.push({
        kind: 'unreadable-entry',
        studentId: d.studentId,
        key: d.key,
        expected: '{gen, view}',
        found: d.raw.slice(0, 200),
      });
      continue;
    }
    const diff = firstDifference(normalizeDashboard(expected), normalizeDashboard(d.view));
    if (diff)
      violations.push({
        kind: 'stale-dashboard',
        studentId: d.studentId,
        key: d.key,
        cachedGen: d.cachedGen,
        currentGen: d.currentGen,
        ...diff,
      });
  }
  const invalidated =
    [...(ctx.processed.get('cache-worker')?.values() ?? [])].length + (ctx.exercised.cacheInvalidations ?? 0);
  return judge({
    name,
    description,
    checked: cached.length,
    violations,
    notExercised:
      cached.length === 0
        ? 'no dashboard was cached'
        : invalidated > 0
          ? undefined
          : 'the cache was never invalidated (no event processed by cache-worker, every generation 0)',
  });
}
