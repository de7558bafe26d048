// The real side of the model-based property: a fresh database with the real API (buildApp +
// app.inject), the real relay publishing into an in-memory bus, the real handlers run through the
// real consumer framework (processChunk), the real top-up job. Deliveries are sequential and in a
// fixed group order so that the model can predict every outcome; crashes are injected into single
// chunks. `project()` reads the state back in the model's vocabulary.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { expect } from 'vitest';
import type { ScratchDatabase } from '../../../harness/checker/scratch-database.ts';
import { providerEvent, signedWebhook } from '../../../harness/lib/provider.ts';
import type { ProviderWebhook } from '../../../system/contracts/index.ts';
import {
  allocationIdFor,
  cadenceDays,
  consumerGroups,
  type DomainEvent,
  type EventType,
  eventIdFor,
  isoDate,
  parseEvent,
  purchaseIdFor,
  refundIdFor,
  sessionTime,
  streamKey,
  topics,
} from '../../../system/contracts/index.ts';
import { processChunk } from '../../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../../system/lib/dashboard-cache.ts';
import type { Pool, PoolClient } from '../../../system/lib/db.ts';
import type { FaultSet } from '../../../system/lib/faults.ts';
import type { EventHandler } from '../../../system/lib/inbox.ts';
import { createLogger } from '../../../system/lib/log.ts';
import { handleEntries } from '../../../system/lib/stream-consumer.ts';
import { TransportBreaker } from '../../../system/relay/breaker.ts';
import { relayOnce, relayToStreamsOnce } from '../../../system/relay/relay.ts';
import { handlePurchaseCreated } from '../../../system/workers/allocation/handler.ts';
import { handleCacheEvent } from '../../../system/workers/cache/handler.ts';
import { handlePurchaseWorkerChunk as handlePurchaseConfirmed } from '../../../system/workers/purchase/handler.ts';
import { handleTrainerAllocated } from '../../../system/workers/session/handler.ts';
import { topUp } from '../../../system/workers/session/topup.ts';
import { Bus, type BusRecord } from '../sim/bus.ts';
import type { RunStats } from '../sim/run-scenario.ts';
import { World, type WorldShape } from '../sim/world.ts';
import {
  byTopic,
  type EventKey,
  eventKey,
  type FlowModel,
  type Group,
  groups,
  type Projection,
  project,
} from './model.ts';

const dayMs = 86_400_000;
const log = createLogger('model-property', 'silent');

export interface RealEnv {
  readonly dbs: { create(): Promise<ScratchDatabase> };
  readonly redis: Redis;
  /** Planted bugs (PAYPROOF_FAULTS): with any of them the property must fail. */
  readonly faults: FaultSet;
}

/** A pool whose next transaction fails at its `failAt`-th statement, or at COMMIT if it has fewer. */
function failingPool(real: pg.Pool, failAt: number): Pool {
  return {
    connect: async () => {
      const c = await real.connect();
      let n = 0;
      let failed = false;
      return {
        query: async (text: string, params?: unknown[]) => {
          if (!failed && !text.startsWith('ROLLBACK') && (++n >= failAt || text === 'COMMIT')) {
            failed = true;
            throw Object.assign(new Error('injected: connection lost mid-transaction'), { code: '57P01' });
          }
          return c.query(text, params);
        },
        release: (err?: Error | boolean) => c.release(err),
      } as unknown as PoolClient;
    },
  } as unknown as Pool;
}

export class RealFlow {
  readonly world: World;
  /** Index in the bus log up to which each group has committed its offsets. */
  readonly cursor: Record<Group, number> = {
    'purchase-worker': 0,
    'allocation-worker': 0,
    'session-worker': 0,
    'cache-worker': 0,
  };
  /**
   * Issue 15: the Redis Streams of the fallback, in memory (one log, stream keys as its topics),
   * and how far each group has read and acknowledged them.
   */
  readonly streams = new Bus();
  readonly streamCursor: Record<Group, number> = {
    'purchase-worker': 0,
    'allocation-worker': 0,
    'session-worker': 0,
    'cache-worker': 0,
  };
  readonly paymentIds: string[] = [];
  readonly providerIds: string[] = [];
  /** The answer to each payment's first successful confirm. */
  readonly confirmed: (Record<string, unknown> | undefined)[] = [];
  /** What the run exercised, for the checker's vacuity rules and the report. */
  readonly stats: RunStats = {
    deliveries: 0,
    duplicatesDelivered: 0,
    outOfOrder: 0,
    abortedTransactions: 0,
    redeliveredChunks: 0,
    relayRetries: 0,
    deadLettered: 0,
    dashboardReads: 0,
    duplicatesByType: {},
  };
  /** Commands run, by name (for the report). */
  readonly commandsRun: Record<string, number> = {};
  /** Events at most `chunkSize` to a transaction. */
  readonly chunkSize: number;
  readonly #handlers: Record<Group, EventHandler>;
  readonly #names = new Map<string, EventKey>();
  readonly #ids = new Map<EventKey, string>();
  #baseOffsetMs = 0;
  #day0 = '';

  readonly faults: FaultSet;

  private constructor(world: World, _redis: Redis, chunkSize: number, faults: FaultSet) {
    this.world = world;
    this.faults = faults;
    this.chunkSize = chunkSize;
    this.#handlers = {
      'purchase-worker': handlePurchaseConfirmed,
      'allocation-worker': handlePurchaseCreated,
      'session-worker': handleTrainerAllocated,
      'cache-worker': handleCacheEvent,
    };
  }

  static async create(env: RealEnv, shape: WorldShape, chunkSize: number): Promise<RealFlow> {
    const db = await env.dbs.create();
    const world = await World.create(db, env.redis, shape, undefined, undefined, env.faults);
    const real = new RealFlow(world, env.redis, chunkSize, env.faults);
    // Day 0 of the app clock at noon: a run never crosses an app-clock midnight by itself, so
    // "days advanced" alone decides every date, as in the model.
    const r = await world.pool.query<{ ms: string }>(
      'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
    );
    const wall = Number(r.rows[0]!.ms);
    const noon = Math.floor(wall / dayMs) * dayMs + dayMs / 2;
    real.#baseOffsetMs = noon - wall;
    real.#day0 = isoDate(new Date(noon));
    await world.pool.query('UPDATE app_clock SET offset_ms = $1', [real.#baseOffsetMs]);
    return real;
  }

  async close(): Promise<void> {
    await this.world.close();
    await this.world.db.drop();
  }

  // --- the API ----------------------------------------------------------------------------

  async create(student: number, course: number): Promise<number> {
    const studentId = this.world.students[student]!;
    const courseId = this.world.courses[course]!;
    const ids = { studentId, courseId };
    const res = await this.world.call('create', 'POST', '/payments', { ...ids }, {}, ids);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const paymentId = res.body.id as string;
    const index = this.paymentIds.push(paymentId) - 1;
    this.providerIds.push(`pp_${randomUUID()}`);
    const purchaseId = purchaseIdFor(paymentId);
    this.#name(eventKey('PURCHASE_CONFIRMED', index), eventIdFor('PURCHASE_CONFIRMED', paymentId));
    this.#name(
      eventKey('PAYMENT_REFUND_REQUESTED', index),
      eventIdFor('PAYMENT_REFUND_REQUESTED', refundIdFor(this.providerIds[index]!)),
    );
    this.#name(eventKey('PURCHASE_CREATED', index), eventIdFor('PURCHASE_CREATED', purchaseId));
    this.#name(
      eventKey('TRAINER_ALLOCATED', index),
      eventIdFor('TRAINER_ALLOCATED', allocationIdFor(purchaseId)),
    );
    // A cached dashboard that the cache worker must invalidate later (judged by the checker).
    expect((await this.readDashboard(student)).status).toBe(200);
    return index;
  }

  /** GET the student's dashboard (read through the Redis cache, which it may fill). */
  readDashboard(student: number) {
    const studentId = this.world.students[student]!;
    this.stats.dashboardReads++;
    return this.world.call(
      'dashboard',
      'GET',
      `/students/${studentId}/dashboard`,
      undefined,
      {},
      { studentId },
    );
  }

  #name(key: EventKey, id: string) {
    this.#names.set(id, key);
    this.#ids.set(key, id);
  }

  /** Confirms a pending payment: 200, succeeded, with its providerPaymentId; remembers the answer. */
  async confirmPending(payment: number): Promise<void> {
    const res = await this.confirm(payment);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', providerPaymentId: this.providerIds[payment] });
    this.confirmed[payment] = res.body;
  }

  /** The provider's capture event of a payment (one per payment: a re-confirm is its redelivery). */
  #captureEvents = new Map<number, ProviderWebhook>();

  /** The provider delivers the payment's capture (its own providerPaymentId), signed. */
  confirm(payment: number) {
    const paymentId = this.paymentIds[payment]!;
    const providerPaymentId = this.providerIds[payment]!;
    let event = this.#captureEvents.get(payment);
    if (!event) {
      event = providerEvent({ id: paymentId, amountCents: 4900, currency: 'EUR' }, { providerPaymentId });
      this.#captureEvents.set(payment, event);
    }
    return this.#deliver(event);
  }

  /** A provider event capturing `thief` under `victim`'s providerPaymentId. */
  confirmWithStolenId(thief: number, victim: number) {
    return this.#deliver(
      providerEvent(
        { id: this.paymentIds[thief]!, amountCents: 4900, currency: 'EUR' },
        { providerPaymentId: this.providerIds[victim]! },
      ),
    );
  }

  /** POSTs a provider event, signed, recorded as a confirm with the capture's ids. */
  #deliver(event: ProviderWebhook) {
    const w = signedWebhook(event);
    return this.world.call('confirm', 'POST', w.path, w.json, w.headers, {
      paymentId: event.data.paymentId,
      providerPaymentId: event.data.providerPaymentId,
      providerEventId: event.id,
      providerEventType: event.type,
      capturedCents: String(event.data.amountCents),
    });
  }

  async advanceClock(days: number): Promise<void> {
    await this.world.pool.query('UPDATE app_clock SET offset_ms = offset_ms + $1::bigint', [days * dayMs]);
  }

  // --- the relay and the consumers -----------------------------------------------------------

  async relayAll(): Promise<void> {
    const producer = this.world.bus.producer();
    for (let i = 0; i < 1_000; i++)
      if (
        (await relayOnce({ pool: this.world.pool, producer, faults: this.faults, log, batchSize: 7 })) === 0
      )
        return;
    throw new Error('the relay did not drain the outbox');
  }

  /**
   * A Redis for the real fallback code: pipelined XADD appends to the in-memory streams, XACK is
   * counted (the cursor moves only after handleEntries acknowledged).
   */
  #fakeRedis() {
    const streams = this.streams;
    return {
      pipeline() {
        const ops: (() => string)[] = [];
        const p = {
          xadd(key: string, ...args: (string | number)[]) {
            const fields = args.slice(args.indexOf('*') + 1).map(String);
            const f = new Map<string, string>();
            for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
            ops.push(() => {
              const r = streams.append(key, f.get('key') ?? null, f.get('value') ?? '');
              return `${r.offset + 1}-0`;
            });
            return p;
          },
          exec: async () => ops.map((op) => [null, op()] as [null, string]),
        };
        return p;
      },
      xack: async (_key: string, _group: string, ...ids: string[]) => ids.length,
    } as unknown as Redis;
  }

  /** The relay on the fallback: every row in no transport yet to its stream, through the real code. */
  async relayToStreamsAll(): Promise<void> {
    const redis = this.#fakeRedis();
    const fallback = {
      redis,
      breaker: new TransportBreaker({ openAfterMs: 0, closeAfterMs: 0 }),
      probeKafka: async () => {},
    };
    for (let i = 0; i < 1_000; i++)
      if (
        (await relayToStreamsOnce({
          pool: this.world.pool,
          producer: null as never,
          faults: this.faults,
          log,
          batchSize: 7,
          fallback,
        })) === 0
      )
        return;
    throw new Error('the relay did not drain the outbox to the streams');
  }

  /**
   * Kafka unreachable: the relay appends to the streams, then every group takes its streams in
   * order, in chunks of consecutive entries of one stream, through the real stream consumer
   * (handleEntries: processChunk, then XACK).
   */
  async fallbackRound(): Promise<void> {
    await this.relayToStreamsAll();
    const redis = this.#fakeRedis();
    for (const g of groups) {
      const read = (consumerGroups[g] as readonly EventType[]).map((t) => streamKey(topics[t]));
      const entries = this.streams.since(this.streamCursor[g], read);
      this.streamCursor[g] = this.streams.records.length;
      for (let i = 0; i < entries.length; ) {
        let j = i + 1;
        while (j < entries.length && j - i < this.chunkSize && entries[j]!.topic === entries[i]!.topic) j++;
        const chunk = entries.slice(i, j);
        this.stats.deliveries += chunk.length;
        const { acked, outcomes } = await handleEntries(
          {
            group: g,
            pool: this.world.pool,
            handler: this.#handlers[g],
            dashboards: redisDashboardCache(this.world.redis),
            faults: this.faults,
            log,
            clockSkewMs: 0,
            maxAttempts: 3,
            redis,
            consumerName: 'property',
          },
          chunk[0]!.topic,
          chunk.map((r) => ({ stream: r.topic, id: `${r.offset + 1}-0`, key: r.key, value: r.value })),
        );
        if (!acked || outcomes.includes('dead-lettered'))
          throw new Error(`${g} did not handle its stream entries: ${outcomes.join(', ')}`);
        this.#countDuplicates(chunk, outcomes);
        i = j;
      }
    }
  }

  /** The records a group has not committed yet, in log order. */
  backlog(group: Group): BusRecord[] {
    const read = (consumerGroups[group] as readonly EventType[]).map((t) => topics[t]);
    return this.world.bus.since(this.cursor[group], read);
  }

  /** One chunk in one transaction through the real consumer framework. */
  async process(group: Group, records: readonly BusRecord[], pool: Pool = this.world.pool) {
    const accepted = consumerGroups[group] as readonly EventType[];
    const events = records.map((r) => {
      const parsed = parseEvent(r.value, accepted);
      if (!parsed.ok) throw new Error(`${group} got an invalid record: ${parsed.detail}`);
      return {
        message: { key: r.key, value: r.value, offset: String(r.offset) } as never,
        event: parsed.event,
      };
    });
    this.stats.deliveries += events.length;
    const { outcomes, dead } = await processChunk(
      {
        group,
        pool,
        consumer: null as never,
        producer: null as never,
        handler: this.#handlers[group],
        dashboards: redisDashboardCache(this.world.redis),
        faults: this.faults,
        log,
        clockSkewMs: 0,
        maxAttempts: 3,
      },
      events,
    );
    if (dead.length > 0)
      throw new Error(`${group} dead-lettered: ${dead.map((d) => `${d.reason}: ${d.detail}`).join('; ')}`);
    return outcomes;
  }

  /** Every group takes its whole backlog, in order or reversed, in chunks, and commits it. */
  async deliverRound(reversed: boolean): Promise<void> {
    await this.relayAll();
    for (const g of groups) {
      const batch = this.backlog(g);
      this.cursor[g] = this.world.bus.records.length;
      if (reversed) {
        batch.reverse();
        this.stats.outOfOrder += Math.max(0, batch.length - 1);
      }
      for (let i = 0; i < batch.length; i += this.chunkSize) {
        const outcomes = await this.process(g, batch.slice(i, i + this.chunkSize));
        this.#countDuplicates(batch.slice(i, i + this.chunkSize), outcomes);
      }
    }
  }

  #countDuplicates(records: readonly BusRecord[], outcomes: readonly string[]) {
    outcomes.forEach((o, i) => {
      if (o !== 'duplicate') return;
      this.stats.duplicatesDelivered++;
      const type = (JSON.parse(records[i]!.value) as DomainEvent).eventType;
      const k = `duplicatesDelivered:${type}`;
      this.stats.duplicatesByType[k] = (this.stats.duplicatesByType[k] ?? 0) + 1;
    });
  }

  /**
   * A worker of `group` dies on its whole backlog: mid-transaction at statement `failAt` (nothing
   * committed), or after its commit and before its offset commit (the chunk will come again).
   */
  async killWorker(group: Group, mode: 'abort' | 'after-commit', failAt: number): Promise<void> {
    await this.relayAll();
    const batch = this.backlog(group);
    if (mode === 'abort') {
      await expect(this.process(group, batch, failingPool(this.world.pool, failAt))).rejects.toThrow(
        'injected: connection lost mid-transaction',
      );
      this.stats.abortedTransactions++;
    } else {
      await this.process(group, batch);
      this.stats.redeliveredChunks++;
    }
  }

  /** Delivers one copy of an event the group has already processed; it must be a duplicate. */
  async redeliver(group: Group, key: EventKey): Promise<void> {
    const id = this.#ids.get(key);
    const read: readonly string[] = (consumerGroups[group] as readonly EventType[]).map((t) => topics[t]);
    // A copy from Kafka, or (issue 15) from the fallback's streams when it went only through them.
    const streams = read.map(streamKey);
    const record =
      this.world.bus.records.find(
        (r) => read.includes(r.topic) && (JSON.parse(r.value) as DomainEvent).eventId === id,
      ) ??
      this.streams.records.find(
        (r) => streams.includes(r.topic) && (JSON.parse(r.value) as DomainEvent).eventId === id,
      );
    if (!record) throw new Error(`${key} (${id}) was never published to ${group}`);
    const outcomes = await this.process(group, [record]);
    this.#countDuplicates([record], outcomes);
    expect(outcomes, `${group} redelivered ${key}`).toEqual(['duplicate']);
  }

  async topUp(instances: number): Promise<void> {
    await Promise.all(
      Array.from({ length: instances }, () =>
        topUp(this.world.pool, redisDashboardCache(this.world.redis), { batch: 2 }),
      ),
    );
  }

  // --- the projection -----------------------------------------------------------------------

  #key(eventId: string): EventKey {
    return this.#names.get(eventId) ?? (`unknown#${eventId}` as EventKey);
  }

  #pair(studentId: string, courseId: string): string {
    return `s${this.world.students.indexOf(studentId)}/c${this.world.courses.indexOf(courseId)}`;
  }

  #payment(id: string): string {
    const i = this.paymentIds.indexOf(id);
    return i < 0 ? `unknown ${id}` : `p${i}`;
  }

  async project(): Promise<Projection> {
    // One statement, one snapshot: every part of the projection as of the same instant.
    const { rows } = await this.world.pool.query<{
      clock: string;
      payments: { id: string; status: string }[];
      outbox: { event_id: string; pending: boolean }[];
      processed: { consumer: string; event_id: string }[];
      purchases: { student_id: string; course_id: string; payment_id: string; is_active: boolean }[];
      allocations: {
        student_id: string;
        course_id: string;
        status: string;
        payment_id: string;
        day: number;
        sessions: number;
        misplaced: number;
      }[];
      load: number;
      inconsistent: number;
      refunds: string[];
    }>(
      `SELECT
         (SELECT offset_ms FROM app_clock) AS clock,
         (SELECT coalesce(json_agg(json_build_object('id', id, 'status', status)), '[]') FROM payments) AS payments,
         (SELECT coalesce(json_agg(json_build_object('event_id', event_id, 'pending', published_at IS NULL) ORDER BY id), '[]')
            FROM outbox) AS outbox,
         (SELECT coalesce(json_agg(json_build_object('consumer', consumer, 'event_id', event_id)), '[]')
            FROM processed_events) AS processed,
         (SELECT coalesce(json_agg(json_build_object('student_id', student_id, 'course_id', course_id,
                   'payment_id', payment_id, 'is_active', is_active)), '[]')
            FROM student_course_purchases) AS purchases,
         (SELECT coalesce(json_agg(x), '[]') FROM (
            SELECT a.student_id, a.course_id, a.status, p.payment_id, (a.start_date - $1::date) AS day,
                   count(s.allocation_id)::int AS sessions,
                   count(s.allocation_id) FILTER (WHERE s.scheduled_date <> a.start_date + (s.seq - 1) * $2::int
                     OR s.scheduled_time <> $3::time OR s.seq > a.session_count)::int AS misplaced
              FROM trainer_allocations a JOIN student_course_purchases p ON p.id = a.purchase_id
              LEFT JOIN tutoring_sessions s ON s.allocation_id = a.id
             GROUP BY a.id, p.payment_id) x) AS allocations,
         (SELECT coalesce(sum(active_allocations), 0)::int FROM trainers) AS load,
         (SELECT coalesce(json_agg(payment_id), '[]') FROM refund_requests) AS refunds,
         (SELECT count(*)::int FROM trainers t WHERE t.active_allocations > t.capacity OR t.active_allocations <>
            (SELECT count(*) FROM trainer_allocations a
              WHERE a.trainer_id = t.id AND a.status IN ('approved', 'active'))) AS inconsistent`,
      [this.#day0, cadenceDays, sessionTime],
    );
    const { clock, payments, outbox, processed, purchases, allocations, load, inconsistent, refunds } =
      rows[0]!;
    const statuses: string[] = this.paymentIds.map(() => 'missing');
    for (const p of payments) {
      const i = this.paymentIds.indexOf(p.id);
      if (i < 0) statuses.push(`unknown ${p.id} ${p.status}`);
      else statuses[i] = p.status;
    }
    return {
      clockDays: (Number(clock) - this.#baseOffsetMs) / dayMs,
      payments: statuses,
      outbox: outbox.map((r) => this.#key(r.event_id)),
      unpublished: outbox.filter((r) => r.pending).length,
      backlog: Object.fromEntries(
        groups.map((g) => [
          g,
          byTopic(this.backlog(g).map((r) => this.#key((JSON.parse(r.value) as DomainEvent).eventId))),
        ]),
      ) as Record<Group, EventKey[]>,
      processed: processed.map((r) => `${r.consumer} ${this.#key(r.event_id)}`).sort(),
      purchases: purchases
        .map(
          (p) =>
            `${this.#pair(p.student_id, p.course_id)} <- ${this.#payment(p.payment_id)} ${p.is_active ? 'active' : 'inactive'}`,
        )
        .sort(),
      allocations: allocations
        .map(
          (a) =>
            `${this.#pair(a.student_id, a.course_id)} ${a.status} ${this.#payment(a.payment_id)} day${a.day} sessions=${a.sessions}`,
        )
        .sort(),
      refunds: refunds.map((id) => this.#payment(id)).sort(),
      trainerLoad: load,
      trainersInconsistent: inconsistent,
      misplacedSessions: allocations.reduce((n, a) => n + a.misplaced, 0),
    };
  }
}

/** The check after every command: the real state, projected, equals the model's. */
export async function expectMatch(model: FlowModel, real: RealFlow, after: string): Promise<void> {
  const name = after.replace(/[(:].*$/, '');
  if (!name.startsWith('the ')) real.commandsRun[name] = (real.commandsRun[name] ?? 0) + 1;
  const got = await real.project();
  const want = project(model);
  const differs = (Object.keys(want) as (keyof Projection)[]).filter(
    (k) => JSON.stringify(got[k]) !== JSON.stringify(want[k]),
  );
  if (differs.length > 0)
    throw new Error(
      `real state differs from the model after ${after}:\n${differs
        .map(
          (k) =>
            `  ${k}: real ${JSON.stringify(got[k])}\n  ${' '.repeat(k.length)}  model ${JSON.stringify(want[k])}`,
        )
        .join('\n')}`,
    );
}
