// Invariant 2: every payment acknowledged as succeeded has, after convergence, exactly one active
// purchase for its (student, course), exactly one live allocation or one waitlisted with a reason,
// and a session window consistent with the clock. Acknowledged = an `ok` confirm in the history,
// or any payment the database holds as succeeded (which covers `info` confirms that did happen).
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import { paymentIdOf } from './operations.ts';
import { queryRows } from './rows.ts';
import {
  type WindowAllocation,
  type WindowBounds,
  type WindowSession,
  windowBounds,
  windowProblems,
} from './session-window.ts';

const name = 'nothing-lost';
const description =
  'every acknowledged payment has one active purchase, one live (or waitlisted) allocation and a full session window';

interface AllocationRow {
  id: string;
  student_id: string;
  course_id: string;
  status: string;
  trainer_id: string | null;
  start_date: string;
  session_count: number;
  waitlist_reason: string | null;
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
  readonly paymentId: string;
  readonly ids: Readonly<Record<string, string>>;
  readonly allocation: WindowAllocation;
  readonly bounds: WindowBounds;
}

export async function nothingLost(ctx: CheckContext): Promise<CheckedInvariant> {
  const [payments, purchases, allocations] = await Promise.all([
    ctx.db.query<{ id: string; student_id: string; course_id: string; status: string }>(
      'SELECT id, student_id, course_id, status FROM payments',
    ),
    ctx.db.query<{ pair: string; n: number }>(
      `SELECT student_id || '/' || course_id AS pair, count(*)::int AS n
         FROM student_course_purchases WHERE is_active GROUP BY student_id, course_id`,
    ),
    ctx.db.query<AllocationRow>(
      `SELECT id, student_id, course_id, status, trainer_id, to_char(start_date, 'YYYY-MM-DD') AS start_date,
              session_count, waitlist_reason FROM trainer_allocations`,
    ),
  ]);
  const paymentById = new Map(payments.rows.map((p) => [p.id, p]));
  const activeByPair = new Map(purchases.rows.map((r) => [r.pair, r.n]));
  const allocationsByPair = new Map<string, AllocationRow[]>();
  for (const a of allocations.rows) {
    const pair = `${a.student_id}/${a.course_id}`;
    allocationsByPair.set(pair, [...(allocationsByPair.get(pair) ?? []), a]);
  }

  /** Why each payment counts as acknowledged. */
  const acknowledged = new Map<string, string>();
  for (const op of ctx.ops)
    if (op.op === 'confirm' && op.outcome === 'ok') {
      const id = paymentIdOf(op);
      if (id) acknowledged.set(id, `history op ${op.index}: confirm ok`);
    }
  for (const p of payments.rows)
    if (p.status === 'succeeded' && !acknowledged.has(p.id))
      acknowledged.set(p.id, 'succeeded in the database');

  const violations: Violation[] = [];
  /** Live allocations to check against their sessions, by allocation id. */
  const windows = new Map<string, WindowCheck>();
  for (const [paymentId, why] of acknowledged) {
    const p = paymentById.get(paymentId);
    if (!p) {
      violations.push({
        kind: 'acknowledged-payment-missing',
        paymentId,
        why,
        expected: 'a payments row',
        found: null,
      });
      continue;
    }
    if (p.status !== 'succeeded')
      violations.push({
        kind: 'acknowledged-not-succeeded',
        paymentId,
        why,
        expected: 'succeeded',
        found: p.status,
      });
    const pair = `${p.student_id}/${p.course_id}`;
    const ids = { paymentId, studentId: p.student_id, courseId: p.course_id };
    const active = activeByPair.get(pair) ?? 0;
    if (active !== 1) violations.push({ kind: 'active-purchases', ...ids, expected: 1, found: active });
    const outcomes = allocationsByPair.get(pair) ?? [];
    const live = outcomes.filter((a) => a.status === 'approved' || a.status === 'active');
    const waitlisted = outcomes.filter((a) => a.status === 'waitlisted' && a.waitlist_reason);
    if (live.length === 1) {
      const a = live[0]!;
      windows.set(a.id, {
        paymentId,
        ids,
        allocation: {
          allocationId: a.id,
          trainerId: a.trainer_id,
          studentId: a.student_id,
          startDate: a.start_date,
          sessionCount: a.session_count,
        },
        bounds: windowBounds(
          { startDate: a.start_date, sessionCount: a.session_count },
          ctx.now,
          ctx.clockToleranceMs,
          ctx.toppedUpBy,
        ),
      });
    } else if (!(live.length === 0 && waitlisted.length === 1)) {
      violations.push({
        kind: 'allocation-outcome',
        ...ids,
        expected: 'one live allocation, or one waitlisted with a reason',
        found: {
          live: live.map((a) => a.id),
          waitlisted: outcomes.filter((a) => a.status === 'waitlisted').map((a) => a.id),
        },
      });
    }
  }
  // The sessions, streamed in allocation order: each live allocation's window is checked as soon as
  // its last session has been read, so no more than one allocation's sessions are held at a time (a
  // bench's ~300k session rows read at once held ~150 MiB of the checker's heap for a few seconds).
  const windowViolations = new Map<string, Violation[]>();
  const checkWindow = (w: WindowCheck, sessions: readonly WindowSession[]) => {
    const problems = windowProblems(w.allocation, sessions, w.bounds);
    for (const kind of new Set(problems.map((x) => x.kind))) {
      const first = problems.filter((x) => x.kind === kind);
      const list = windowViolations.get(w.paymentId) ?? [];
      windowViolations.set(w.paymentId, list);
      list.push({
        kind: `window-${kind}`,
        ...w.ids,
        allocationId: w.allocation.allocationId,
        startDate: w.allocation.startDate,
        sessionCount: w.allocation.sessionCount,
        now: ctx.now.toISOString(),
        ...(first[0]!.seq === undefined ? {} : { seqs: first.slice(0, 5).map((x) => x.seq) }),
        expected: first[0]!.expected,
        found: first[0]!.found,
      });
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
  // In the order of the acknowledged payments, as when each window was checked in that loop.
  const ordered: Violation[] = [];
  const byPayment = new Map<string, Violation[]>();
  for (const v of violations) {
    const id = v.paymentId as string;
    const list = byPayment.get(id) ?? [];
    byPayment.set(id, list);
    list.push(v);
  }
  for (const paymentId of acknowledged.keys())
    ordered.push(...(byPayment.get(paymentId) ?? []), ...(windowViolations.get(paymentId) ?? []));
  return judge({ name, description, checked: acknowledged.size, violations: ordered });
}
