// Finding a message in a group's dead-letter topic: by its source coordinates (x-source-topic,
// x-source-partition, x-source-offset) or, for a letter without them, by the event id.
import type { ConsumerGroup } from '../../system/contracts/topics.ts';
import type { Evidence } from './context.ts';
import type { TopicMessage } from './read-topics.ts';

export const reasonHeader = 'x-dlq-reason';

/** Dead letters of `group` that stand for `m`. */
export function deadLettersOf(
  ctx: Pick<Evidence, 'deadLetters'>,
  group: ConsumerGroup,
  m: TopicMessage,
): TopicMessage[] {
  return (ctx.deadLetters.get(group) ?? []).filter((d) =>
    // The coordinates name the very copy; the event id is the fallback for letters without them.
    d.headers['x-source-topic'] !== undefined
      ? d.headers['x-source-topic'] === m.topic &&
        d.headers['x-source-partition'] === String(m.partition) &&
        d.headers['x-source-offset'] === String(m.offset)
      : m.eventId !== null && d.eventId === m.eventId,
  );
}

/** Whether a dead letter says why it is there. */
export function hasReason(d: TopicMessage): boolean {
  return (d.headers[reasonHeader] ?? '').trim() !== '';
}
