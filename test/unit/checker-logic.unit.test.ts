// The checker's pure parts: comparison of JSON values, history pairing, judging, exercised counters,
// request bodies, cache entries, messages and announced entities.
import { describe, expect, it } from 'vitest';
import { announcedEntity } from '../../harness/checker/announced.ts';
import { canonicalJson, firstDifference, sameJson } from '../../harness/checker/canonical.ts';
import { normalizeDashboard } from '../../harness/checker/dashboard-view.ts';
import { countDuplicates, mergeExercised, redeliveryChances } from '../../harness/checker/exercised.ts';
import { judge, maxExamples, pickExamples } from '../../harness/checker/judge.ts';
import { mergeIds, paymentIdOf, toOperations } from '../../harness/checker/operations.ts';
import { parseCacheEntry } from '../../harness/checker/read-cache.ts';
import {
  compareStreamIds,
  eventIdOfValue,
  lastDelivered,
  type StreamCopy,
} from '../../harness/checker/read-streams.ts';
import { type TopicMessage, toTopicMessage } from '../../harness/checker/read-topics.ts';
import { createBodyOf, sameBody } from '../../harness/checker/request-body.ts';
import { groupsReading, isolatedTopicSet, systemTopicSet } from '../../harness/checker/topic-set.ts';
import type { HistoryOp } from '../../harness/run/history.ts';
import type { Exercised } from '../../harness/run/result.ts';
import type { PurchaseCreatedEvent } from '../../system/contracts/events.ts';
import { eventIdFor } from '../../system/contracts/ids.ts';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('canonical JSON', () => {
  it('ignores key order at every depth and nothing else', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
  });

  it('points at the first difference', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toEqual({
      path: '$.a[1].b',
      expected: 2,
      found: 3,
    });
    expect(firstDifference({ a: 1 }, { a: 1, z: 0 })).toEqual({ path: '$.z', expected: undefined, found: 0 });
    expect(firstDifference([1], [1, 2])).toEqual({ path: '$[1]', expected: undefined, found: 2 });
    expect(firstDifference({ x: 1 }, { x: 1 })).toBeUndefined();
  });
});

describe('operations', () => {
  it('pairs invokes with completions, merges ids, and turns an invoke never completed into info', () => {
    const h: HistoryOp[] = [
      {
        index: 0,
        type: 'invoke',
        op: 'create',
        timeNs: 1,
        process: 1,
        ids: { idempotencyKey: 'k' },
        value: { amountCents: 5 },
      },
      { index: 1, type: 'invoke', op: 'confirm', timeNs: 2, process: 2, ids: { paymentId: 'p1' } },
      {
        index: 0,
        type: 'ok',
        op: 'create',
        timeNs: 3,
        process: 1,
        status: 201,
        ids: { paymentId: 'p0' },
        value: { id: 'p0' },
      },
    ];
    const ops = toOperations(h);
    expect(ops).toHaveLength(2);
    expect(ops[0]).toMatchObject({
      index: 0,
      outcome: 'ok',
      status: 201,
      ids: { idempotencyKey: 'k', paymentId: 'p0' },
      request: { amountCents: 5 },
      response: { id: 'p0' },
    });
    expect(ops[1]).toMatchObject({ index: 1, outcome: 'info', error: 'no completion recorded' });
    expect(paymentIdOf(ops[0]!)).toBe('p0');
    expect(paymentIdOf({ ...ops[0]!, ids: {} })).toBe('p0');
  });
  it("merges ids with the completion winning, sharing the completion's object when it has them all", () => {
    const inv = { paymentId: 'p1', idempotencyKey: 'k' };
    const all = { paymentId: 'p1', idempotencyKey: 'k', providerPaymentId: 'pp' };
    expect(mergeIds(inv, all)).toBe(all);
    expect(mergeIds(inv, { paymentId: 'p2' })).toEqual({ paymentId: 'p2', idempotencyKey: 'k' });
    expect(mergeIds(undefined, all)).toBe(all);
    expect(mergeIds(inv, undefined)).toBe(inv);
    expect(mergeIds(undefined, undefined)).toEqual({});
  });
});

describe('judge', () => {
  const base = { name: 'x', description: 'd' };
  it('is false on any violation, whatever was exercised', () => {
    const r = judge({ ...base, checked: 3, violations: [{ kind: 'k' }], notExercised: 'never' });
    expect(r).toMatchObject({ valid: false, violations: 1, examples: [{ kind: 'k' }] });
  });
  it('is unknown over nothing or an unexercised path, and true otherwise', () => {
    expect(judge({ ...base, checked: 0, violations: [] })).toMatchObject({
      valid: 'unknown',
      unknownReason: 'nothing to check',
    });
    expect(judge({ ...base, checked: 2, violations: [], notExercised: 'no duplicates' })).toMatchObject({
      valid: 'unknown',
      unknownReason: 'no duplicates',
    });
    expect(judge({ ...base, checked: 2, violations: [] })).toMatchObject({
      valid: true,
      violations: 0,
      checked: 2,
    });
  });
  it('shows one example of each kind first', () => {
    const vs = [...Array.from({ length: 9 }, (_, i) => ({ kind: 'a', i })), { kind: 'b' }, { kind: 'c' }];
    const picked = pickExamples(vs);
    expect(picked).toHaveLength(maxExamples);
    expect(picked.slice(0, 3).map((v) => v.kind)).toEqual(['a', 'b', 'c']);
  });
});

function message(
  topic: string,
  partition: number,
  offset: number,
  value: unknown,
  key: string | null = 'k',
): TopicMessage {
  return toTopicMessage(
    topic,
    partition,
    offset,
    key,
    typeof value === 'string' ? value : JSON.stringify(value),
    {},
  );
}

const created: PurchaseCreatedEvent = {
  eventId: eventIdFor('PURCHASE_CREATED', uuid(1)),
  correlationId: uuid(9),
  causationId: eventIdFor('PURCHASE_CONFIRMED', uuid(9)),
  eventType: 'PURCHASE_CREATED',
  version: 1,
  timestamp: '2030-01-01T00:00:00.000Z',
  payload: { purchaseId: uuid(1), studentId: uuid(2), courseId: uuid(3), purchaseTier: 1, metadata: {} },
};

describe('messages and announced entities', () => {
  it('parses a valid event, keeps the id of a schema-invalid one, and survives garbage', () => {
    const ok = message('t', 0, 4, created, uuid(2));
    expect(ok).toMatchObject({ eventId: created.eventId, rejectCode: null, key: uuid(2), offset: 4 });
    expect(ok.event?.eventType).toBe('PURCHASE_CREATED');
    const bad = message('t', 0, 5, { ...created, version: 2 });
    expect(bad).toMatchObject({ eventId: created.eventId, event: null, rejectCode: 'schema_violation' });
    const junk = message('t', 0, 6, '{oops');
    expect(junk).toMatchObject({ eventId: null, event: null, json: undefined, rejectCode: 'malformed_json' });
  });

  it('parses a message once: a valid event is its json; the raw text is always kept (readers match it)', () => {
    const ok = message('t', 0, 4, created, uuid(2));
    expect(ok.json).toBe(ok.event);
    expect(ok.json).toEqual(created);
    expect(JSON.parse(ok.value!)).toEqual(created);
    const bad = message('t', 0, 5, { ...created, version: 2 });
    expect(bad.event).toBeNull();
    expect(bad.json).toEqual({ ...created, version: 2 });
    expect(JSON.parse(bad.value!)).toEqual({ ...created, version: 2 });
    const junk = message('t', 0, 6, '{oops');
    expect(junk.value).toBe('{oops');
    const tombstone = toTopicMessage('t', 0, 7, 'k', null, {});
    expect(tombstone).toMatchObject({ value: null, json: undefined, event: null, eventId: null });
  });

  it('derives the one event id an entity may be announced by', () => {
    expect(announcedEntity(created)).toEqual({
      eventType: 'PURCHASE_CREATED',
      entityId: uuid(1),
      expectedEventId: created.eventId,
    });
  });

  it('knows which groups read which topic, in any topic set', () => {
    expect(groupsReading(systemTopicSet, 'purchases.purchase-created.v1')).toEqual([
      'allocation-worker',
      'cache-worker',
    ]);
    const iso = isolatedTopicSet('x');
    expect(groupsReading(iso, iso.events.TRAINER_ALLOCATED)).toEqual(['session-worker', 'cache-worker']);
    expect(groupsReading(iso, 'purchases.purchase-created.v1')).toEqual([]);
  });
});

describe('exercised counters', () => {
  it('counts extra copies per type, and history-only injections only when absent from the topics', () => {
    const topic = systemTopicSet.events.PURCHASE_CREATED;
    const copies = new Map<string, TopicMessage[]>([
      [
        created.eventId,
        [message(topic, 0, 1, created), message(topic, 1, 7, created), message(topic, 0, 9, created)],
      ],
    ]);
    const inject = (eventId: string, index: number): HistoryOp[] => [
      {
        index,
        type: 'invoke',
        op: 'inject',
        timeNs: index,
        process: 0,
        ids: { eventId, eventType: 'TRAINER_ALLOCATED' },
      },
      { index, type: 'ok', op: 'inject', timeNs: index, process: 0 },
    ];
    const ops = toOperations([...inject('direct', 0), ...inject('direct', 1), ...inject(created.eventId, 2)]);
    expect(countDuplicates({ copies, ops, topicSet: systemTopicSet })).toEqual({
      duplicatesDelivered: 3,
      deliveredViaStreams: 0,
      'duplicatesDelivered:PURCHASE_CONFIRMED': 0,
      'duplicatesDelivered:PURCHASE_CREATED': 2,
      'duplicatesDelivered:TRAINER_ALLOCATED': 1,
      'duplicatesDelivered:PAYMENT_REFUND_REQUESTED': 0,
    });
    // Per group, from the offsets: messages of the topics it reads minus distinct event ids.
    const eventMessages = copies.get(created.eventId)!;
    expect(countDuplicates({ copies, ops, topicSet: systemTopicSet, eventMessages })).toMatchObject({
      'duplicatesDelivered:allocation-worker': 2,
      'duplicatesDelivered:cache-worker': 2,
    });
    expect(
      countDuplicates({ copies, ops, topicSet: systemTopicSet, eventMessages })[
        'duplicatesDelivered:session-worker'
      ],
    ).toBeUndefined();
  });

  it('counts a fallback stream entry a group was given, of an event Kafka holds too, as one more delivery', () => {
    const topic = systemTopicSet.events.PURCHASE_CREATED;
    const kafkaCopy = message(topic, 0, 1, created);
    const copies = new Map<string, TopicMessage[]>([[created.eventId, [kafkaCopy]]]);
    const entry = (id: string, deliveredTo: string[], eventId = created.eventId): StreamCopy => ({
      stream: `payproof:stream:${topic}`,
      topic,
      id,
      eventId,
      deliveredTo,
    });
    const streamCopies = new Map<string, StreamCopy[]>([
      // Given to one reader only (the other had not read that far): one more delivery, to it alone.
      [created.eventId, [entry('5-0', ['allocation-worker'])]],
      // An event Kafka does not hold (another run's, sharing the Redis): not counted.
      ['other-run', [entry('6-0', ['allocation-worker', 'cache-worker'], 'other-run')]],
    ]);
    const counted = countDuplicates({
      copies,
      ops: [],
      topicSet: systemTopicSet,
      eventMessages: [kafkaCopy],
      streamCopies,
    });
    expect(counted).toMatchObject({
      duplicatesDelivered: 1,
      deliveredViaStreams: 1,
      'duplicatesDelivered:PURCHASE_CREATED': 1,
      'duplicatesDelivered:allocation-worker': 1,
      'duplicatesDelivered:cache-worker': 0,
    });
    // An entry given to no group yet, or only to a group that does not read its topic: not a delivery.
    const undelivered = new Map([[created.eventId, [entry('5-0', []), entry('7-0', ['session-worker'])]]]);
    expect(
      countDuplicates({ copies, ops: [], topicSet: systemTopicSet, streamCopies: undelivered }),
    ).toMatchObject({ duplicatesDelivered: 0, deliveredViaStreams: 0 });
  });

  it('reads stream ids in stream order, event ids from entry values, and groups from XINFO GROUPS', () => {
    expect(compareStreamIds('1700000000000-2', '1700000000000-10')).toBe(-1);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBe(1);
    expect(compareStreamIds('5-3', '5-3')).toBe(0);
    expect(compareStreamIds('0-0', '5-0')).toBe(-1);
    expect(eventIdOfValue(JSON.stringify(created))).toBe(created.eventId);
    expect(eventIdOfValue('{not json')).toBeNull();
    expect(eventIdOfValue('{"eventId": 7}')).toBeNull();
    expect(eventIdOfValue(null)).toBeNull();
    const reply = [
      ['name', 'session-worker', 'consumers', 1, 'pending', 0, 'last-delivered-id', '9-1', 'lag', 0],
      ['name', 'cache-worker', 'consumers', 0, 'pending', 0, 'last-delivered-id', '0-0'],
      'garbage',
    ];
    expect([...lastDelivered(reply)]).toEqual([
      ['session-worker', '9-1'],
      ['cache-worker', '0-0'],
    ]);
  });

  it('merges the runner’s counters by max, so a measured figure is never counted twice', () => {
    const measured = { duplicatesDelivered: 4, restarts: 0 } as unknown as Exercised;
    const merged = mergeExercised(measured, { duplicatesDelivered: 1, restarts: 2, rebalances: 1 });
    expect(merged).toMatchObject({ duplicatesDelivered: 4, restarts: 2, rebalances: 1 });
    expect(redeliveryChances(merged, 'PURCHASE_CREATED')).toBe(3);
  });
});

describe('request bodies and cache entries', () => {
  it('reads a create body from the invoke value or the ids; an amount or currency not sent is not compared', () => {
    const [op] = toOperations([
      {
        index: 0,
        type: 'invoke',
        op: 'create',
        timeNs: 0,
        process: 0,
        ids: { studentId: 's', courseId: 'c', amountCents: '10' },
      },
    ]);
    const fromIds = createBodyOf(op!)!;
    expect(fromIds).toEqual({ studentId: 's', courseId: 'c', amountCents: 10, currency: undefined });
    const fromBody = createBodyOf({
      ...op!,
      request: { body: { studentId: 's', courseId: 'c', amountCents: 10, currency: 'eur' } },
    })!;
    expect(sameBody(fromIds, fromBody)).toBe(true);
    expect(sameBody(fromIds, { ...fromBody, amountCents: 11 })).toBe(false);
    expect(createBodyOf({ ...op!, ids: {} })).toBeUndefined();
    // No amount sent (the server's price): equal to any amount; a currency sent is compared.
    const priceless = createBodyOf({ ...op!, ids: { studentId: 's', courseId: 'c' } })!;
    expect(sameBody(priceless, fromBody)).toBe(true);
    expect(sameBody({ ...priceless, currency: 'USD' }, fromBody)).toBe(false);
    // The load engine keeps the amount in the completion's note and the ids in the ids.
    const load = createBodyOf({
      ...op!,
      ids: { studentId: 's', courseId: 'c', idempotencyKey: 'k', attempt: '2' },
      response: { request: { amountCents: 10 }, intent: 'fresh', response: { id: 'p' } },
    });
    expect(load).toEqual(fromIds);
    expect(paymentIdOf({ ...op!, ids: {}, response: { response: { id: 'p' } } })).toBe('p');
  });

  it('parses {gen, view} entries and flags anything else as unreadable', () => {
    expect(parseCacheEntry('s', '{"gen":3,"view":{"a":1}}', 4)).toMatchObject({
      cachedGen: 3,
      view: { a: 1 },
      currentGen: 4,
    });
    expect(parseCacheEntry('s', 'nope', 0)).toMatchObject({ cachedGen: null, view: undefined });
    expect(parseCacheEntry('s', '{"a":1}', 0).view).toBeUndefined();
  });

  it('normalises dashboards so that only content, not tie order, is compared', () => {
    const a = {
      purchases: [],
      allocations: [
        { courseId: 'c', allocationId: '2' },
        { courseId: 'c', allocationId: '1' },
      ],
      upcomingSessions: [],
    };
    const b = {
      purchases: [],
      allocations: [
        { courseId: 'c', allocationId: '1' },
        { courseId: 'c', allocationId: '2' },
      ],
      upcomingSessions: [],
    };
    expect(sameJson(normalizeDashboard(a), normalizeDashboard(b))).toBe(true);
    expect(
      sameJson(normalizeDashboard(a), normalizeDashboard({ ...b, allocations: b.allocations.slice(1) })),
    ).toBe(false);
  });
});
