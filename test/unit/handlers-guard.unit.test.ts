// Each handler refuses an event of a type it does not consume, before touching the database: a
// permanent handler_error (dead-lettered after the bounded attempts), never a transient one (which
// would be retried forever). The consumer framework only hands a group the types it reads, so only
// a direct call exercises this guard (it kills the mutants that drop it; issue 12).
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../system/contracts/index.ts';
import { AppError } from '../../system/lib/errors.ts';
import type { ChunkContext, EventHandler } from '../../system/lib/inbox.ts';
import { handlePurchaseCreated } from '../../system/workers/allocation/handler.ts';
import { handleCacheEvent } from '../../system/workers/cache/handler.ts';
import { handlePurchaseConfirmed } from '../../system/workers/purchase/handler.ts';
import { handleTrainerAllocated } from '../../system/workers/session/handler.ts';

const ids = {
  a: '00000000-0000-4000-8000-000000000001',
  b: '00000000-0000-4000-8000-000000000002',
  c: '00000000-0000-4000-8000-000000000003',
};

const confirmed: DomainEvent = {
  eventId: ids.a,
  correlationId: ids.b,
  causationId: null,
  eventType: 'PURCHASE_CONFIRMED',
  version: 1,
  timestamp: '2026-11-30T00:00:00.000Z',
  payload: { paymentId: ids.b, studentId: ids.c, courseId: ids.a, amountCents: 100, metadata: {} },
};

function ctxFor(): { ctx: ChunkContext; queries: string[]; invalidated: string[] } {
  const queries: string[] = [];
  const invalidated: string[] = [];
  const ctx = {
    client: {
      query: async (sql: string) => {
        queries.push(sql);
        return { rows: [], rowCount: 0 };
      },
    },
    group: 'cache-worker',
    now: new Date('2026-11-30T00:00:00Z'),
    faults: new Set(),
    log: { info: () => {}, warn: () => {} },
    onConflict: () => {},
    invalidateDashboard: (studentId: string) => void invalidated.push(studentId),
  } as unknown as ChunkContext;
  return { ctx, queries, invalidated };
}

describe('a handler given a type it does not consume', () => {
  const cases: [string, EventHandler, DomainEvent][] = [
    ['allocation', handlePurchaseCreated, confirmed],
    ['session', handleTrainerAllocated, confirmed],
    ['cache', handleCacheEvent, confirmed],
    [
      'purchase',
      handlePurchaseConfirmed,
      { ...confirmed, eventType: 'PURCHASE_CREATED' } as unknown as DomainEvent,
    ],
  ];
  it.each(cases)(
    '%s worker: a permanent handler_error naming the type, nothing queried',
    async (_, handler, event) => {
      const { ctx, queries, invalidated } = ctxFor();
      const err = await handler(ctx, [event]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'handler_error', retriable: false });
      expect((err as Error).message).toBe(`unexpected ${event.eventType}`);
      expect(queries).toEqual([]);
      expect(invalidated).toEqual([]);
    },
  );
});

describe('the cache worker', () => {
  it('invalidates the dashboard of the student each event names, before its commit, and says applied per event', async () => {
    const created = {
      ...confirmed,
      eventType: 'PURCHASE_CREATED',
      payload: { purchaseId: ids.a, studentId: ids.c, courseId: ids.b, purchaseTier: 1, metadata: {} },
    } as unknown as DomainEvent;
    const calls: [string, string][] = [];
    const { ctx } = ctxFor();
    const withWhen = {
      ...ctx,
      invalidateDashboard: (s: string, when: string) => void calls.push([s, when]),
    } as ChunkContext;
    expect(await handleCacheEvent(withWhen, [created, created])).toEqual(['applied', 'applied']);
    expect(calls).toEqual([
      [ids.c, 'before-commit'],
      [ids.c, 'before-commit'],
    ]);
  });
});

describe('the session worker, on allocations as the database has them', () => {
  const allocated = (allocationId: string) =>
    ({
      ...confirmed,
      eventId: allocationId,
      eventType: 'TRAINER_ALLOCATED',
      payload: {
        allocationId,
        trainerId: ids.a,
        studentId: ids.c,
        courseId: ids.b,
        sessionCount: 3,
        startDate: '2026-12-01',
      },
    }) as unknown as DomainEvent;
  const live = '00000000-0000-4000-8000-0000000000a1';
  const active = '00000000-0000-4000-8000-0000000000a2';
  const dead = '00000000-0000-4000-8000-0000000000a3';
  const done = '00000000-0000-4000-8000-0000000000a4';

  /** A client whose SELECT returns these allocations and whose insert reports `created` per id. */
  function sessionCtx(statuses: Record<string, string>, created: Record<string, number>) {
    const inserted: string[][] = [];
    const calls = { invalidated: [] as [string, string][], conflicts: [] as string[] };
    const client = {
      query: async (sql: string, params: unknown[]) => {
        if (sql.trimStart().startsWith('SELECT'))
          return {
            rows: Object.entries(statuses).map(([id, status]) => ({
              id,
              status,
              trainer_id: ids.a,
              student_id: ids.c,
              start_date: '2026-12-01',
              session_count: 3,
            })),
          };
        const allocationIds = params[0] as string[];
        inserted.push(allocationIds);
        return {
          rows: allocationIds
            .filter((id) => created[id])
            .map((id) => ({ allocation_id: id, n: created[id] })),
        };
      },
    };
    const ctx = {
      ...ctxFor().ctx,
      client,
      onConflict: (c: string) => void calls.conflicts.push(c),
      invalidateDashboard: (s: string, when: string) => void calls.invalidated.push([s, when]),
    } as unknown as ChunkContext;
    return { ctx, inserted, calls };
  }

  it('schedules only live (approved or active) allocations; a dead one is already done', async () => {
    const { ctx, inserted, calls } = sessionCtx(
      { [live]: 'approved', [active]: 'active', [dead]: 'cancelled' },
      { [live]: 2, [active]: 1 },
    );
    const out = await handleTrainerAllocated(ctx, [allocated(live), allocated(active), allocated(dead)]);
    expect(out).toEqual(['applied', 'applied', 'already-done']);
    expect(inserted).toEqual([[live, active]]);
    // After its own commit (the sessions are on the dashboard), never before.
    expect(calls.invalidated).toEqual([
      [ids.c, 'after-commit'],
      [ids.c, 'after-commit'],
    ]);
    expect(calls.conflicts).toEqual([]);
  });

  it('an allocation whose sessions all exist is already done: a conflict, no invalidation', async () => {
    const { ctx, calls } = sessionCtx({ [done]: 'approved' }, {});
    expect(await handleTrainerAllocated(ctx, [allocated(done)])).toEqual(['already-done']);
    expect(calls.invalidated).toEqual([]);
    expect(calls.conflicts).toEqual(['tutoring_sessions_allocation_id_scheduled_date_scheduled_time_key']);
  });

  it('one allocation twice in a chunk: applied once, the second copy already done', async () => {
    const { ctx, calls } = sessionCtx({ [live]: 'approved' }, { [live]: 3 });
    expect(await handleTrainerAllocated(ctx, [allocated(live), allocated(live)])).toEqual([
      'applied',
      'already-done',
    ]);
    expect(calls.invalidated).toEqual([[ids.c, 'after-commit']]);
  });

  it('an unknown allocation is a permanent handler_error naming it', async () => {
    const { ctx } = sessionCtx({}, {});
    await expect(handleTrainerAllocated(ctx, [allocated(live)])).rejects.toMatchObject({
      code: 'handler_error',
      retriable: false,
      message: `unknown allocation ${live}`,
    });
  });
});
