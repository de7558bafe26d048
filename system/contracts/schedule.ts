// The session schedule: a pure function of the allocation, so that the worker, the top-up job and
// the checker agree on which sessions must exist at a given time.

/** Days between two sessions of one allocation. */
export const cadenceDays = 2;
/** The rolling window: sessions dated up to this many days ahead of "now" exist. */
export const windowDays = 14;
/** Every session starts at this local time. */
export const sessionTime = '10:00:00';

const dayMs = 86_400_000;

/** YYYY-MM-DD of a Date, in UTC. */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Date of session `seq` (1-based) of an allocation starting on `startDate` (YYYY-MM-DD). */
export function sessionDate(startDate: string, seq: number): string {
  return isoDate(new Date(Date.parse(`${startDate}T00:00:00Z`) + (seq - 1) * cadenceDays * dayMs));
}

/** First day of an allocation made at `now`: the next day. */
export function startDateFor(now: Date): string {
  return isoDate(new Date(now.getTime() + dayMs));
}

/**
 * How many sessions must exist at `now`: every seq whose date falls on or before now + window,
 * never more than `sessionCount`, and at least one (the first is booked at allocation).
 */
export function dueSessionCount(startDate: string, sessionCount: number, now: Date): number {
  const horizon = Date.parse(`${isoDate(new Date(now.getTime() + windowDays * dayMs))}T00:00:00Z`);
  const start = Date.parse(`${startDate}T00:00:00Z`);
  const due = Math.floor((horizon - start) / (cadenceDays * dayMs)) + 1;
  return Math.max(1, Math.min(sessionCount, due));
}
