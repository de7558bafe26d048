// TRAINER_ALLOCATED → the first window of tutoring_sessions (not all sessionCount at once), a
// whole chunk in two statements.
import { AppError } from '../../lib/errors.ts';
import { type ChunkContext, type EventHandler, eventsOfType, type Outcome } from '../../lib/inbox.ts';
import { fillWindows, type LiveAllocation } from './schedule-sql.ts';

export const handleTrainerAllocated: EventHandler = async (ctx: ChunkContext, chunk) => {
  const events = eventsOfType(chunk, 'TRAINER_ALLOCATED');
  // Planted bug no-session-unique: the harness drops the (allocation, date, time) constraint with
  // its owner connection (harness/system/plant.ts); the application role cannot change the schema.
  // The allocation rows are the truth (not the payloads): nothing is scheduled for an unknown or dead one.
  const r = await ctx.client.query<LiveAllocation & { status: string }>(
    `SELECT id, trainer_id, student_id, start_date, session_count, status FROM trainer_allocations
     WHERE id = ANY($1::uuid[])`,
    [events.map((e) => e.payload.allocationId)],
  );
  const byId = new Map(r.rows.map((a) => [a.id, a]));
  const live: LiveAllocation[] = [];
  for (const e of events) {
    const a = byId.get(e.payload.allocationId);
    if (!a) throw new AppError('handler_error', `unknown allocation ${e.payload.allocationId}`, false);
    if (a.status === 'approved' || a.status === 'active') live.push(a);
  }
  const created = await fillWindows(ctx.client, live, ctx.now);
  const counted = new Set<string>();
  return events.map((e): Outcome => {
    const a = byId.get(e.payload.allocationId)!;
    if (a.status !== 'approved' && a.status !== 'active') return 'already-done';
    // Two events of the chunk for one allocation: the sessions were created once, for the first.
    const n = counted.has(a.id) ? 0 : (created.get(a.id) ?? 0);
    counted.add(a.id);
    // The sessions are on the student's dashboard: never leave a cached view without them.
    if (n > 0) {
      ctx.invalidateDashboard(a.student_id, 'after-commit');
      return 'applied';
    }
    ctx.onConflict('tutoring_sessions_allocation_id_scheduled_date_scheduled_time_key');
    return 'already-done';
  });
};
