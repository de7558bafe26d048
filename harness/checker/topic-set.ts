// Which topics the checker reads. The system's names by default; tests pass an isolated set (same
// roles, fresh names) so that they never see each other's messages.
import {
  type ConsumerGroup,
  consumerGroups,
  dlqTopic,
  type EventType,
  eventTypes,
  groupNames,
  topics,
} from '../../system/contracts/topics.ts';

/** The topic of each event type and the dead-letter topic of each consumer group. */
export interface TopicSet {
  readonly events: Readonly<Record<EventType, string>>;
  readonly dlq: Readonly<Record<ConsumerGroup, string>>;
}

/** The reference system's topics (system/contracts/topics.ts). */
export const systemTopicSet: TopicSet = {
  events: topics,
  dlq: Object.fromEntries(groupNames.map((g) => [g, dlqTopic(g)])) as Record<ConsumerGroup, string>,
};

/** The same roles under fresh names (`<name>.<suffix>`): a test's private copy of the topology. */
export function isolatedTopicSet(suffix: string): TopicSet {
  return {
    events: Object.fromEntries(eventTypes.map((t) => [t, `${topics[t]}.${suffix}`])) as Record<
      EventType,
      string
    >,
    dlq: Object.fromEntries(groupNames.map((g) => [g, `${dlqTopic(g)}.${suffix}`])) as Record<
      ConsumerGroup,
      string
    >,
  };
}

/** The event type a topic carries, or undefined for a topic that is not an event topic of the set. */
export function eventTypeOfTopic(set: TopicSet, topic: string): EventType | undefined {
  return eventTypes.find((t) => set.events[t] === topic);
}

/** Consumer groups that read `topic` (by contract, every group that consumes its event type). */
export function groupsReading(set: TopicSet, topic: string): ConsumerGroup[] {
  const type = eventTypeOfTopic(set, topic);
  if (!type) return [];
  return groupNames.filter((g) => (consumerGroups[g] as readonly EventType[]).includes(type));
}

/** Consumer groups that must process an event of `type`. */
export function groupsConsuming(type: EventType): ConsumerGroup[] {
  return groupNames.filter((g) => (consumerGroups[g] as readonly EventType[]).includes(type));
}

/** Event topics a group reads, in this set. */
export function topicsReadBy(set: TopicSet, group: ConsumerGroup): string[] {
  return (consumerGroups[group] as readonly EventType[]).map((t) => set.events[t]);
}

/** Every topic of the set: event topics, then dead-letter topics. */
export function everyTopic(set: TopicSet): string[] {
  return [...eventTypes.map((t) => set.events[t]), ...groupNames.map((g) => set.dlq[g])];
}

/**
 * Whether a message is an event of the flow: a valid envelope in the topic of its own type. A valid
 * envelope in another topic is a stray message (rejected as wrong_topic), not an announcement.
 */
export function inOwnTopic(
  set: TopicSet,
  m: { readonly topic: string; readonly event: { readonly eventType: EventType } | null },
): boolean {
  return m.event !== null && set.events[m.event.eventType] === m.topic;
}
