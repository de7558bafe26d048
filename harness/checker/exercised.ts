// What the run exercised, measured from evidence the system cannot fake: the topics (extra copies
// of an event id), the fallback's Redis streams (an entry a group was given, of an event Kafka holds
// too: delivered twice), processed_events (events handled before their cause), the database (repeated
// student/course pairs, topped-up windows, trainers filled to capacity), the cache and the client
// history. The caller adds what only it can see, from outside the system too: restarts from its own
// process control, rebalances from the broker (minus the startup baseline), aborted transactions
// from PostgreSQL's statistics; never the system's own metrics. Counters are merged by max, never
// summed, so a figure the checker measured is never counted twice.
import { eventTypes } from '../../system/contracts/topics.ts';
import type { Exercised } from '../run/result.ts';
import type { Evidence } from './context.ts';
import type { Operation } from './operations.ts';
import { dueAtAllocation } from './session-window.ts';
import { eventTypeOfTopic, groupsReading, inOwnTopic } from './topic-set.ts';

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which group emits events of a type, having processed their cause. */
const emittedBy: Readonly<Record<string, string>> = {
  PURCHASE_CREATED: 'purchase-worker',
  TRAINER_ALLOCATED: 'allocation-worker',
};

/** An inject op flagged as delivered out of order (`ids.reordered = 'true'` or `{reordered: true}`). */
function isReorder(op: Operation): boolean {
  return op.ids.reordered === 'true' || (op.request as { reordered?: unknown } | null)?.reordered === true;
}

/** Counters keyed like Exercised; merged by max. */
export function mergeExercised(measured: Exercised, extra: Partial<Exercised> = {}): Exercised {
  const out: Record<string, number> = { ...measured };
  for (const [k, v] of Object.entries(extra)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = Math.max(out[k] ?? 0, v);
  }
  return out as Exercised;
}

/** Duplicates delivered and injected, in total and per event type (`duplicatesDelivered:<TYPE>`). */
export function countDuplicates(
  e: Pick<Evidence, 'copies' | 'ops' | 'topicSet'> &
    Partial<Pick<Evidence, 'eventMessages' | 'streamCopies'>>,
): Record<string, number> {
  const perType: Record<string, number> = Object.fromEntries(eventTypes.map((t) => [t, 0]));
  let total = 0;
  for (const list of e.copies.values()) {
    if (list.length < 2) continue;
    total += list.length - 1;
    const type = list.find((m) => inOwnTopic(e.topicSet, m))?.event?.eventType;
    if (type) perType[type]! += list.length - 1;
  }
  // Events delivered straight to a handler (no topic) show only in the history.
  const injected = new Map<string, { n: number; type: string | undefined }>();
  for (const op of e.ops) {
    if (op.op !== 'inject' || op.outcome === 'fail' || op.ids.bad) continue;
    const id = op.ids.eventId;
    if (!id || e.copies.has(id)) continue;
    const seen = injected.get(id) ?? { n: 0, type: op.ids.eventType };
    seen.n++;
    injected.set(id, seen);
  }
  for (const { n, type } of injected.values()) {
    if (n < 2) continue;
    total += n - 1;
    if (type && type in perType) perType[type]! += n - 1;
  }
  // Per group, from the topics themselves: the messages (offsets) of the topics it reads minus the
  // distinct event ids among them. After convergence a group has consumed every one of them.
  const perGroup: Record<string, { messages: number; ids: Set<string> }> = {};
  for (const m of e.eventMessages ?? []) {
    if (!m.eventId) continue;
    for (const g of groupsReading(e.topicSet, m.topic)) {
      const x = perGroup[g] ?? { messages: 0, ids: new Set<string>() };
      perGroup[g] = x;
      x.messages++;
      x.ids.add(m.eventId);
    }
  }
  // Through the fallback: a stream entry a group was given, of an event Kafka holds as well (the
  // relay re-publishes what went only through the streams once Kafka is back), is one more delivery
  // to that group. Entries of events Kafka does not hold are left out: another run's, sharing this
  // Redis, or an event lost on the way to Kafka, which nothing-lost judges.
  let viaStreams = 0;
  for (const [id, entries] of e.streamCopies ?? []) {
    const kafka = e.copies.get(id);
    if (!kafka?.length) continue;
    const type =
      kafka.find((m) => inOwnTopic(e.topicSet, m))?.event?.eventType ??
      eventTypeOfTopic(e.topicSet, entries[0]!.topic);
    for (const s of entries) {
      const readers = groupsReading(e.topicSet, s.topic).filter((g) => s.deliveredTo.includes(g));
      if (readers.length === 0) continue;
      total++;
      viaStreams++;
      if (type && type in perType) perType[type]!++;
      for (const g of readers) {
        const x = perGroup[g] ?? { messages: 0, ids: new Set<string>() };
        perGroup[g] = x;
        x.messages++;
        x.ids.add(id);
      }
    }
  }
  return {
    duplicatesDelivered: total,
    deliveredViaStreams: viaStreams,
    ...Object.fromEntries(Object.entries(perType).map(([t, n]) => [`duplicatesDelivered:${t}`, n])),
    ...Object.fromEntries(
      Object.entries(perGroup).map(([g, x]) => [`duplicatesDelivered:${g}`, x.messages - x.ids.size]),
    ),
  };
}

export async function measureExercised(e: Evidence, extra?: Partial<Exercised>): Promise<Exercised> {
  // Only this database's students count: a shared Redis may hold other runs' keys.
  const cachedStudents = [
    ...new Set([...e.cache.generations.keys(), ...e.cache.dashboards.map((d) => d.studentId)]),
  ].filter((id) => uuidPattern.test(id));
  const [payments, pairs, windows, known, capacity] = await Promise.all([
    e.db.query<{ created: number; confirmed: number }>(
      `SELECT count(*)::int AS created, count(*) FILTER (WHERE status = 'succeeded')::int AS confirmed FROM payments`,
    ),
    e.db.query<{ pairs: number; extra: number }>(
      `SELECT count(*)::int AS pairs, coalesce(sum(n - 1), 0)::int AS extra FROM (
         SELECT count(*) AS n FROM payments WHERE status = 'succeeded'
         GROUP BY student_id, course_id HAVING count(*) > 1) r`,
    ),
    e.db.query<{ start_date: string; session_count: number; n: number }>(
      `SELECT to_char(a.start_date, 'YYYY-MM-DD') AS start_date, a.session_count,
              (SELECT count(DISTINCT seq)::int FROM tutoring_sessions s WHERE s.allocation_id = a.id) AS n
         FROM trainer_allocations a WHERE a.status IN ('approved', 'active')`,
    ),
    e.db.query<{ id: string }>('SELECT id FROM students WHERE id = ANY($1::uuid[])', [cachedStudents]),
    // Capacity was contended only where it ran out: a trainer (with seats) filled to its capacity, or
    // an allocation waitlisted for want of one. Two allocations sharing a roomy trainer are not it.
    e.db.query<{ full: number; waitlisted: number }>(
      `SELECT (SELECT count(*)::int FROM trainers t WHERE t.capacity > 0 AND t.capacity <=
                 (SELECT count(*) FROM trainer_allocations a
                   WHERE a.trainer_id = t.id AND a.status IN ('approved', 'active'))) AS full,
              (SELECT count(*)::int FROM trainer_allocations
                WHERE status = 'waitlisted' AND waitlist_reason = 'no_trainer_capacity') AS waitlisted`,
    ),
  ]);
  const ours = new Set(known.rows.map((r) => r.id));

  // Out of order: a group handled an event before the group that emits it had handled its cause.
  let outOfOrderSeen = 0;
  for (const [group, byId] of e.processed) {
    for (const row of byId.values()) {
      const event = e.copies.get(row.eventId)?.find((m) => inOwnTopic(e.topicSet, m))?.event;
      const producer = event ? emittedBy[event.eventType] : undefined;
      if (!event?.causationId || !producer) continue;
      const cause = e.processed.get(producer)?.get(event.causationId);
      if (cause && row.processedAt < cause.processedAt && group !== producer) outOfOrderSeen++;
    }
  }

  // Out of order on arrival: an event whose first copy reached Kafka before the first copy of its
  // cause (impossible in the system's own flow, where the cause is processed before the effect exists).
  let arrivedBeforeCause = 0;
  const firstArrival = (list: readonly { timestampMs: number }[]) =>
    Math.min(...list.map((m) => m.timestampMs));
  for (const list of e.copies.values()) {
    const cause = list.find((m) => inOwnTopic(e.topicSet, m))?.event?.causationId;
    const causeCopies = cause ? e.copies.get(cause) : undefined;
    if (causeCopies && firstArrival(list) < firstArrival(causeCopies)) arrivedBeforeCause++;
  }

  // Idempotency hits: an event delivered more than once (several copies in a topic a group reads, or
  // a copy in Kafka and a fallback stream entry a group was given), processed once by a group.
  let idempotencyHits = 0;
  for (const [id, list] of e.copies) {
    const viaStream = (e.streamCopies.get(id) ?? []).filter((s) => s.deliveredTo.length > 0).length;
    if (list.length + viaStream < 2) continue;
    for (const [, byId] of e.processed) if (byId.has(id)) idempotencyHits++;
  }

  let deadLettered = 0;
  for (const list of e.deadLetters.values()) deadLettered += list.length;

  const ops = e.ops;
  const dups = countDuplicates(e);
  const measured: Exercised = {
    paymentsCreated: payments.rows[0]?.created ?? 0,
    paymentsConfirmed: payments.rows[0]?.confirmed ?? 0,
    ...dups,
    duplicatesDelivered: dups.duplicatesDelivered ?? 0,
    outOfOrderDeliveries: Math.max(
      outOfOrderSeen,
      arrivedBeforeCause,
      ops.filter((o) => o.op === 'inject' && o.outcome !== 'fail' && isReorder(o)).length,
    ),
    idempotencyHits,
    domainConflicts: pairs.rows[0]?.extra ?? 0,
    retriesAfterTransientError: 0,
    rebalances: 0,
    restarts: 0,
    deadLettered,
    cacheReads: ops.filter((o) => o.op === 'dashboard' && o.outcome === 'ok').length,
    repeatedPairs: pairs.rows[0]?.pairs ?? 0,
    injected: ops.filter((o) => o.op === 'inject' && o.outcome !== 'fail').length,
    cachedDashboards: e.cache.dashboards.filter((d) => ours.has(d.studentId)).length,
    cacheInvalidations: [...e.cache.generations]
      .filter(([id]) => ours.has(id))
      .reduce((sum, [, gen]) => sum + gen, 0),
    trainersAtCapacity: capacity.rows[0]?.full ?? 0,
    waitlistedForCapacity: capacity.rows[0]?.waitlisted ?? 0,
    capacityReached: (capacity.rows[0]?.full ?? 0) + (capacity.rows[0]?.waitlisted ?? 0),
    toppedUpAllocations: windows.rows.filter((r) => r.n > dueAtAllocation(r.start_date, r.session_count))
      .length,
  };
  return mergeExercised(measured, extra);
}

/**
 * Chances a run gave the system to handle an event of `type` twice: extra copies delivered, plus
 * restarts and rebalances reported by the runner (each can redeliver an uncommitted batch).
 */
export function redeliveryChances(x: Exercised, type: string): number {
  return (x[`duplicatesDelivered:${type}`] ?? 0) + (x.restarts ?? 0) + (x.rebalances ?? 0);
}
