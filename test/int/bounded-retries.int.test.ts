// Operational robustness (issue 13), on real PostgreSQL and Redis: a condition only time can fix
// is retried, but once its retries ran out the event still failing is dead-lettered alone
// (retries_exhausted) while the rest of its chunk commits, whereas an infrastructure error is never
// dead-lettered; invalidations Redis refuses are parked in pending_invalidations and delivered by
// the sweeper once Redis answers, bumping the dashboard's generation.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScratchDatabase, scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { freePort } from '../../harness/stack/ports.ts';
import { type DomainEvent, dashboardCacheKey } from '../../system/contracts/index.ts';
import { processChunk } from '../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../system/lib/dashboard-cache.ts';
import { createPool } from '../../system/lib/db.ts';
import { AppError } from '../../system/lib/errors.ts';
import type { EventHandler } from '../../system/lib/inbox.ts';
import { createLogger } from '../../system/lib/log.ts';
import { ParkingDashboardCache } from '../../system/lib/pending-invalidations.ts';

const stack = inject('stack');
const log = createLogger('bounded-retries', 'silent');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let db: ScratchDatabase;
let pool: pg.Pool;
let redis: Redis;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  db = await dbs.create();
  pool = createPool(db.url, 4);
  redis = new Redis(stack.direct.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
  await dbs?.close();
});

function event(): DomainEvent {
  const id = randomUUID();
  return {
    eventId: randomUUID(),
    correlationId: id,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: {
      paymentId: id,
      studentId: randomUUID(),
      courseId: randomUUID(),
      amountCents: 100,
      metadata: {},
    },
  };
}

function run(handler: EventHandler, events: readonly DomainEvent[], exhausted: boolean) {
  return processChunk(
    {
      group: 'purchase-worker',
      pool,
      consumer: null as never,
      producer: null as never,
      handler,
      dashboards: redisDashboardCache(redis),
      faults: new Set(),
      log,
      clockSkewMs: 0,
      maxAttempts: 2,
    },
    events.map((e, i) => ({
      message: { key: null, value: Buffer.from(JSON.stringify(e)), offset: String(i) } as never,
      event: e,
    })),
    { exhausted },
  );
}

describe('bounded retries', () => {
  it('a contended event is retried, then dead-lettered alone as retries_exhausted; the others commit', async () => {
    const [a, b, c] = [event(), event(), event()];
    const contended: EventHandler = async (_ctx, events) =>
      events.map((e) => {
        if (e.eventId === b.eventId)
          throw new AppError('capacity_contended', 'every trainer with capacity is being allocated', true);
        return 'applied';
      });
    await expect(run(contended, [a, b, c], false)).rejects.toMatchObject({ code: 'capacity_contended' });
    const r = await run(contended, [a, b, c], true);
    expect(r.outcomes).toEqual(['applied', 'dead-lettered', 'applied']);
    expect(r.dead.map((d) => d.reason)).toEqual(['retries_exhausted']);
    const inbox = await pool.query<{ event_id: string }>(
      'SELECT event_id FROM processed_events WHERE event_id = ANY($1::uuid[])',
      [[a.eventId, b.eventId, c.eventId]],
    );
    // The dead-lettered one has no inbox row: a redelivery (a replay of the DLQ) handles it again.
    expect(inbox.rows.map((x) => x.event_id).sort()).toEqual([a.eventId, c.eventId].sort());
  });

  it('an infrastructure error is retried without bound, never dead-lettered', async () => {
    const away: EventHandler = async () => {
      throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' });
    };
    await expect(run(away, [event()], true)).rejects.toThrow('Connection terminated');
  });
});

describe('invalidations Redis refuses', () => {
  it('are parked in pending_invalidations, then delivered by the sweeper once Redis answers', async () => {
    // A real client to a port nobody listens on: Redis refuses, as in a partition.
    const dead = new Redis({
      port: await freePort(),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const students = [randomUUID(), randomUUID()];
    const refused = new ParkingDashboardCache(redisDashboardCache(dead), pool, log);
    await refused.invalidate(students);
    const parked = await pool.query<{ student_id: string }>('SELECT student_id FROM pending_invalidations');
    expect(parked.rows.map((r) => r.student_id).sort()).toEqual([...students].sort());
    // Still away: a sweep fails and keeps every row.
    await expect(refused.sweep()).rejects.toThrow();
    expect((await pool.query('SELECT 1 FROM pending_invalidations')).rowCount).toBe(2);
    dead.disconnect();

    const gens = () => Promise.all(students.map((s) => redis.get(`${dashboardCacheKey(s)}:gen`)));
    const before = await gens();
    await redis.set(dashboardCacheKey(students[0]!), 'stale view');
    const back = new ParkingDashboardCache(redisDashboardCache(redis), pool, log);
    expect(await back.sweep()).toBe(2);
    expect((await pool.query('SELECT 1 FROM pending_invalidations')).rowCount).toBe(0);
    const after = await gens();
    expect(after.map(Number)).toEqual(before.map((g) => Number(g ?? 0) + 1));
    expect(await redis.get(dashboardCacheKey(students[0]!))).toBeNull();
  });
});
