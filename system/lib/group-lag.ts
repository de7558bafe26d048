// Consumer lag and dead-letter queue size read from the broker on a timer, so that neither freezes
// when a partition is stuck (the per-chunk gauge only moves when a chunk commits) and the DLQ size
// is the topic's, not a per-process counter that a restart resets.
import type { Admin } from 'kafkajs';
import { type ConsumerGroup, dlqTopic, groupTopics } from '../contracts/index.ts';
import { sleep } from './backoff.ts';
import type { Logger } from './log.ts';
import { metrics } from './metrics.ts';

/** Sum over partitions of (end offset − committed offset); a partition never committed counts from its start. */
export function lagOf(
  ends: readonly { partition: number; high: string; low: string }[],
  committed: readonly { partition: number; offset: string }[],
): number {
  const at = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
  let lag = 0n;
  for (const p of ends) {
    const c = at.get(p.partition) ?? -1n;
    const from = c < 0n ? BigInt(p.low) : c;
    const d = BigInt(p.high) - from;
    if (d > 0n) lag += d;
  }
  return Number(lag);
}

/** Reads the group's lag per topic and its DLQ's size once; throws when the broker does not answer. */
export async function readGroupState(admin: Admin, group: ConsumerGroup): Promise<void> {
  const names = groupTopics(group);
  const committed = await admin.fetchOffsets({ groupId: group, topics: names });
  for (const name of names) {
    const ends = await admin.fetchTopicOffsets(name);
    const mine = committed.find((c) => c.topic === name)?.partitions ?? [];
    metrics.groupLag.set({ group, topic: name }, lagOf(ends, mine));
  }
  const dlq = await admin.fetchTopicOffsets(dlqTopic(group));
  metrics.dlqMessages.set(
    { group },
    dlq.reduce((n, p) => n + Math.max(0, Number(BigInt(p.high) - BigInt(p.low))), 0),
  );
  metrics.lagReadAt.set({ group }, Date.now() / 1000);
}

/**
 * Refreshes the gauges every `everyMs` until `signal` aborts. A failed read leaves the last values
 * (their timestamp gauge says how old they are) and is logged at most once a minute.
 */
export function watchGroup(
  admin: Admin,
  group: ConsumerGroup,
  log: Logger,
  signal: AbortSignal,
  everyMs = 2_000,
): Promise<void> {
  return (async () => {
    let connected = false;
    let lastWarn = 0;
    while (!signal.aborted) {
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        await readGroupState(admin, group);
      } catch (err) {
        if (Date.now() - lastWarn > 60_000) {
          lastWarn = Date.now();
          log.warn({ err: (err as Error).message }, 'reading consumer lag from the broker failed');
        }
      }
      await sleep(everyMs, signal);
    }
    if (connected) await admin.disconnect().catch(() => {});
  })();
}
