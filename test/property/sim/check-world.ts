// Judges a property run with the real checker: the database of the run, the in-memory bus as its
// topics, the Redis cache of the run's own students, and the run's client history.
import { checkAll } from '../../../harness/checker/check.ts';
import { type Evidence, loadContext } from '../../../harness/checker/context.ts';
import { measureExercised } from '../../../harness/checker/exercised.ts';
import type { CheckedInvariant } from '../../../harness/checker/judge.ts';
import { readCache } from '../../../harness/checker/read-cache.ts';
import type { TopicMessage } from '../../../harness/checker/read-topics.ts';
import { eventTypeOfTopic, systemTopicSet } from '../../../harness/checker/topic-set.ts';
import { type ConsumerGroup, groupNames } from '../../../system/contracts/index.ts';
import type { RunStats } from './run-scenario.ts';
import type { World } from './world.ts';

export async function checkWorld(
  world: World,
  stats: RunStats,
  redisUrl: string,
): Promise<CheckedInvariant[]> {
  const base = await loadContext({ databaseUrl: world.db.url, history: world.history });
  try {
    const messages = world.bus.topicMessages();
    const eventMessages = messages.filter((m) => eventTypeOfTopic(systemTopicSet, m.topic) !== undefined);
    const deadLetters = new Map<ConsumerGroup, TopicMessage[]>(
      groupNames.map((g) => [g, messages.filter((m) => m.topic === systemTopicSet.dlq[g])]),
    );
    const copies = new Map<string, TopicMessage[]>();
    for (const m of eventMessages)
      if (m.eventId) copies.set(m.eventId, [...(copies.get(m.eventId) ?? []), m]);
    const cache = await readCache(redisUrl);
    const mine = new Set(world.students);
    const evidence: Evidence = {
      ...base,
      topicsRead: true,
      eventMessages,
      deadLetters,
      copies,
      cacheRead: true,
      cache: {
        dashboards: cache.dashboards.filter((d) => mine.has(d.studentId)),
        generations: new Map([...cache.generations].filter(([s]) => mine.has(s))),
      },
    };
    // Copies delivered by the simulation never sat in the bus twice: report them as the runner would.
    const exercised = await measureExercised(evidence, {
      duplicatesDelivered: stats.duplicatesDelivered,
      outOfOrderDeliveries: stats.outOfOrder,
      retriesAfterTransientError: stats.abortedTransactions + stats.relayRetries,
      restarts: stats.redeliveredChunks,
      ...stats.duplicatesByType,
    });
    return await checkAll({ ...evidence, exercised });
  } finally {
    await base.close();
  }
}

/** The invariants that failed, with their first examples (unknown is not a failure here). */
export function failedInvariants(results: readonly CheckedInvariant[]) {
  return results
    .filter((r) => r.valid === false)
    .map((r) => ({ name: r.name, violations: r.violations, examples: r.examples.slice(0, 2) }));
}
