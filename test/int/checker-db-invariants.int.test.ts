// The database invariants of the checker against hand-built states: a correct world passes, the
// same world with exactly one planted violation fails with the invariant that names it (and the
// counterexample names the ids), and a world that never took the risky path is 'unknown'.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { databaseOnlyInvariants, invariants } from '../../harness/checker/check.ts';
import { type LoadOptions, loadContext } from '../../harness/checker/context.ts';
import type { CheckedInvariant } from '../../harness/checker/judge.ts';
import { ReferenceWorld } from '../../harness/checker/reference-state.ts';
import { runChecker } from '../../harness/checker/run-checker.ts';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import type { HistoryOp, OpName } from '../../harness/run/history.ts';
import { sessionSlotConstraint } from '../../harness/system/plant.ts';
import { eventIdFor, purchaseIdFor } from '../../system/contracts/ids.ts';
import { sessionDate, sessionTime } from '../../system/contracts/schedule.ts';

const stack = inject('stack');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
});
afterAll(async () => {
  await dbs?.close();
});

/** A fresh migrated database with a reference world on it, and a way to run one invariant. */
async function fresh() {
  const scratch = await dbs.create();
  const db = new pg.Pool({ connectionString: scratch.url, max: 2 });
  onTestFinished(async () => {
    await db.end();
    await scratch.drop();
  });
  const w = await ReferenceWorld.open(db);
  const check = async (name: string, o: Partial<LoadOptions> = {}): Promise<CheckedInvariant> => {
    const ctx = await loadContext({ databaseUrl: scratch.url, ...o });
    try {
      return await invariants[name]!(ctx);
    } finally {
      await ctx.close();
    }
  };
  return { w, db, check, url: scratch.url };
}

/** Plants a second active purchase of (student, course): its unique index dropped, a second payment's purchase written. */
async function plantSecondActivePurchase(
  w: ReferenceWorld,
  db: pg.Pool,
  s: string,
  c: string,
): Promise<string> {
  const second = await w.createPayment({ studentId: s, courseId: c });
  await w.confirm(second);
  await db.query('DROP INDEX student_course_purchases_one_active');
  await w.purchase(second);
  return second;
}

/** Plants a double booking: the sessions' unique constraint dropped, seq 2 of `allocationId` inserted again. */
async function bookSeq2Twice(db: pg.Pool, allocationId: string): Promise<void> {
  await db.query(`ALTER TABLE tutoring_sessions DROP CONSTRAINT ${sessionSlotConstraint}`);
  await db.query(
    `INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time)
     SELECT allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time FROM tutoring_sessions
      WHERE allocation_id = $1 AND seq = 2`,
    [allocationId],
  );
}

/** A history built by hand: each op an invoke and its completion. */
function history() {
  const ops: HistoryOp[] = [];
  let index = 0;
  let t = 0;
  const add = (
    op: OpName,
    type: 'ok' | 'fail' | 'info',
    ids: Record<string, string>,
    extra: { status?: number; error?: string; request?: unknown; response?: unknown } = {},
  ) => {
    const i = index++;
    ops.push({ index: i, type: 'invoke', op, timeNs: t++, process: 0, ids, value: extra.request });
    ops.push({
      index: i,
      type,
      op,
      timeNs: t++,
      process: 0,
      ...(extra.status ? { status: extra.status } : {}),
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.response === undefined ? {} : { value: extra.response }),
    });
  };
  return { ops, add };
}

function kinds(r: CheckedInvariant): string[] {
  return r.examples.map((e) => String(e.kind));
}

describe("databaseOnly (the bench's final check over a whole run)", () => {
  it('finds the same duplicates from the tables alone, without topics or processed_events', async () => {
    const { w, db, check, url } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    await w.trainer();
    const chain = await w.pay(s, c);
    await plantSecondActivePurchase(w, db, s, c);
    await bookSeq2Twice(db, chain.allocationId);
    const full = await Promise.all(databaseOnlyInvariants.map((n) => check(n)));
    // Gone: a databaseOnly check that still read processed_events would fail here.
    await db.query('DROP TABLE processed_events');
    const only = await runChecker({
      endpoints: {
        kafkaBrokers: '127.0.0.1:1',
        direct: { databaseUrl: url, redisUrl: '', kafkaBrokers: '' },
      },
      only: databaseOnlyInvariants,
      convergence: false,
      databaseOnly: true,
    });
    const summary = (r: readonly CheckedInvariant[]) =>
      r.map((i) => ({ name: i.name, violations: i.violations, kinds: kinds(i).sort() }));
    expect(summary(only.invariants)).toEqual(summary(full));
    expect(only.invariants.map((i) => i.violations)).toEqual([1, 0, 2]);
  });

  it('refuses an invariant that needs more than the tables', async () => {
    await expect(
      runChecker({
        endpoints: { kafkaBrokers: '', direct: { databaseUrl: '', redisUrl: '', kafkaBrokers: '' } },
        only: ['no-duplicate-purchases', 'events-processed'],
        convergence: false,
        databaseOnly: true,
      }),
    ).rejects.toThrow(/events-processed need more than the database/);
  });
});

describe('no-duplicate-purchases', () => {
  it('passes when the same (student, course) paid twice still has one purchase', async () => {
    const { w, check } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    await w.trainer();
    await w.pay(s, c);
    await w.pay(s, c);
    const r = await check('no-duplicate-purchases');
    expect(r).toMatchObject({ valid: true, violations: 0, checked: 1 });
  });

  it('fails with both ids when the unique index is gone and a second active purchase exists', async () => {
    const { w, db, check } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    await w.trainer();
    const first = await w.pay(s, c);
    const second = await plantSecondActivePurchase(w, db, s, c);
    const r = await check('no-duplicate-purchases');
    expect(r.valid).toBe(false);
    expect(r.violations).toBe(1);
    expect(r.examples[0]).toMatchObject({
      kind: 'two-active-purchases',
      studentId: s,
      courseId: c,
      expected: 1,
      found: 2,
    });
    expect(r.examples[0]!.purchaseIds).toEqual(
      expect.arrayContaining([first.purchaseId, purchaseIdFor(second)]),
    );
  });

  it('fails when a purchase id is not derived from its payment', async () => {
    const { w, db, check } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    const p = await w.createPayment({ studentId: s, courseId: c });
    await w.confirm(p);
    const random = randomUUID();
    await db.query(
      `INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier) VALUES ($1, $2, $3, $4, 1)`,
      [random, p, s, c],
    );
    const r = await check('no-duplicate-purchases', { extraExercised: { restarts: 1 } });
    expect(r.valid).toBe(false);
    expect(r.examples[0]).toMatchObject({
      kind: 'non-deterministic-id',
      purchaseId: random,
      expected: purchaseIdFor(p),
    });
  });

  it('is unknown when no confirmation was ever delivered twice and no pair paid twice', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    const r = await check('no-duplicate-purchases');
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toMatch(/delivered twice/);
    const restarted = await check('no-duplicate-purchases', { extraExercised: { restarts: 1 } });
    expect(restarted.valid).toBe(true);
  });
});

describe('no-duplicate-allocations', () => {
  it('passes when a pair paid twice has one allocation', async () => {
    const { w, check } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    await w.trainer();
    await w.pay(s, c);
    await w.pay(s, c);
    expect(await check('no-duplicate-allocations')).toMatchObject({ valid: true, checked: 1 });
  });

  it('fails with both allocation ids when a pair has two live allocations', async () => {
    const { w, db, check } = await fresh();
    const [s, c] = [await w.student(), await w.course()];
    const t = await w.trainer();
    const chain = await w.pay(s, c);
    await db.query('DROP INDEX trainer_allocations_one_live');
    const second = randomUUID();
    await db.query(
      `INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, session_count, start_date)
       SELECT $1, purchase_id, student_id, course_id, $2, 'approved', session_count, start_date
         FROM trainer_allocations WHERE id = $3`,
      [second, t, chain.allocationId],
    );
    const r = await check('no-duplicate-allocations', { extraExercised: { rebalances: 1 } });
    expect(r.valid).toBe(false);
    expect(kinds(r)).toEqual(
      expect.arrayContaining([
        'two-allocations-for-one-pair',
        'two-allocations-for-one-purchase',
        'non-deterministic-id',
      ]),
    );
    const pair = r.examples.find((e) => e.kind === 'two-allocations-for-one-pair')!;
    expect(pair.allocationIds).toEqual(expect.arrayContaining([chain.allocationId, second]));
    expect(pair).toMatchObject({ studentId: s, courseId: c, found: 2 });
  });

  it('is unknown when nothing could have allocated twice', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    expect((await check('no-duplicate-allocations')).valid).toBe('unknown');
  });
});

describe('no-duplicate-sessions', () => {
  it('passes after the top-up extended a window', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await db.query('UPDATE app_clock SET offset_ms = offset_ms + $1', [10 * 86_400_000]);
    const n = await w.sessions(chain.allocationId, new Date(w.now.getTime() + 10 * 86_400_000));
    const r = await check('no-duplicate-sessions');
    expect(r).toMatchObject({ valid: true, checked: n });
    expect(n).toBeGreaterThan(7);
  });

  it('fails with the allocation and seq when a session is booked twice', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await bookSeq2Twice(db, chain.allocationId);
    const r = await check('no-duplicate-sessions', { extraExercised: { restarts: 1 } });
    expect(r.valid).toBe(false);
    expect(r.violations).toBe(2);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'two-sessions-same-seq',
          allocationId: chain.allocationId,
          seq: 2,
          found: 2,
        }),
        expect.objectContaining({ kind: 'two-sessions-same-slot', allocationId: chain.allocationId }),
      ]),
    );
  });

  it('fails when an allocation has more sessions than its session_count', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course({ sessionCount: 3 }));
    const a = (
      await db.query<{ start: string }>(
        `SELECT to_char(start_date, 'YYYY-MM-DD') AS start FROM trainer_allocations`,
      )
    ).rows[0]!;
    await db.query(
      `INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time)
       SELECT id, trainer_id, student_id, 4, $2::date, $3::time FROM trainer_allocations WHERE id = $1`,
      [chain.allocationId, sessionDate(a.start, 4), sessionTime],
    );
    const r = await check('no-duplicate-sessions', { extraExercised: { restarts: 1 } });
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'more-than-session-count',
          allocationId: chain.allocationId,
          found: 4,
        }),
        expect.objectContaining({
          kind: 'seq-beyond-session-count',
          allocationId: chain.allocationId,
          found: 4,
        }),
      ]),
    );
  });

  it('is unknown when no event was redelivered and no window topped up', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    const r = await check('no-duplicate-sessions');
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toMatch(/topped up/);
  });
});

describe('nothing-lost', () => {
  it('passes for a live and a waitlisted chain; an info confirm of a pending payment is not acknowledged', async () => {
    const { w, check } = await fresh();
    const c = await w.course();
    await w.trainer({ capacity: 1 });
    const [s1, s2, s3] = [await w.student(), await w.student(), await w.student()];
    const live = await w.pay(s1, c);
    const waiting = await w.pay(s2, c);
    const pending = await w.createPayment({ studentId: s3, courseId: c });
    const h = history();
    h.add('confirm', 'ok', { paymentId: live.paymentId }, { status: 200 });
    h.add('confirm', 'info', { paymentId: pending }, { error: 'timeout' });
    const r = await check('nothing-lost', { history: h.ops });
    expect(r).toMatchObject({ valid: true, checked: 2 });
    expect(waiting.eventIds.allocated).toBeNull();
  });

  it('fails with the payment and the missing seq when the session window has a gap', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    await db.query('DELETE FROM tutoring_sessions WHERE allocation_id = $1 AND seq = 3', [
      chain.allocationId,
    ]);
    const r = await check('nothing-lost');
    expect(r.valid).toBe(false);
    expect(r.examples[0]).toMatchObject({
      kind: 'window-gap',
      paymentId: chain.paymentId,
      allocationId: chain.allocationId,
      found: { missing: [3] },
    });
  });

  it('fails when the window is shorter than what was due at allocation, or longer than what is due now', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const short = await w.pay(await w.student(), await w.course());
    const long = await w.pay(await w.student(), await w.course());
    await db.query('DELETE FROM tutoring_sessions WHERE allocation_id = $1 AND seq > 4', [
      short.allocationId,
    ]);
    await w.sessions(long.allocationId, new Date(w.now.getTime() + 6 * 86_400_000));
    const r = await check('nothing-lost');
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'window-too-few',
          paymentId: short.paymentId,
          expected: '>= 7',
          found: 4,
        }),
        expect.objectContaining({
          kind: 'window-too-many',
          paymentId: long.paymentId,
          expected: '<= 7',
          found: 10,
        }),
      ]),
    );
    // A process whose clock runs 6 days ahead fills that far legitimately.
    const tolerant = await check('nothing-lost', { clockToleranceMs: 6 * 86_400_000 });
    expect(kinds(tolerant)).toEqual(['window-too-few']);
  });

  it('fails when an acknowledged confirmation left no trace, or a succeeded payment no purchase', async () => {
    const { w, check } = await fresh();
    const c = await w.course();
    await w.trainer();
    const acknowledgedOnly = await w.createPayment({ studentId: await w.student(), courseId: c });
    const stuck = await w.createPayment({ studentId: await w.student(), courseId: c });
    await w.confirm(stuck);
    const h = history();
    const neverStored = '00000000-0000-4000-8000-00000000abcd';
    h.add('confirm', 'ok', { paymentId: acknowledgedOnly }, { status: 200 });
    h.add('confirm', 'ok', { paymentId: neverStored }, { status: 200 });
    const r = await check('nothing-lost', { history: h.ops });
    expect(r.valid).toBe(false);
    expect(r.checked).toBe(3);
    // In the order of the acknowledged payments: the history's, then the database's (the first
    // of each kind, then the rest, five examples at most: judge.ts).
    expect(r.violations).toBe(6);
    expect(r.examples.map((v) => [v.kind, v.paymentId])).toEqual([
      ['acknowledged-not-succeeded', acknowledgedOnly],
      ['active-purchases', acknowledgedOnly],
      ['allocation-outcome', acknowledgedOnly],
      ['acknowledged-payment-missing', neverStored],
      ['active-purchases', stuck],
    ]);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'acknowledged-not-succeeded',
          paymentId: acknowledgedOnly,
          found: 'pending',
        }),
        expect.objectContaining({
          kind: 'acknowledged-payment-missing',
          paymentId: neverStored,
          why: expect.stringMatching(/^history op \d+: confirm ok$/),
        }),
        expect.objectContaining({ kind: 'active-purchases', paymentId: stuck, expected: 1, found: 0 }),
      ]),
    );
  });

  it('is unknown when no payment succeeded', async () => {
    const { w, check } = await fresh();
    await w.createPayment({ studentId: await w.student(), courseId: await w.course() });
    expect((await check('nothing-lost')).valid).toBe('unknown');
  });
});

describe('causal-closure', () => {
  it('passes for complete chains', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    await w.pay(await w.student(), await w.course());
    const r = await check('causal-closure');
    expect(r.valid).toBe(true);
    // purchases, allocations, sessions, outbox rows, and the events whose causation is checked
    expect(r.checked).toBe(1 + 1 + 7 + 3 + 3);
  });

  it('fails for a derived event that names no cause or the wrong one, and for a root with a cause', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    const setCause = (eventId: string, cause: string | null) =>
      db.query(
        `UPDATE outbox SET envelope = jsonb_set(envelope, '{causationId}', $2::jsonb) WHERE event_id = $1`,
        [eventId, JSON.stringify(cause)],
      );
    // The purchase names its payment (the correlation id), which is no event's id.
    await setCause(chain.eventIds.created, chain.paymentId);
    // The allocation names the confirmation, an event of the chain but not its cause.
    await setCause(chain.eventIds.allocated!, chain.eventIds.confirmed);
    await setCause(chain.eventIds.confirmed, chain.eventIds.created);
    const r = await check('causal-closure');
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'event-without-its-cause',
          eventId: chain.eventIds.created,
          causationId: chain.paymentId,
          found: 'no event with that id',
        }),
        expect.objectContaining({
          kind: 'event-names-the-wrong-cause',
          eventId: chain.eventIds.allocated,
          found: `PURCHASE_CONFIRMED ${chain.eventIds.confirmed}`,
        }),
        expect.objectContaining({ kind: 'root-event-with-cause', eventId: chain.eventIds.confirmed }),
      ]),
    );
    expect(r.violations).toBe(3);
  });

  it('fails for a purchase of a pending payment and sessions of a cancelled allocation', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const [s, c] = [await w.student(), await w.course()];
    const chain = await w.pay(s, await w.course());
    const pending = await w.createPayment({ studentId: s, courseId: c });
    await db.query(
      `INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier) VALUES ($1, $2, $3, $4, 1)`,
      [purchaseIdFor(pending), pending, s, c],
    );
    await db.query(`UPDATE trainer_allocations SET status = 'cancelled', trainer_id = NULL WHERE id = $1`, [
      chain.allocationId,
    ]);
    const r = await check('causal-closure');
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'purchase-without-succeeded-payment',
          purchaseId: purchaseIdFor(pending),
          paymentId: pending,
          found: 'pending',
        }),
        expect.objectContaining({
          kind: 'session-without-live-allocation',
          allocationId: chain.allocationId,
        }),
        expect.objectContaining({ kind: 'event-without-entity', eventId: chain.eventIds.allocated }),
      ]),
    );
    expect(r.violations).toBe(1 + 7 + 1);
  });

  it('is unknown over an empty database', async () => {
    const { check } = await fresh();
    expect((await check('causal-closure')).valid).toBe('unknown');
  });
});

describe('trainer-capacity', () => {
  it('passes when a trainer is filled exactly to capacity', async () => {
    const { w, check } = await fresh();
    await w.trainer({ capacity: 2 });
    const c = await w.course();
    await w.pay(await w.student(), c);
    await w.pay(await w.student(), c);
    expect(await check('trainer-capacity')).toMatchObject({ valid: true, checked: 1 });
  });

  it('fails with the trainer when over capacity or when the counter drifted', async () => {
    const { w, db, check } = await fresh();
    const full = await w.trainer({ capacity: 2 });
    const c = await w.course();
    await w.pay(await w.student(), c);
    await w.pay(await w.student(), c);
    await db.query('UPDATE trainers SET capacity = 1 WHERE id = $1', [full]);
    const over = await check('trainer-capacity');
    expect(over.valid).toBe(false);
    expect(over.examples).toEqual([{ kind: 'over-capacity', trainerId: full, expected: '<= 1', found: 2 }]);
    await db.query('UPDATE trainers SET capacity = 2, active_allocations = 1 WHERE id = $1', [full]);
    const drift = await check('trainer-capacity');
    expect(drift.examples).toEqual([{ kind: 'counter-drift', trainerId: full, expected: 2, found: 1 }]);
  });

  it('is unknown when no trainer ran out of seats, even with two allocations on one trainer', async () => {
    const { w, check } = await fresh();
    await w.trainer({ capacity: 10 });
    const c = await w.course();
    await w.pay(await w.student(), c);
    await w.pay(await w.student(), c);
    const r = await check('trainer-capacity');
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toMatch(/never contended/);
  });
});

describe('no-half-done', () => {
  it('passes when errored operations left nothing or everything', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    const c = await w.course();
    const done = await w.pay(await w.student(), c);
    const untouched = await w.createPayment({ studentId: await w.student(), courseId: c });
    const h = history();
    h.add('confirm', 'info', { paymentId: done.paymentId }, { error: 'timeout' });
    h.add('confirm', 'fail', { paymentId: untouched }, { status: 503, error: 'database_unavailable' });
    h.add('create', 'fail', { idempotencyKey: 'k-never' }, { status: 503 });
    const r = await check('no-half-done', { history: h.ops });
    expect(r).toMatchObject({ valid: true, checked: 3 });
  });

  it('fails with the payment when a confirmation answered 500 succeeded without its event', async () => {
    const { w, db, check } = await fresh();
    await w.trainer();
    const c = await w.course();
    const p = await w.createPayment({ studentId: await w.student(), courseId: c });
    await w.confirm(p);
    await db.query('DELETE FROM outbox WHERE event_id = $1', [eventIdFor('PURCHASE_CONFIRMED', p)]);
    const q = await w.createPayment({ studentId: await w.student(), courseId: c });
    await w.outbox({
      eventId: eventIdFor('PURCHASE_CONFIRMED', q),
      correlationId: q,
      causationId: null,
      eventType: 'PURCHASE_CONFIRMED',
      version: 1,
      timestamp: new Date().toISOString(),
      payload: { paymentId: q, studentId: randomUUID(), courseId: c, amountCents: 1, metadata: {} },
    });
    const leftover = await w.createPayment({
      studentId: await w.student(),
      courseId: c,
      idempotencyKey: 'k-left',
    });
    const h = history();
    h.add('confirm', 'fail', { paymentId: p }, { status: 500, error: 'internal' });
    h.add('create', 'fail', { idempotencyKey: 'k-left' }, { status: 500, error: 'internal' });
    const r = await check('no-half-done', { history: h.ops });
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'succeeded-without-event',
          paymentId: p,
          answer: 'history op 0: confirm fail 500',
        }),
        expect.objectContaining({ kind: 'event-without-success', paymentId: q, found: 'pending' }),
        expect.objectContaining({
          kind: 'failed-create-left-payment',
          idempotencyKey: 'k-left',
          paymentId: leftover,
        }),
      ]),
    );
  });

  it('is unknown when no answer was an error or lost', async () => {
    const { w, check } = await fresh();
    await w.trainer();
    const chain = await w.pay(await w.student(), await w.course());
    const h = history();
    h.add('confirm', 'ok', { paymentId: chain.paymentId }, { status: 200 });
    h.add('create', 'fail', {}, { status: 404, error: 'unknown_student' });
    const r = await check('no-half-done', { history: h.ops });
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toMatch(/5xx/);
  });
});

describe('idempotency-keys', () => {
  async function keyed() {
    const f = await fresh();
    const [s, c] = [await f.w.student(), await f.w.course()];
    const id = await f.w.createPayment({
      studentId: s,
      courseId: c,
      amountCents: 4900,
      idempotencyKey: 'k1',
    });
    const body = { studentId: s, courseId: c, amountCents: 4900 };
    const view = { id, studentId: s, courseId: c, amountCents: 4900, currency: 'EUR', status: 'pending' };
    return { ...f, s, c, id, body, view };
  }

  it('passes when a replay got the same answer and a different body got 422', async () => {
    const { check, body, view } = await keyed();
    const h = history();
    h.add('create', 'ok', { idempotencyKey: 'k1' }, { status: 201, request: body, response: view });
    h.add(
      'create',
      'ok',
      { idempotencyKey: 'k1' },
      { status: 201, request: { ...body, currency: 'EUR' }, response: view },
    );
    h.add(
      'create',
      'fail',
      { idempotencyKey: 'k1' },
      { status: 422, error: 'idempotency_key_reused', request: { ...body, amountCents: 5000 } },
    );
    expect(await check('idempotency-keys', { history: h.ops })).toMatchObject({ valid: true, checked: 1 });
  });

  it('fails when a replay returned another payment, or a different body was accepted', async () => {
    const { check, body, view, id } = await keyed();
    const other = randomUUID();
    const h = history();
    h.add('create', 'ok', { idempotencyKey: 'k1' }, { status: 201, request: body, response: view });
    h.add(
      'create',
      'ok',
      { idempotencyKey: 'k1' },
      { status: 201, request: body, response: { ...view, id: other } },
    );
    h.add(
      'create',
      'ok',
      { idempotencyKey: 'k1' },
      { status: 201, request: { ...body, amountCents: 1 }, response: view },
    );
    const r = await check('idempotency-keys', { history: h.ops });
    expect(r.valid).toBe(false);
    expect(r.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'different-payment-returned',
          idempotencyKey: 'k1',
          op: 1,
          expected: id,
          found: other,
        }),
        expect.objectContaining({ kind: 'replay-differs', idempotencyKey: 'k1', op: 1, firstOp: 0 }),
        expect.objectContaining({
          kind: 'different-body-accepted',
          idempotencyKey: 'k1',
          op: 2,
          expected: 422,
        }),
      ]),
    );
  });

  it('fails when the same body was refused with 422', async () => {
    const { check, body, view } = await keyed();
    const h = history();
    h.add('create', 'ok', { idempotencyKey: 'k1' }, { status: 201, request: body, response: view });
    h.add('create', 'fail', { idempotencyKey: 'k1' }, { status: 422, request: body });
    const r = await check('idempotency-keys', { history: h.ops });
    expect(r.examples).toEqual([expect.objectContaining({ kind: 'same-body-refused', op: 1 })]);
  });

  it('is unknown when no key was used twice', async () => {
    const { check, body, view } = await keyed();
    const h = history();
    h.add('create', 'ok', { idempotencyKey: 'k1' }, { status: 201, request: body, response: view });
    const r = await check('idempotency-keys', { history: h.ops });
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toBe('no Idempotency-Key was used twice');
  });
});
