// Invariant 2: every payment acknowledged as succeeded has, after convergence, exactly one active
// purchase for its (student, course), exactly one live allocation or one waitlisted with a reason,
// and a session window consistent with the clock. Acknowledged = an `ok` confirm in the history,
// or any payment the database holds as succeeded (which covers `info` confirms that did happen).
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import { paymentIdOf } from './operations.ts';
import { queryRows } from './rows.ts';
import { type WindowAllocation, type WindowSession, windowBounds, windowProblems } from './session-window.ts';

const name = 'nothing-lost';
const description =
  'every acknowledged payment has one active purchase, one live (or waitlisted) allocation and a full session window';

interface AllocationJson {
  id: string;
  status: string;
  trainer_id: string | null;
  start_date: string;
  session_count: number;
  waitlist_reason: string | null;
}

/** A payment with its pair's active purchases and allocations, joined by PostgreSQL. */
interface PaymentRow extends Record<string, unknown> {
  id: string;
  student_id: string;
  course_id: string;
  status: string;
  active: number;
  allocations: AllocationJson[];
}

interface SessionRow extends Record<string, unknown> {
  allocation_id: string;
  seq: number;
  date: string;
  time: string;
  trainer_id: string;
  student_id: string;
}

/** A live allocation whose session window is checked once its sessions have been read. */
interface WindowCheck {
  /** The payment's place among the acknowledged (the order of the violations). */
  readonly pos: number;
  readonly paymentId: string;
  readonly courseId: string;
  readonly allocation: WindowAllocation;
}

/** A payment confirmed `ok` in the history. */
interface Confirmed {
  /** Its place among the acknowledged payments: the history's order. */
  readonly pos: number;
  /** The last `ok` confirm's operation index. */
  index: number;
  /** Whether the payments table holds it. */
  found: boolean;
}

/**
 * Each payment, with the number of active purchases of its (student, course) and that pair's
 * allocations, one row at a time: the checker holds no table whole (a bench's ~50k payments,
 * purchases and allocations, with the maps over them, took ~170 MiB of the checker's heap at once;
 * docs/benchmarks.md, eighteenth round).
 */
const paymentsJoined = `
  SELECT p.id, p.student_id, p.course_id, p.status, coalesce(s.n, 0) AS active, coalesce(a.list, '[]') AS allocations
    FROM payments p
    LEFT JOIN (SELECT student_id, course_id, count(*)::int AS n
                 FROM student_course_purchases WHERE is_active GROUP BY student_id, course_id) s
           USING (student_id, course_id)
    LEFT JOIN (SELECT student_id, course_id,
                      json_agg(json_build_object('id', id, 'status', status, 'trainer_id', trainer_id,
                               'start_date', to_char(start_date, 'YYYY-MM-DD'), 'session_count', session_count,
                               'waitlist_reason', waitlist_reason) ORDER BY id) AS list
                 FROM trainer_allocations GROUP BY student_id, course_id) a
           USING (student_id, course_id)`;

export async function nothingLost(ctx: CheckContext): Promise<CheckedInvariant> {
  // Acknowledged = an `ok` confirm in the history (in its order), then any payment the database
  // holds as succeeded (in the table's order).
  const confirmed = new Map<string, Confirmed>();
  for (const op of ctx.ops)
    if (op.op === 'confirm' && op.outcome === 'ok') {
      const id = paymentIdOf(op);
      if (!id) continue;
      const c = confirmed.get(id);
      if (c) c.index = op.index;
      else confirmed.set(id, { pos: confirmed.size, index: op.index, found: false });
    }
  const byHistory = (c: Confirmed) => `history op ${c.index}: confirm ok`;

  /** Violations with their payment's place among the acknowledged, sorted by it at the end. */
  const placed: [number, Violation][] = [];
  /** Live allocations to check against their sessions, by allocation id. */
  const windows = new Map<string, WindowCheck>();
  let onlyInDatabase = 0;
  for await (const p of queryRows<PaymentRow>(ctx.db, paymentsJoined)) {
    const c = confirmed.get(p.id);
    if (c) c.found = true;
    else if (p.status !== 'succeeded') continue;
    const pos = c ? c.pos : confirmed.size + onlyInDatabase++;
    const paymentId = p.id;
    const ids = () => ({ paymentId, studentId: p.student_id, courseId: p.course_id });
    if (p.status !== 'succeeded')
      placed.push([
        pos,
        {
          kind: 'acknowledged-not-succeeded',
          paymentId,
          why: c ? byHistory(c) : 'succeeded in the database',
          expected: 'succeeded',
          found: p.status,
        },
      ]);
    if (p.active !== 1)
      placed.push([pos, { kind: 'active-purchases', ...ids(), expected: 1, found: p.active }]);
    const live = p.allocations.filter((a) => a.status === 'approved' || a.status === 'active');
    const waitlisted = p.allocations.filter((a) => a.status === 'waitlisted' && a.waitlist_reason);
    if (live.length === 1) {
      const a = live[0]!;
      windows.set(a.id, {
        pos,
        paymentId,
        courseId: p.course_id,
        allocation: {
          allocationId: a.id,
          trainerId: a.trainer_id,
          studentId: p.student_id,
          startDate: a.start_date,
          sessionCount: a.session_count,
        },
      });
    } else if (!(live.length === 0 && waitlisted.length === 1)) {
      placed.push([
        pos,
        {
          kind: 'allocation-outcome',
          ...ids(),
          expected: 'one live allocation, or one waitlisted with a reason',
          found: {
            live: live.map((a) => a.id),
            waitlisted: p.allocations.filter((a) => a.status === 'waitlisted').map((a) => a.id),
          },
        },
      ]);
    }
  }
  for (const [paymentId, c] of confirmed)
    if (!c.found)
      placed.push([
        c.pos,
        {
          kind: 'acknowledged-payment-missing',
          paymentId,
          why: byHistory(c),
          expected: 'a payments row',
          found: null,
        },
      ]);
  // The sessions, streamed in allocation order: each live allocation's window is checked as soon as
  // its last session has been read, so no more than one allocation's sessions are held at a time (a
  // bench's ~300k session rows read at once held ~150 MiB of the checker's heap for a few seconds).
  const checkWindow = (w: WindowCheck, sessions: readonly WindowSession[]) => {
    const bounds = windowBounds(
      { startDate: w.allocation.startDate, sessionCount: w.allocation.sessionCount },
      ctx.now,
      ctx.clockToleranceMs,
      ctx.toppedUpBy,
    );
    const problems = windowProblems(w.allocation, sessions, bounds);
    for (const kind of new Set(problems.map((x) => x.kind))) {
      const first = problems.filter((x) => x.kind === kind);
      placed.push([
        w.pos,
        {
          kind: `window-${kind}`,
          paymentId: w.paymentId,
          studentId: w.allocation.studentId,
          courseId: w.courseId,
          allocationId: w.allocation.allocationId,
          startDate: w.allocation.startDate,
          sessionCount: w.allocation.sessionCount,
          now: ctx.now.toISOString(),
          ...(first[0]!.seq === undefined ? {} : { seqs: first.slice(0, 5).map((x) => x.seq) }),
          expected: first[0]!.expected,
          found: first[0]!.found,
        },
      ]);
    }
  };
  let current: string | undefined;
  let sessions: WindowSession[] = [];
  const flush = () => {
    const w = current === undefined ? undefined : windows.get(current);
    if (w) {
      checkWindow(w, sessions);
      windows.delete(w.allocation.allocationId);
    }
    sessions = [];
  };
  for await (const s of queryRows<SessionRow>(
    ctx.db,
    `SELECT allocation_id, seq, to_char(scheduled_date, 'YYYY-MM-DD') AS date, scheduled_time::text AS time,
            trainer_id, student_id FROM tutoring_sessions ORDER BY allocation_id, seq`,
  )) {
    if (s.allocation_id !== current) {
      flush();
      current = s.allocation_id;
    }
    if (windows.has(s.allocation_id))
      sessions.push({
        seq: s.seq,
        date: s.date,
        time: s.time,
        trainerId: s.trainer_id,
        studentId: s.student_id,
      });
  }
  flush();
  // Live allocations without a single session.
  for (const w of windows.values()) checkWindow(w, []);
  // In the order of the acknowledged payments (a stable sort: a payment's own violations, then its
  // window's).
  placed.sort((a, b) => a[0] - b[0]);
  return judge({
    name,
    description,
    checked: confirmed.size + onlyInDatabase,
    violations: placed.map(([, v]) => v),
  });
}
