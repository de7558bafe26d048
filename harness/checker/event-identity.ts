// Envelope determinism (docs/semantics.md): every copy of an event id, in any topic (dead letters
// included) and in the outbox, carries the identical envelope and key; each entity is announced by
// exactly one event id, the deterministic one (system/contracts/ids.ts), and by no other; the
// envelope's timestamp is the entity's own time, never "now"; every entity that must be announced is.
import type { DomainEvent } from '../../system/contracts/events.ts';
import { eventIdFor } from '../../system/contracts/ids.ts';
import { parseEvent } from '../../system/contracts/validate.ts';
import { announcedEntity } from './announced.ts';
import { canonicalJson, firstDifference } from './canonical.ts';
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import type { TopicMessage } from './read-topics.ts';
import { queryRows } from './rows.ts';
import { inOwnTopic } from './topic-set.ts';

const name = 'event-identity';
const description =
  'copies of an event id are identical; each entity is announced by exactly its deterministic event id, stamped with its own time';

/** Milliseconds of slack between an envelope timestamp and the entity's time (µs vs ms precision). */
const timestampSlackMs = 1;

/** An event read from the outbox (its envelope parsed), where no topic holds it. */
interface OutboxEvent {
  readonly event: DomainEvent;
  readonly key: string | null;
}

/** A valid event of its own topic, or of the outbox. */
type AnnouncingEvent = (TopicMessage & { readonly event: DomainEvent }) | OutboxEvent;

const where = (m: TopicMessage) => `${m.topic}/${m.partition}@${m.offset}`;

export async function eventIdentity(ctx: CheckContext): Promise<CheckedInvariant> {
  const violations: Violation[] = [];

  // 1. Every copy of an id is the same message (the dead letters' copies included).
  const dead = new Map<string, TopicMessage[]>();
  for (const list of ctx.deadLetters.values())
    for (const d of list)
      if (d.eventId && d.json !== undefined) dead.set(d.eventId, [...(dead.get(d.eventId) ?? []), d]);
  const compareCopies = (eventId: string, list: readonly TopicMessage[]) => {
    const first = list[0]!;
    const body = (m: TopicMessage) => (m.json === undefined ? m.value : m.json);
    for (const other of list.slice(1)) {
      if (other.key !== first.key || canonicalJson(body(other)) !== canonicalJson(body(first))) {
        const diff =
          other.key !== first.key
            ? { path: 'key', expected: first.key, found: other.key }
            : firstDifference(body(first), body(other));
        violations.push({ kind: 'copies-differ', eventId, copies: [where(first), where(other)], ...diff });
        break;
      }
    }
  };
  for (const [eventId, list] of ctx.copies) {
    const extra = dead.get(eventId);
    compareCopies(eventId, extra ? [...list, ...extra] : list);
  }
  for (const [eventId, list] of dead) if (!ctx.copies.has(eventId)) compareCopies(eventId, list);
  const firstCopy = (eventId: string) => ctx.copies.get(eventId)?.[0] ?? dead.get(eventId)?.[0];

  // 2. Keys, deterministic ids, one id per entity: over valid events of the topics and the outbox.
  // The topic's message itself (its place in the topics is named only in a violation), or the
  // outbox's envelope: no object or string per event beyond what the context holds.
  const events = new Map<string, AnnouncingEvent>();
  const sourceOf = (x: AnnouncingEvent) => ('topic' in x ? where(x) : 'outbox');
  for (const [, list] of ctx.copies)
    for (const m of list)
      if (m.event && inOwnTopic(ctx.topicSet, m) && !events.has(m.event.eventId))
        events.set(m.event.eventId, m as AnnouncingEvent);
  for await (const r of queryRows<{ event_id: string; message_key: string; envelope: unknown }>(
    ctx.db,
    'SELECT event_id, message_key, envelope FROM outbox',
  )) {
    const first = firstCopy(r.event_id);
    if (first && first.json !== undefined) {
      const diff = firstDifference(r.envelope, first.json);
      if (diff)
        violations.push({
          kind: 'outbox-and-topic-differ',
          eventId: r.event_id,
          copy: where(first),
          ...diff,
        });
    }
    const parsed = parseEvent(JSON.stringify(r.envelope));
    if (!parsed.ok) {
      violations.push({
        kind: 'invalid-outbox-envelope',
        eventId: r.event_id,
        expected: 'a valid envelope',
        found: parsed.detail,
      });
      continue;
    }
    if (parsed.event.eventId !== r.event_id)
      violations.push({
        kind: 'outbox-id-mismatch',
        eventId: r.event_id,
        expected: r.event_id,
        found: parsed.event.eventId,
      });
    if (!events.has(r.event_id)) events.set(r.event_id, { event: parsed.event, key: r.message_key });
  }
  /** Event type -> entity id -> the ids announcing it. */
  const idsByEntity = new Map<string, Map<string, string | Set<string>>>();
  for (const [eventId, x] of events) {
    const { event, key } = x;
    const a = announcedEntity(event);
    if (eventId !== a.expectedEventId)
      violations.push({
        kind: 'non-deterministic-id',
        eventId,
        eventType: a.eventType,
        entityId: a.entityId,
        source: sourceOf(x),
        expected: a.expectedEventId,
        found: eventId,
      });
    if (key !== event.payload.studentId)
      violations.push({
        kind: 'wrong-key',
        eventId,
        source: sourceOf(x),
        expected: event.payload.studentId,
        found: key,
      });
    // One id (a string) per entity as a rule; a Set only for an entity announced twice.
    const ofType = idsByEntity.get(a.eventType) ?? new Map<string, string | Set<string>>();
    idsByEntity.set(a.eventType, ofType);
    const seen = ofType.get(a.entityId);
    if (seen === undefined) ofType.set(a.entityId, eventId);
    else if (typeof seen === 'string') {
      if (seen !== eventId) ofType.set(a.entityId, new Set([seen, eventId]));
    } else seen.add(eventId);
  }
  for (const [eventType, ofType] of idsByEntity)
    for (const [entityId, ids] of ofType)
      if (typeof ids !== 'string')
        violations.push({
          kind: 'entity-announced-twice',
          entity: `${eventType} ${entityId}`,
          expected: 1,
          found: [...ids],
        });

  // 3. Every entity that must be announced is, by its deterministic id, stamped with its own time.
  let entities = 0;
  for await (const e of queryRows<{
    type: 'PURCHASE_CONFIRMED' | 'PURCHASE_CREATED' | 'TRAINER_ALLOCATED';
    id: string;
    at: Date;
  }>(
    ctx.db,
    `SELECT 'PURCHASE_CONFIRMED' AS type, id, confirmed_at AS at FROM payments WHERE status = 'succeeded'
     UNION ALL SELECT 'PURCHASE_CREATED', id, created_at FROM student_course_purchases
     UNION ALL SELECT 'TRAINER_ALLOCATED', id, created_at FROM trainer_allocations WHERE status IN ('approved', 'active')`,
  )) {
    entities++;
    const eventId = eventIdFor(e.type, e.id);
    const announced = events.get(eventId)?.event;
    if (!announced) {
      violations.push({
        kind: 'entity-not-announced',
        eventType: e.type,
        entityId: e.id,
        expected: eventId,
        found: null,
      });
      continue;
    }
    const ts = Date.parse(announced.timestamp);
    if (!(Math.abs(ts - e.at.getTime()) <= timestampSlackMs))
      violations.push({
        kind: 'timestamp-not-entity-time',
        eventId,
        entityId: e.id,
        expected: e.at.toISOString(),
        found: announced.timestamp,
      });
  }
  return judge({
    name,
    description,
    checked: events.size + entities,
    violations,
    notExercised: ctx.topicsRead ? undefined : 'topics not read: copies in Kafka not compared',
  });
}
