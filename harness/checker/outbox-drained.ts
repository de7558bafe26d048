// Invariant 5 (outbox): every outbox row was published, and "published" is true: a copy of the
// event is in its topic (a row marked published whose send failed is a lost event).
import { type EventType, eventTypes } from '../../system/contracts/topics.ts';
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, type Violation } from './judge.ts';
import { queryRows } from './rows.ts';

const name = 'outbox-drained';
const description = 'every outbox row is published, and every published row has a copy in its topic';

export async function outboxDrained(ctx: CheckContext): Promise<CheckedInvariant> {
  const rows = queryRows<{
    event_id: string;
    event_type: string;
    published_at: Date | null;
    publish_attempts: number;
    created_at: Date;
  }>(
    ctx.db,
    'SELECT event_id, event_type, published_at, publish_attempts, created_at FROM outbox ORDER BY id',
  );
  const violations: Violation[] = [];
  let checked = 0;
  for await (const r of rows) {
    checked++;
    if (r.published_at === null) {
      violations.push({
        kind: 'unpublished',
        eventId: r.event_id,
        eventType: r.event_type,
        createdAt: r.created_at.toISOString(),
        publishAttempts: r.publish_attempts,
        expected: 'published_at set',
        found: null,
      });
      continue;
    }
    if (!ctx.topicsRead) continue;
    const topic = eventTypes.includes(r.event_type as EventType)
      ? ctx.topicSet.events[r.event_type as EventType]
      : undefined;
    const inTopic = ctx.copies.get(r.event_id)?.some((m) => m.topic === topic) ?? false;
    if (!inTopic)
      violations.push({
        kind: 'published-but-absent',
        eventId: r.event_id,
        eventType: r.event_type,
        publishedAt: r.published_at.toISOString(),
        expected: `a copy in ${topic ?? '(no topic for this type)'}`,
        found: 'none',
      });
  }
  return judge({
    name,
    description,
    checked,
    violations,
    notExercised: ctx.topicsRead ? undefined : 'topics not read: published rows not verified in Kafka',
  });
}
