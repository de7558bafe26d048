// processChunk (system/lib/consumer.ts) seen from outside, on real PostgreSQL and Redis: how many
// times a failing handler is tried before its event is dead-lettered, which failures count as
// constraint violations, that one event's failed statement does not sink the others, what the
// conflict, dead-letter and end-to-end metrics say, and that the dashboards are invalidated before
// and after the commit (and that a refused after-commit invalidation does not undo a committed
// chunk). Written for the mutation score (issue 12): each case fails on mutants the properties let
// through.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { freePort } from '../../harness/stack/ports.ts';
import { seed } from '../../harness/system/seed.ts';
import { type ConsumerGroup, type DomainEvent, dashboardCacheKey } from '../../system/contracts/index.ts';
import { beginAt } from '../../system/lib/clock.ts';
import { processChunk } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool } from '../../system/lib/db.ts';
import { AppError } from '../../system/lib/errors.ts';
import { type DashboardCache, type EventHandler, inboxStatement } from '../../system/lib/inbox.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';
import { sum } from '../support/metric-sum.ts';

const stack = inject('stack');
const log = createLogger('consumer-chunk', 'silent');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: pg.Pool;
let redis: Redis;
let students: string[];

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  const db = await dbs.create();
  ({ students } = await seed(db.url, { students: 4, courses: 1, trainers: 1 }));
  pool = createPool(db.url, 4);
  redis = new Redis(stack.direct.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
  await dbs?.close();
});

function event(studentId: string = randomUUID(), ageMs = 0): DomainEvent {
  const id = randomUUID();
  return {
    eventId: randomUUID(),
    correlationId: id,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date(Date.now() - ageMs).toISOString(),
    payload: { paymentId: id, studentId, courseId: randomUUID(), amountCents: 100, metadata: {} },
  };
}

function run(
  group: ConsumerGroup,
  handler: EventHandler,
  events: readonly DomainEvent[],
  opts: { maxAttempts?: number; dashboards?: DashboardCache } = {},
) {
  return processChunk(
    {
      group,
      pool,
      consumer: null as never,
      producer: null as never,
      handler,
      dashboards: opts.dashboards ?? redisDashboardCache(redis),
      faults: new Set(),
      log,
      clockSkewMs: 0,
      ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
    },
    events.map((e, i) => ({
      message: { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i) } as never,
      event: e,
    })),
  );
}

describe('processChunk', { timeout: 30_000 }, () => {
  it('one call for the whole chunk when the handler succeeds; a permanent failure is replayed event by event, tried 3 times by default, then dead-lettered', async () => {
    const group: ConsumerGroup = 'purchase-worker';
    const sizes: number[] = [];
    const ok: EventHandler = async (_ctx, chunk) => {
      sizes.push(chunk.length);
      return chunk.map(() => 'applied');
    };
    expect((await run(group, ok, [event(), event()])).outcomes).toEqual(['applied', 'applied']);
    expect(sizes).toEqual([2]);

    const bad = event();
    const calls: string[] = [];
    const failing: EventHandler = async (_ctx, chunk) => {
      calls.push(chunk.map((e) => e.eventId).join(','));
      if (chunk.some((e) => e.eventId === bad.eventId)) throw new AppError('handler_error', 'boom', false);
      return chunk.map(() => 'applied');
    };
    const exhausted = () => sum(metrics.retriesExhausted, { component: group, reason: 'handler_error' });
    const violations = () => sum(metrics.constraintViolations, { group });
    const [e0, v0] = [await exhausted(), await violations()];
    const good = event();
    const r = await run(group, failing, [good, bad]);
    expect(r.outcomes).toEqual(['applied', 'dead-lettered']);
    expect(r.dead.map((d) => [d.event?.eventId, d.reason, d.detail])).toEqual([
      [bad.eventId, 'handler_error', 'boom'],
    ]);
    // The chunk once, then each event alone: the good one once, the bad one three times.
    expect(calls).toEqual([
      `${good.eventId},${bad.eventId}`,
      good.eventId,
      bad.eventId,
      bad.eventId,
      bad.eventId,
    ]);
    expect(await exhausted()).toBe(e0 + 1);
    expect(await violations()).toBe(v0); // not a constraint
    // Its inbox row went with it: a redelivery tries it again.
    const inbox = await pool.query(
      'SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)',
      [group, [good.eventId, bad.eventId]],
    );
    expect(inbox.rows).toEqual([{ event_id: good.eventId }]);

    // maxAttempts set: that many tries.
    calls.length = 0;
    await run(group, failing, [event(), bad], { maxAttempts: 1 });
    expect(calls.filter((c) => c === bad.eventId)).toHaveLength(1);
  });

  it('a transient failure is not replayed: the chunk fails at once, for the caller to retry', async () => {
    let calls = 0;
    const flaky: EventHandler = async () => {
      calls++;
      throw new AppError('transient_db', 'connection lost', true);
    };
    await expect(run('purchase-worker', flaky, [event(), event()])).rejects.toMatchObject({
      code: 'transient_db',
    });
    expect(calls).toBe(1);
  });

  it('a failed statement of one event is rolled back to its savepoint: the others commit; a constraint violation is counted', async () => {
    const group: ConsumerGroup = 'allocation-worker';
    const taken = students[0]!;
    const insertStudent: EventHandler = async (ctx, chunk) => {
      for (const e of chunk)
        await ctx.client.query("INSERT INTO students (id, name) VALUES ($1, 'x')", [e.payload.studentId]);
      return chunk.map(() => 'applied');
    };
    const v0 = await sum(metrics.constraintViolations, { group });
    const dup = event(taken);
    const r = await run(group, insertStudent, [dup, event()]);
    expect(r.outcomes).toEqual(['dead-lettered', 'applied']);
    expect(r.dead[0]!.detail).toMatch(
      /^23505 duplicate key value violates unique constraint "students_pkey"/,
    );
    expect(await sum(metrics.constraintViolations, { group })).toBe(v0 + 1);
    expect((await pool.query('SELECT count(*)::int AS n FROM students')).rows[0].n).toBe(5);
  });

  it('counts a conflict the handler absorbed, by constraint', async () => {
    const group: ConsumerGroup = 'session-worker';
    const constraint = `c_${randomUUID().slice(0, 8)}`;
    const absorbing: EventHandler = async (ctx, chunk) => {
      for (const _ of chunk) ctx.onConflict(constraint);
      return chunk.map(() => 'already-done');
    };
    expect((await run(group, absorbing, [event(), event()])).outcomes).toEqual([
      'already-done',
      'already-done',
    ]);
    expect(await sum(metrics.constraintConflicts, { group, constraint })).toBe(2);
  });

  it('observes the end-to-end time of each event it handled, not of duplicates or dead letters', async () => {
    const group: ConsumerGroup = 'cache-worker';
    const count = () => sum(metrics.e2eSeconds, { group }, 'payproof_event_e2e_seconds_count');
    const total = () => sum(metrics.e2eSeconds, { group }, 'payproof_event_e2e_seconds_sum');
    const names = (await metrics.e2eSeconds.get()).values.map(
      (v) => (v as { metricName?: string }).metricName,
    );
    expect(names.some((n) => n?.endsWith('_count'))).toBe(true);
    const [c0, s0] = [await count(), await total()];
    const bad = event();
    const handler: EventHandler = async (_ctx, chunk) => {
      if (chunk.some((e) => e.eventId === bad.eventId)) throw new AppError('handler_error', 'no', false);
      return chunk.map(() => 'applied');
    };
    const old = event(randomUUID(), 5_000);
    const r = await run(group, handler, [old, bad], { maxAttempts: 1 });
    expect(r.outcomes).toEqual(['applied', 'dead-lettered']);
    expect(await count()).toBe(c0 + 1);
    const seconds = (await total()) - s0;
    expect(seconds).toBeGreaterThanOrEqual(4.9);
    expect(seconds).toBeLessThan(60);
    // The same event again is a duplicate (the inbox): nothing observed.
    expect((await run(group, handler, [old])).outcomes).toEqual(['duplicate']);
    expect(await count()).toBe(c0 + 1);
  });

  it('invalidates dashboards before the commit and after it; a refused after-commit invalidation leaves the chunk committed and is counted', async () => {
    const group: ConsumerGroup = 'cache-worker';
    const [before, after] = [randomUUID(), randomUUID()];
    const gen = async (s: string) => Number((await redis.get(`${dashboardCacheKey(s)}:gen`)) ?? 0);
    const [b0, a0] = [await gen(before), await gen(after)];
    const invalidating: EventHandler = async (ctx, chunk) => {
      ctx.invalidateDashboard(before, 'before-commit');
      ctx.invalidateDashboard(after, 'after-commit');
      ctx.invalidateDashboard(after, 'after-commit'); // once per chunk
      return chunk.map(() => 'applied');
    };
    await run(group, invalidating, [event()]);
    expect([await gen(before), await gen(after)]).toEqual([b0 + 1, a0 + 1]);

    // A real client to a port nobody listens on: every invalidation is refused.
    const dead = new Redis({
      port: await freePort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    try {
      const afterOnly: EventHandler = async (ctx, chunk) => {
        ctx.invalidateDashboard(after, 'after-commit');
        return chunk.map(() => 'applied');
      };
      const failed = () =>
        sum(metrics.retriesExhausted, { component: group, reason: 'after_commit_invalidation' });
      const f0 = await failed();
      const e = event();
      const r = await run(group, afterOnly, [e], { dashboards: redisDashboardCache(dead) });
      expect(r.outcomes).toEqual(['applied']);
      expect(await failed()).toBe(f0 + 1);
      const inbox = await pool.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [
        group,
        e.eventId,
      ]);
      expect(inbox.rowCount).toBe(1);
      // Before the commit, a refusal fails the chunk: nothing committed, the caller retries.
      const beforeOnly: EventHandler = async (ctx, chunk) => {
        ctx.invalidateDashboard(before, 'before-commit');
        return chunk.map(() => 'applied');
      };
      const e2 = event();
      await expect(
        run(group, beforeOnly, [e2], { dashboards: redisDashboardCache(dead) }),
      ).rejects.toMatchObject({
        code: 'transient_cache',
      });
      const none = await pool.query('SELECT 1 FROM processed_events WHERE event_id = $1', [e2.eventId]);
      expect(none.rowCount).toBe(0);
    } finally {
      dead.disconnect();
    }
  });
});

describe('the inbox insert in the BEGIN round trip', () => {
  it('inlines every value as an escaped literal: a hostile one is stored verbatim, never run', async () => {
    // The simple protocol takes no parameters. Event ids and types are validated by the schema
    // before they get here; the statement escapes them all the same.
    const hostile = "PURCHASE_CONFIRMED'); DELETE FROM processed_events; --";
    const e = { ...event(), eventType: hostile } as unknown as DomainEvent;
    const old = event();
    await pool.query(
      `INSERT INTO processed_events (consumer, event_id, event_type) VALUES ('purchase-worker', $1, 'PURCHASE_CONFIRMED')`,
      [old.eventId],
    );
    const client = await pool.connect();
    try {
      const begun = await beginAt<{ event_id: string }>(
        client,
        0,
        inboxStatement('purchase-worker', [e, old, e]),
      );
      expect(begun.now).toBeInstanceOf(Date);
      // New once even though the chunk holds it twice; the id already in the inbox is not new.
      expect(begun.rows.map((r) => r.event_id)).toEqual([e.eventId]);
      const stored = await client.query('SELECT event_type FROM processed_events WHERE event_id = $1', [
        e.eventId,
      ]);
      expect(stored.rows).toEqual([{ event_type: hostile }]);
      const kept = await client.query('SELECT 1 FROM processed_events WHERE event_id = $1', [old.eventId]);
      expect(kept.rowCount).toBe(1);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    // Inside the transaction it began: rolled back, nothing of it stays.
    const after = await pool.query('SELECT 1 FROM processed_events WHERE event_id = $1', [e.eventId]);
    expect(after.rowCount).toBe(0);
  });
});
