// Runs one generated scenario through the REAL API, relay and handlers on a real database:
// payments are created and confirmed over HTTP (app.inject), the relay publishes the outbox into
// the in-memory bus, and each consumer group's events are delivered 1..k times, shuffled,
// split over 2-3 concurrent instances, with crashes (a transaction aborted mid-way; a process
// dying after commit and before its offset commit, so the chunk comes again) and some copies held
// back to the very end (out of order). Every database query of the instances passes a gate that a
// fast-check scheduler opens, so the interleavings are generated, replayable and shrinkable.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { providerEvent, signedWebhook } from '../../../harness/lib/provider.ts';
import type { PaymentView } from '../../../system/contracts/index.ts';
import {
  type ConsumerGroup,
  consumerGroups,
  type DomainEvent,
  dlqTopic,
  type EventType,
  parseEvent,
  topics,
} from '../../../system/contracts/index.ts';
import { processChunk } from '../../../system/lib/consumer.ts';
import { redisDashboardCache } from '../../../system/lib/dashboard-cache.ts';
import type { Pool, PoolClient } from '../../../system/lib/db.ts';
import { isTransient } from '../../../system/lib/errors.ts';
import type { FaultSet } from '../../../system/lib/faults.ts';
import type { EventHandler } from '../../../system/lib/inbox.ts';
import { createLogger } from '../../../system/lib/log.ts';
import { relayOnce } from '../../../system/relay/relay.ts';
import { handlePurchaseCreated } from '../../../system/workers/allocation/handler.ts';
import { handleCacheEvent } from '../../../system/workers/cache/handler.ts';
import { handlePurchaseWorkerChunk as handlePurchaseConfirmed } from '../../../system/workers/purchase/handler.ts';
import { handleTrainerAllocated } from '../../../system/workers/session/handler.ts';
import type { BusRecord } from './bus.ts';
import { prng, shuffle } from './prng.ts';
import type { World } from './world.ts';

export interface PaymentPlan {
  readonly student: number;
  readonly course: number;
  /** Confirm twice (a double click): the second must answer the same and emit nothing. */
  readonly doubleConfirm: boolean;
  /** Send the create twice with the same Idempotency-Key. */
  readonly retryCreate: boolean;
  /** Also try to confirm a second payment with this payment's providerPaymentId (a 409 that must change nothing). */
  readonly stolenProviderId: boolean;
  /** The confirm's answer is lost (503): before the statement ran, or after it committed. */
  readonly lostAnswer: 'none' | 'before' | 'after';
  /**
   * An attack with this payment (issue 14): `forge`, a capture webhook signed with a wrong secret
   * before the provider's (must be a 401 with no effect); `foreign-read`, the student asks for
   * another student's dashboard (a 403); `tamper-amount`, the create sends 1 cent instead of the
   * price (a 422, no payment).
   */
  readonly attack: 'none' | 'forge' | 'foreign-read' | 'tamper-amount';
}

/** Not the provider's secret. */
const forgerSecret = 'whsec_not_the_providers_secret_0000';

export interface Delivery {
  /** Copies of each event: 1..maxCopies. */
  readonly maxCopies: number;
  /** Concurrent instances of each worker. */
  readonly instances: number;
  /** Events per transaction. */
  readonly chunkSize: number;
  /** Probability that a chunk's transaction is aborted mid-way (then retried). */
  readonly abortRate: number;
  /** Probability that an instance dies after commit and before its offset commit (the chunk comes again). */
  readonly redeliverRate: number;
  /** Fraction of copies held back and delivered only at the very end. */
  readonly lateRate: number;
  /** Relay sends that fail (the broker never acknowledged). */
  readonly relayFailures: number;
  readonly seed: number;
}

/** One interleaving gate: a fast-check scheduler, or nothing (sequential reference runs). */
export interface Gate {
  pass(label: string): Promise<void>;
  run<T>(all: Promise<T>): Promise<T>;
}

export const openGate: Gate = { pass: async () => {}, run: (all) => all };

export interface RunStats {
  deliveries: number;
  duplicatesDelivered: number;
  outOfOrder: number;
  abortedTransactions: number;
  redeliveredChunks: number;
  relayRetries: number;
  deadLettered: number;
  dashboardReads: number;
  /** `duplicatesDelivered:<EVENT_TYPE>` counters, as the checker's exercised record names them. */
  duplicatesByType: Record<string, number>;
}

const groups = Object.keys(consumerGroups) as ConsumerGroup[];

function handlers(_redis: Redis): Record<ConsumerGroup, EventHandler> {
  return {
    'purchase-worker': handlePurchaseConfirmed,
    'allocation-worker': handlePurchaseCreated,
    'session-worker': handleTrainerAllocated,
    'cache-worker': handleCacheEvent,
  };
}

/** A pool whose clients pass the gate before every query, and can have one query fail. */
function gatedPool(real: pg.Pool, gate: Gate, label: string, failAt: { n: number }): Pool {
  return {
    connect: async () => {
      const c = await real.connect();
      const client = {
        query: async (text: string, params?: unknown[]) => {
          await gate.pass(`${label}: ${String(text).trim().slice(0, 40)}`);
          if (failAt.n > 0 && --failAt.n === 0) {
            throw Object.assign(new Error('injected: connection lost mid-transaction'), { code: '57P01' });
          }
          return c.query(text, params);
        },
        release: (err?: Error | boolean) => c.release(err),
      };
      return client as unknown as PoolClient;
    },
  } as unknown as Pool;
}

/** Pays for every planned payment over HTTP, reading dashboards on the way (fills the cache). */
export async function pay(world: World, plans: readonly PaymentPlan[]): Promise<void> {
  for (const p of plans) {
    const studentId = world.students[p.student % world.students.length]!;
    const courseId = world.courses[p.course % world.courses.length]!;
    const body =
      p.attack === 'tamper-amount' ? { studentId, courseId, amountCents: 1 } : { studentId, courseId };
    const key = randomUUID();
    const headers = p.retryCreate ? { 'idempotency-key': key } : undefined;
    const ids = {
      studentId,
      principal: studentId,
      courseId,
      ...(p.retryCreate ? { idempotencyKey: key } : {}),
    };
    const created = await world.call('create', 'POST', '/payments', body, headers, ids);
    if (p.retryCreate) await world.call('create', 'POST', '/payments', body, headers, ids);
    await world.call(
      'dashboard',
      'GET',
      `/students/${studentId}/dashboard`,
      undefined,
      {},
      {
        studentId,
        principal: studentId,
      },
    );
    if (p.attack === 'foreign-read' && world.students.length > 1) {
      const other = world.students[(p.student + 1) % world.students.length]!;
      await world.call(
        'dashboard',
        'GET',
        `/students/${other}/dashboard`,
        undefined,
        { authorization: await world.bearer(studentId) },
        { studentId: other, principal: studentId },
      );
    }
    if (created.status !== 201) continue; // refused (a tampered amount): nothing to pay
    const payment = created.body as unknown as PaymentView;
    const paymentId = payment.id;
    const providerPaymentId = `pp_${randomUUID()}`;
    if (p.attack === 'forge') {
      const fake = providerEvent(payment, { providerPaymentId: `forged_${randomUUID()}` });
      const w = signedWebhook(fake, { secrets: [forgerSecret] });
      await world.call('confirm', 'POST', w.path, w.json, w.headers, {
        paymentId,
        providerPaymentId: fake.data.providerPaymentId,
        providerEventId: fake.id,
        capturedCents: String(fake.data.amountCents),
        forged: 'true',
      });
    }
    // The provider captures the payment's amount and delivers the event; a double confirm is its
    // redelivery, and a 5xx makes it deliver again (as providers do).
    const event = providerEvent(payment, { providerPaymentId });
    const confirmIds = {
      paymentId,
      studentId,
      courseId,
      providerPaymentId,
      providerEventId: event.id,
      providerEventType: event.type,
      capturedCents: String(event.data.amountCents),
    };
    const confirm = () => {
      const w = signedWebhook(event);
      return world.call('confirm', 'POST', w.path, w.json, w.headers, confirmIds);
    };
    if (p.lostAnswer !== 'none') world.loseNextAnswer(p.lostAnswer);
    const first = await confirm();
    if (first.status >= 500) await confirm();
    if (p.doubleConfirm) await confirm();
    if (p.stolenProviderId) {
      const other = await world.call('create', 'POST', '/payments', { studentId, courseId }, undefined, {
        studentId,
        principal: studentId,
        courseId,
      });
      const otherId = other.body.id as string;
      const stolen = providerEvent({ ...payment, id: otherId }, { providerPaymentId });
      const w = signedWebhook(stolen);
      await world.call('confirm', 'POST', w.path, w.json, w.headers, {
        paymentId: otherId,
        studentId,
        courseId,
        providerPaymentId,
        providerEventId: stolen.id,
        providerEventType: stolen.type,
        capturedCents: String(stolen.data.amountCents),
      });
    }
  }
}

async function relayAll(
  world: World,
  d: Delivery,
  faults: FaultSet,
  stats: RunStats,
  failuresLeft: { n: number },
) {
  const producer = world.bus.producer();
  const log = createLogger('property-relay', 'silent');
  for (let attempt = 0; attempt < 1_000; attempt++) {
    if (failuresLeft.n > 0) {
      failuresLeft.n--;
      producer.failNext(1);
    }
    try {
      const n = await relayOnce({
        pool: world.pool,
        producer,
        faults,
        log,
        batchSize: 1 + (Math.abs(d.seed) % 5),
      });
      if (n === 0) {
        // publish-before-commit loses the batch and reports 0: look again until nothing is claimable.
        const left = await world.pool.query('SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1');
        if ((left.rowCount ?? 0) === 0) return;
      }
    } catch (err) {
      if (!isTransient(err) && !(err as { retriable?: boolean }).retriable) throw err;
      stats.relayRetries++;
    }
  }
  throw new Error('relay did not drain the outbox in 1000 cycles');
}

interface Copy {
  readonly record: BusRecord;
  readonly copy: number;
}

/** Delivers copies to one group's instances, concurrently; every query waits for the gate. */
async function deliver(
  world: World,
  group: ConsumerGroup,
  copies: readonly Copy[],
  d: Delivery,
  gate: Gate,
  faults: FaultSet,
  rand: () => number,
  stats: RunStats,
) {
  const handler = handlers(world.redis)[group];
  const accepted = consumerGroups[group] as readonly EventType[];
  const queues: Copy[][] = Array.from({ length: d.instances }, () => []);
  for (const c of copies) queues[Math.floor(rand() * d.instances)]!.push(c);
  const log = createLogger('property-worker', 'silent');
  const runInstance = async (i: number) => {
    const chunks: { copies: Copy[]; redelivered: boolean }[] = [];
    for (let k = 0; k < queues[i]!.length; k += d.chunkSize)
      chunks.push({ copies: queues[i]!.slice(k, k + d.chunkSize), redelivered: false });
    for (let guard = 0; chunks.length > 0 && guard < 10_000; guard++) {
      const chunk = chunks.shift()!;
      const valid: { message: never; event: DomainEvent }[] = [];
      for (const c of chunk.copies) {
        stats.deliveries++;
        const parsed = parseEvent(c.record.value, accepted);
        if (parsed.ok)
          valid.push({
            message: { key: c.record.key, value: c.record.value, offset: String(c.record.offset) } as never,
            event: parsed.event,
          });
        else
          world.bus.append(dlqTopic(group), c.record.key, c.record.value, {
            'x-dlq-reason': parsed.code,
            'x-consumer-group': group,
          });
      }
      if (valid.length === 0) continue;
      const failAt = { n: rand() < d.abortRate ? 1 + Math.floor(rand() * 8) : 0 };
      const pool = gatedPool(world.pool, gate, `${group}#${i}`, failAt);
      try {
        const { dead } = await processChunk(
          {
            group,
            pool,
            consumer: null as never,
            producer: null as never,
            handler,
            dashboards: redisDashboardCache(world.redis),
            faults,
            log,
            clockSkewMs: 0,
            maxAttempts: 3,
          },
          valid,
        );
        for (const l of dead) {
          stats.deadLettered++;
          if (process.env.PAYPROOF_DEBUG) console.error(`[dead-letter] ${group}: ${l.detail}`);
          world.bus.append(dlqTopic(group), l.message.key?.toString() ?? null, l.message.value!.toString(), {
            'x-dlq-reason': l.reason,
            'x-consumer-group': group,
          });
        }
        if (!chunk.redelivered && rand() < d.redeliverRate) {
          // Died after commit, before the offset commit: the same chunk is delivered again.
          stats.redeliveredChunks++;
          stats.duplicatesDelivered += chunk.copies.length;
          for (const c of chunk.copies) {
            const key = `duplicatesDelivered:${(JSON.parse(c.record.value) as { eventType?: string }).eventType}`;
            stats.duplicatesByType[key] = (stats.duplicatesByType[key] ?? 0) + 1;
          }
          chunks.push({ copies: chunk.copies, redelivered: true });
        }
      } catch (err) {
        if (!isTransient(err)) throw err;
        stats.abortedTransactions++;
        chunks.unshift(chunk);
      }
    }
  };
  await Promise.all(queues.map((_, i) => runInstance(i)));
}

/** Runs the whole flow to quiescence. */
export async function runScenario(
  world: World,
  plans: readonly PaymentPlan[],
  d: Delivery,
  gate: Gate,
  faults: FaultSet,
): Promise<RunStats> {
  const stats: RunStats = {
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
  const rand = prng(d.seed);
  await pay(world, plans);
  const cursor = new Map<ConsumerGroup, number>(groups.map((g) => [g, 0]));
  const late = new Map<ConsumerGroup, Copy[]>(groups.map((g) => [g, []]));
  const relayFailures = { n: d.relayFailures };
  for (let round = 0; round < 20; round++) {
    await relayAll(world, d, faults, stats, relayFailures);
    let delivered = 0;
    const work: Promise<void>[] = [];
    const drainLate = [...cursor].every(
      ([g, c]) =>
        world.bus.since(
          c,
          (consumerGroups[g] as readonly EventType[]).map((t) => topics[t]),
        ).length === 0,
    );
    for (const group of groups) {
      const topicNames = (consumerGroups[group] as readonly EventType[]).map((t) => topics[t]);
      const fresh = world.bus.since(cursor.get(group)!, topicNames);
      cursor.set(group, world.bus.records.length);
      let copies: Copy[] = [];
      for (const record of fresh) {
        const n = 1 + Math.floor(rand() * d.maxCopies);
        for (let k = 0; k < n; k++) copies.push({ record, copy: k });
        stats.duplicatesDelivered += n - 1;
        const type = (JSON.parse(record.value) as { eventType?: string }).eventType;
        const key = `duplicatesDelivered:${type}`;
        stats.duplicatesByType[key] = (stats.duplicatesByType[key] ?? 0) + n - 1;
      }
      copies = shuffle(copies, rand);
      const keep: Copy[] = [];
      for (const c of copies) (c.copy > 0 && rand() < d.lateRate ? late.get(group)! : keep).push(c);
      if (drainLate) {
        stats.outOfOrder += late.get(group)!.length;
        keep.push(...late.get(group)!.splice(0));
      }
      delivered += keep.length;
      if (keep.length > 0)
        work.push(deliver(world, group, shuffle(keep, rand), d, gate, faults, rand, stats));
    }
    // Groups consume in parallel too (allocation and cache both read PURCHASE_CREATED).
    await gate.run(Promise.all(work));
    for (const s of world.students) {
      await world.call('dashboard', 'GET', `/students/${s}/dashboard`, undefined, {}, { studentId: s });
      stats.dashboardReads++;
    }
    if (delivered === 0 && [...late.values()].every((l) => l.length === 0)) return stats;
  }
  throw new Error('scenario did not quiesce in 20 rounds');
}
