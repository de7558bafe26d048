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
