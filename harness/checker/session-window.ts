// The session window an allocation must have at a given time (docs/semantics.md step 6), as a
// pure function over the allocation and its session rows, so that it can be unit-tested.
import { dueSessionCount, sessionDate, sessionTime } from '../../system/contracts/schedule.ts';

const dayMs = 86_400_000;

export interface WindowAllocation {
  readonly allocationId: string;
  readonly trainerId: string | null;
  readonly studentId: string;
  /** YYYY-MM-DD. */
  readonly startDate: string;
  readonly sessionCount: number;
}

export interface WindowSession {
  readonly seq: number;
  /** YYYY-MM-DD. */
  readonly date: string;
  /** HH:MM:SS. */
  readonly time: string;
  readonly trainerId: string;
  readonly studentId: string;
}

export interface WindowBounds {
  /** Sessions that must exist: what was due when the allocation was made (or later, see below). */
  readonly min: number;
  /** Sessions that may exist: what is due at the checker's now (plus the clock tolerance). */
  readonly max: number;
}

/**
 * Sessions due when the allocation was made. The allocation worker sets startDate = the day after
 * its now, so "now" was some time on the day before startDate; every time of that day gives the
 * same horizon date, hence the same count.
 */
export function dueAtAllocation(startDate: string, sessionCount: number): number {
  return dueSessionCount(startDate, sessionCount, new Date(Date.parse(`${startDate}T00:00:00Z`) - dayMs));
}

/**
 * Bounds on the number of sessions. `now` is the app clock at check time; `toleranceMs` the largest
 * clock skew of any process (a process ahead of the app clock fills its window further);
 * `toppedUpBy`, when given, an app-clock time by which the top-up job is known to have run, which
 * raises the lower bound to what was due then.
 */
export function windowBounds(
  a: Pick<WindowAllocation, 'startDate' | 'sessionCount'>,
  now: Date,
  toleranceMs = 0,
  toppedUpBy?: Date,
): WindowBounds {
  const atAllocation = dueAtAllocation(a.startDate, a.sessionCount);
  const toppedUp = toppedUpBy
    ? dueSessionCount(a.startDate, a.sessionCount, new Date(toppedUpBy.getTime() - toleranceMs))
    : 0;
  return {
    min: Math.max(atAllocation, toppedUp),
    max: dueSessionCount(a.startDate, a.sessionCount, new Date(now.getTime() + toleranceMs)),
  };
}

/** One way a window is wrong. */
export interface WindowProblem {
  readonly kind:
    | 'gap'
    | 'too-few'
    | 'too-many'
    | 'wrong-date'
    | 'wrong-time'
    | 'wrong-trainer'
    | 'wrong-student';
  readonly expected: unknown;
  readonly found: unknown;
  readonly seq?: number;
}

/** Everything wrong with an allocation's sessions; empty when the window is consistent with the clock. */
export function windowProblems(
  a: WindowAllocation,
  sessions: readonly WindowSession[],
  bounds: WindowBounds,
): WindowProblem[] {
  const problems: WindowProblem[] = [];
  const seqs = [...new Set(sessions.map((s) => s.seq))].sort((x, y) => x - y);
  const n = seqs.length === 0 ? 0 : seqs[seqs.length - 1]!;
  const missing: number[] = [];
  for (let i = 1, j = 0; i <= n; i++) {
    if (seqs[j] === i) j++;
    else missing.push(i);
  }
  if (missing.length > 0) problems.push({ kind: 'gap', expected: `seq 1..${n}`, found: { missing } });
  if (n < bounds.min) problems.push({ kind: 'too-few', expected: `>= ${bounds.min}`, found: n });
  if (n > bounds.max) problems.push({ kind: 'too-many', expected: `<= ${bounds.max}`, found: n });
  for (const s of sessions) {
    const date = sessionDate(a.startDate, s.seq);
    if (s.date !== date) problems.push({ kind: 'wrong-date', seq: s.seq, expected: date, found: s.date });
    if (s.time !== sessionTime)
      problems.push({ kind: 'wrong-time', seq: s.seq, expected: sessionTime, found: s.time });
    if (s.trainerId !== a.trainerId)
      problems.push({ kind: 'wrong-trainer', seq: s.seq, expected: a.trainerId, found: s.trainerId });
    if (s.studentId !== a.studentId)
      problems.push({ kind: 'wrong-student', seq: s.seq, expected: a.studentId, found: s.studentId });
  }
  return problems;
}
