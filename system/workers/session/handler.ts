// TRAINER_ALLOCATED → the first window of tutoring_sessions (not all sessionCount at once).
import { AppError } from '../../lib/errors.ts';
import type { EventContext, EventHandler } from '../../lib/inbox.ts';
import { fillWindow, type LiveAllocation } from './schedule-sql.ts';

export const handleTrainerAllocated: EventHandler = async (ctx: EventContext) => {
  if (ctx.event.eventType !== 'TRAINER_ALLOCATED')
    throw new AppError('handler_error', `unexpected ${ctx.event.eventType}`, false);
  const { allocationId } = ctx.event.payload;
  // The allocation row is the truth (not the payload): nothing is scheduled for an unknown or dead one.
  const r = await ctx.client.query<LiveAllocation & { status: string }>(
    'SELECT id, trainer_id, student_id, start_date, session_count, status FROM trainer_allocations WHERE id = $1',
    [allocationId],
  );
  const a = r.rows[0];
  if (!a) throw new AppError('handler_error', `unknown allocation ${allocationId}`, false);
  if (a.status !== 'approved' && a.status !== 'active') return 'already-done';
  const created = await fillWindow(ctx.client, a, ctx.now);
  // The sessions are on the student's dashboard: never leave a cached view without them.
  if (created > 0) ctx.invalidateDashboard(a.student_id, 'after-commit');
  if (created === 0) {
    ctx.onConflict('tutoring_sessions_allocation_id_scheduled_date_scheduled_time_key');
    return 'already-done';
  }
  return 'applied';
};
