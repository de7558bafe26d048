// Invariant 5 (consumers): every event in an event topic was processed by each consumer group that
// reads the topic (processed_events(group, eventId)), or sits in that group's dead-letter topic with
// a reason. A message that is not a valid event must be dead-lettered by each group that reads it.
import type { ConsumerGroup } from '../../system/contracts/topics.ts';
import { type CheckContext, wasProcessed } from './context.ts';
import { deadLettersOf, hasReason } from './dead-letters.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';
import type { TopicMessage } from './read-topics.ts';
import { groupsReading, inOwnTopic } from './topic-set.ts';

const name = 'events-processed';
const description =
  'every event in a topic was processed by each group that reads it, or dead-lettered by that group with a reason';

export async function eventsProcessed(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.topicsRead) return notAvailable(name, description, 'topics not read');
  /** (item, group) -> the copies of that item the group read. */
  const items = new Map<
    string,
    { group: ConsumerGroup; valid: boolean; eventId: string | null; copies: TopicMessage[] }
  >();
  for (const m of ctx.eventMessages) {
    const valid = inOwnTopic(ctx.topicSet, m);
    const item = valid ? `event ${m.eventId}` : `message ${m.topic}/${m.partition}@${m.offset}`;
    for (const group of groupsReading(ctx.topicSet, m.topic)) {
      const key = `${item} ${group}`;
      const entry = items.get(key) ?? { group, valid, eventId: valid ? m.eventId : null, copies: [] };
      entry.copies.push(m);
      items.set(key, entry);
    }
  }
  const violations: Violation[] = [];
  for (const { group, valid, eventId, copies } of items.values()) {
    if (valid && eventId && wasProcessed(ctx, group, eventId)) continue;
    // A valid envelope in another type's topic: a group that consumes that type may take it.
    const stray = copies[0]?.event;
    if (!valid && stray && wasProcessed(ctx, group, stray.eventId)) continue;
    const letters = copies.flatMap((m) => deadLettersOf(ctx, group, m));
    if (letters.some(hasReason)) continue;
    const where = copies.map((m) => `${m.topic}/${m.partition}@${m.offset}`);
    violations.push({
      kind:
        letters.length > 0
          ? 'dead-lettered-without-reason'
          : valid
            ? 'not-processed'
            : 'invalid-not-dead-lettered',
      group,
      ...(eventId
        ? { eventId, eventType: copies[0]?.event?.eventType }
        : { rejectCode: copies[0]?.rejectCode }),
      copies: where,
      expected: valid
        ? `processed_events(${group}, id) or ${ctx.topicSet.dlq[group]} with a reason`
        : `${ctx.topicSet.dlq[group]} with a reason`,
      found: letters.length > 0 ? 'dead letter without x-dlq-reason' : 'neither',
    });
  }
  return judge({ name, description, checked: items.size, violations });
}
