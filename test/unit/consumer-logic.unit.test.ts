// The consumer framework's pure pieces (system/lib/consumer.ts), written for the mutation score
// (issue 12): which errors are retried only a bounded number of times, the correlation id read from
// a message that failed validation, the counters made visible at 0 before anything happens, the
// per-chunk outcome counts, and the OffsetCommitter's interval (one commit for every partition).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type DomainEvent, groupTopics } from '../../system/contracts/index.ts';
import {
  type ChunkOutcome,
  type ConsumerDeps,
  correlationOf,
  countOutcomes,
  initCounters,
  isLogicalTransient,
  OffsetCommitter,
  type Parsed,
} from '../../system/lib/consumer.ts';
import { AppError } from '../../system/lib/errors.ts';
import { createLogger } from '../../system/lib/log.ts';
import { metrics } from '../../system/lib/metrics.ts';

type Labels = Record<string, string | number>;
const value = async (
  m: { get(): Promise<{ values: { labels: object; value: number }[] }> },
  labels: Labels,
) =>
  (await m.get()).values.find(
    (v) =>
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, x]) => (v.labels as Labels)[k] === x),
  )?.value;

describe('isLogicalTransient', () => {
  it('is a retriable AppError of the data, not of the cache or the streams, and nothing else', () => {
    expect(isLogicalTransient(new AppError('capacity_contended', 'x', true))).toBe(true);
    expect(isLogicalTransient(new AppError('transient_db', 'x', true))).toBe(true);
    expect(isLogicalTransient(new AppError('capacity_contended', 'x', false))).toBe(false);
    expect(isLogicalTransient(new AppError('transient_cache', 'x', true))).toBe(false);
    expect(isLogicalTransient(new AppError('transient_stream', 'x', true))).toBe(false);
    expect(isLogicalTransient(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(false);
    expect(isLogicalTransient(undefined)).toBe(false);
  });
});

describe('correlationOf', () => {
  const msg = (value: string | null) => ({
    key: null,
    value: value === null ? null : Buffer.from(value),
    offset: '0',
  });
  it('reads a string correlationId, at most 64 characters, from JSON; undefined otherwise', () => {
    expect(correlationOf(msg(JSON.stringify({ correlationId: 'abc' })))).toBe('abc');
    expect(correlationOf(msg(JSON.stringify({ correlationId: 'x'.repeat(100) })))).toBe('x'.repeat(64));
    expect(correlationOf(msg(JSON.stringify({ correlationId: 42 })))).toBeUndefined();
    expect(correlationOf(msg(JSON.stringify({ other: 'abc' })))).toBeUndefined();
    expect(correlationOf(msg('null'))).toBeUndefined();
    expect(correlationOf(msg('{not json'))).toBeUndefined();
    expect(correlationOf(msg(null))).toBeUndefined();
  });
});

describe('initCounters', () => {
  it('makes every dead-letter reason and the constraint-violation counter visible at 0 for the group', async () => {
    const group = 'session-worker' as const;
    initCounters(group);
    for (const reason of ['handler_error', 'retries_exhausted', 'after_commit_invalidation'])
      expect(await value(metrics.retriesExhausted, { component: group, reason })).toBe(0);
    expect(await value(metrics.constraintViolations, { group })).toBe(0);
  });
});

describe('countOutcomes', () => {
  it('counts per type and outcome, duplicates as idempotency hits, and per transport and outcome', async () => {
    const group = 'cache-worker' as const;
    const parsed = (eventType: string): Parsed =>
      ({
        message: { key: null, value: null, offset: '0' },
        event: { eventType, eventId: randomUUID() } as DomainEvent,
      }) as Parsed;
    const events = [parsed('A_T'), parsed('A_T'), parsed('B_T'), parsed('A_T'), parsed('B_T')];
    const outcomes: ChunkOutcome[] = ['applied', 'applied', 'duplicate', 'duplicate', 'dead-lettered'];
    const before = {
      hits: (await value(metrics.idempotencyHits, { group })) ?? 0,
      applied:
        (await value(metrics.transportEvents, {
          transport: 'stream',
          stage: 'consumed',
          outcome: 'applied',
        })) ?? 0,
      dup:
        (await value(metrics.transportEvents, {
          transport: 'stream',
          stage: 'consumed',
          outcome: 'duplicate',
        })) ?? 0,
    };
    countOutcomes(group, 'stream', events, outcomes);
    expect(await value(metrics.eventsProcessed, { group, type: 'A_T', outcome: 'applied' })).toBe(2);
    expect(await value(metrics.eventsProcessed, { group, type: 'A_T', outcome: 'duplicate' })).toBe(1);
    expect(await value(metrics.eventsProcessed, { group, type: 'B_T', outcome: 'duplicate' })).toBe(1);
    expect(await value(metrics.eventsProcessed, { group, type: 'B_T', outcome: 'dead-lettered' })).toBe(1);
    expect(await value(metrics.idempotencyHits, { group })).toBe(before.hits + 2);
    expect(
      await value(metrics.transportEvents, { transport: 'stream', stage: 'consumed', outcome: 'applied' }),
    ).toBe(before.applied + 2);
    expect(
      await value(metrics.transportEvents, { transport: 'stream', stage: 'consumed', outcome: 'duplicate' }),
    ).toBe(before.dup + 2);
  });
});

describe('OffsetCommitter interval', () => {
  type Offset = { topic: string; partition: number; offset: string };
  const committers: OffsetCommitter[] = [];
  afterEach(() => {
    for (const c of committers.splice(0)) c.forget();
  });
  function over(intervalMs: number) {
    const calls: Offset[][] = [];
    const consumer = { commitOffsets: async (o: Offset[]) => void calls.push(o.map((x) => ({ ...x }))) };
    const deps = { consumer, log: createLogger('committer-interval', 'silent') } as unknown as ConsumerDeps;
    const c = new OffsetCommitter(deps, intervalMs);
    committers.push(c);
    return { c, calls };
  }

  it('commits at once when the interval is up, then gathers every partition’s newest offset until it is up again', async () => {
    const { c, calls } = over(200);
    await c.add('t', 0, '1');
    expect(calls).toEqual([[{ topic: 't', partition: 0, offset: '1' }]]);
    await c.add('t', 0, '2');
    await c.add('t', 1, '7');
    await c.add('u', 0, '4');
    await c.add('t', 0, '3');
    expect(calls).toHaveLength(1); // within the interval: queued, not sent
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual([
      { topic: 't', partition: 0, offset: '3' },
      { topic: 't', partition: 1, offset: '7' },
      { topic: 'u', partition: 0, offset: '4' },
    ]);
  });

  it('a refused commit is queued again, but never over a newer offset of its partition queued meanwhile', async () => {
    const calls: Offset[][] = [];
    let refuse: (err: Error) => void = () => {};
    const consumer = {
      commitOffsets: (o: Offset[]) => {
        calls.push(o.map((x) => ({ ...x })));
        return calls.length === 1
          ? new Promise<void>((_, reject) => {
              refuse = reject;
            })
          : Promise.resolve();
      },
    };
    const deps = { consumer, log: createLogger('committer-requeue', 'silent') } as unknown as ConsumerDeps;
    const c = new OffsetCommitter(deps, 0);
    committers.push(c);
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const first = c.add('t', 0, '5');
    await tick(); // in flight
    const second = c.add('t', 0, '7'); // queued behind it
    await tick();
    refuse(new Error('This is not the correct coordinator for this group'));
    await Promise.all([first, second]);
    expect(calls).toEqual([
      [{ topic: 't', partition: 0, offset: '5' }],
      [{ topic: 't', partition: 0, offset: '7' }],
    ]);
  });

  it('with no interval, every offset is committed at once', async () => {
    const { c, calls } = over(0);
    await c.add('t', 0, '1');
    await c.add('t', 1, '2');
    expect(calls).toEqual([
      [{ topic: 't', partition: 0, offset: '1' }],
      [{ topic: 't', partition: 1, offset: '2' }],
    ]);
  });

  it('a flush with nothing queued sends nothing; forget drops what is queued', async () => {
    const { c, calls } = over(10_000);
    await c.flush();
    expect(calls).toEqual([]);
    await c.add('t', 0, '1');
    await c.flush();
    await c.add('t', 0, '2'); // within the interval: queued
    c.forget();
    await c.flush();
    expect(calls).toEqual([[{ topic: 't', partition: 0, offset: '1' }]]);
  });
});

describe('groupTopics', () => {
  it('names one topic per event type a group consumes', () => {
    expect(groupTopics('purchase-worker')).toEqual([
      'payments.purchase-confirmed.v1',
      'payments.refund-requested.v1',
    ]);
    expect(groupTopics('allocation-worker')).toEqual(['purchases.purchase-created.v1']);
    expect(groupTopics('session-worker')).toEqual(['allocations.trainer-allocated.v1']);
    expect(groupTopics('cache-worker')).toEqual([
      'purchases.purchase-created.v1',
      'allocations.trainer-allocated.v1',
    ]);
  });
});
