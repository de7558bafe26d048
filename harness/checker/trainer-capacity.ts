// Invariant 4: no trainer over capacity, and the load counter equals the real count of live
// allocations (a lost update in the counter is how an unlocked allocation shows first).
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';

const name = 'trainer-capacity';
const description = 'live allocations per trainer <= capacity, and trainers.active_allocations == that count';

export async function trainerCapacity(ctx: CheckContext): Promise<CheckedInvariant> {
  const rows = await ctx.db.query<{ id: string; capacity: number; counter: number; real: number }>(
    `SELECT t.id, t.capacity, t.active_allocations AS counter,
            (SELECT count(*)::int FROM trainer_allocations a
              WHERE a.trainer_id = t.id AND a.status IN ('approved', 'active')) AS real
       FROM trainers t`,
  );
  const violations: Violation[] = [];
  for (const t of rows.rows) {
    if (t.real > t.capacity)
      violations.push({
        kind: 'over-capacity',
        trainerId: t.id,
        expected: `<= ${t.capacity}`,
        found: t.real,
      });
    if (t.counter !== t.real)
      violations.push({ kind: 'counter-drift', trainerId: t.id, expected: t.real, found: t.counter });
  }
  return judge({
    name,
    description,
    checked: rows.rows.length,
    violations,
    notExercised:
      (ctx.exercised.capacityReached ?? 0) > 0
        ? undefined
        : 'no trainer was filled to its capacity and nobody was waitlisted for want of one: capacity was never contended',
  });
}
