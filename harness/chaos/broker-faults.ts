// Faults on one broker of a three-broker cluster (`--target native-cluster`): the leader of the
// busiest partition killed, one broker cut off from every client, a rolling restart of all three.
// The broker is found through the direct listeners (metadata and high watermarks), so a fault on
// the proxies never hides the cluster's real state.
import { type ProcessSpec, processSpecs } from '../../system/contracts/processes.ts';
import { topics } from '../../system/contracts/topics.ts';
import { harnessKafka } from '../lib/kafka.ts';
import { sleep, waitFor } from '../lib/wait-for.ts';
import { once } from './network-faults.ts';
import type { Fault, FaultContext } from './scenario.ts';

/** The leader of the partition with the most messages among `of` (default: every event topic). */
export async function busiestLeader(
  ctx: FaultContext,
  of: readonly string[] = Object.values(topics),
): Promise<{ broker: number; topic: string; partition: number; messages: number; leads: number }> {
  const admin = harnessKafka(ctx.kafka.direct, 'payproof-chaos-leader').admin();
  await admin.connect();
  try {
    // Right after a failover a partition may have no leader yet: wait (bounded) until every one has.
    let md: Awaited<ReturnType<typeof admin.fetchTopicMetadata>>['topics'] = [];
    await waitFor(
      'every partition to have a leader',
      async () => {
        md = (await admin.fetchTopicMetadata({ topics: [...of] })).topics;
        return md.every((t) => t.partitions.every((p) => p.leader >= 0));
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    let best = { broker: 0, topic: '', partition: -1, messages: -1, leads: 0 };
    const leads = new Map<number, number>();
    for (const t of md) {
      const offsets = await admin.fetchTopicOffsets(t.name);
      for (const p of t.partitions) {
        leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
        const o = offsets.find((x) => x.partition === p.partitionId);
        const messages = Number(o?.high ?? 0) - Number(o?.low ?? 0);
        if (messages > best.messages)
          best = { broker: p.leader, topic: t.name, partition: p.partitionId, messages, leads: 0 };
      }
    }
    if (best.broker <= 0) throw new Error('no partition leader found');
    return { ...best, leads: leads.get(best.broker) ?? 0 };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Every partition of the event topics has all three replicas in sync again. */
async function waitFullIsr(ctx: FaultContext, timeoutMs = 90_000) {
  const admin = harnessKafka(ctx.kafka.direct, 'payproof-chaos-isr').admin();
  await admin.connect();
  try {
    await waitFor(
      'every replica back in sync',
      async () => {
        const { topics: md } = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
        return md.every((t) => t.partitions.every((p) => p.isr.length === p.replicas.length));
      },
      { timeoutMs, intervalMs: 500 },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const workerGroups = Object.values(processSpecs as Record<string, ProcessSpec>).flatMap((p) =>
  p.group ? [p.group] : [],
);

function services(ctx: FaultContext) {
  if (!ctx.services) throw new Error('needs a target that can restart brokers');
  return ctx.services;
}

/**
 * SIGKILL the broker leading the busiest partition (of the relay's topic when `relayTopic`); the
 * heal starts it again and waits until every replica is back in sync. With acks=all and
 * min.insync.replicas=2 nothing acknowledged is lost: a follower in sync takes over.
 */
export function killLeader(opts: { relayTopic?: boolean } = {}): Fault {
  const label = opts.relayTopic
    ? "SIGKILL the leader of the relay's busiest partition"
    : 'SIGKILL the busiest leader';
  return {
    label,
    kind: 'restart',
    target: 'kafka-leader',
    needs: ['services', 'brokers'],
    async inject(ctx) {
      const leader = await busiestLeader(ctx, opts.relayTopic ? [topics.PURCHASE_CONFIRMED] : undefined);
      const name = `kafka-${leader.broker}`;
      ctx.figures.killed_broker = name;
      ctx.figures.killed_leader_of = `${leader.topic}[${leader.partition}] (${leader.messages} messages; leads ${leader.leads} partitions)`;
      ctx.log(`[chaos] SIGKILL ${name}: leader of ${ctx.figures.killed_leader_of}`);
      await services(ctx).kill(name);
      return once(async () => {
        const t0 = performance.now();
        await services(ctx).start(name);
        await waitFullIsr(ctx);
        ctx.figures.broker_back_in_sync_s = Math.round(performance.now() - t0) / 1_000;
        ctx.log(`[chaos] ${name} back, every replica in sync after ${ctx.figures.broker_back_in_sync_s} s`);
      });
    },
  };
}

/** Java's String.hashCode (int32 over UTF-16 code units), as Kafka hashes a group id. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The `__consumer_offsets` partition that holds a group, hence whose leader coordinates it. */
export function coordinatorPartition(groupId: string, partitions: number): number {
  return (javaStringHash(groupId) & 0x7fffffff) % partitions;
}

/** The broker coordinating each worker group: the leader of the group's `__consumer_offsets` partition. */
export async function groupCoordinators(ctx: FaultContext): Promise<Map<string, number>> {
  const admin = harnessKafka(ctx.kafka.direct, 'payproof-chaos-coordinator').admin();
  await admin.connect();
  try {
    const { topics: md } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    const parts = md[0]?.partitions ?? [];
    if (parts.length === 0) throw new Error('no __consumer_offsets partitions (no group has committed yet)');
    const out = new Map<string, number>();
    for (const group of workerGroups) {
      const p = parts.find((x) => x.partitionId === coordinatorPartition(group, parts.length));
      if (p && p.leader >= 0) out.set(group, p.leader);
    }
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Cuts one broker off from every client (its Toxiproxy proxy disabled: the system's producers and
 * consumers cannot reach it; the brokers still replicate among themselves) for the fault's length.
 * The broker chosen coordinates the most worker groups (ties: the one leading the busiest
 * partition): its groups' members cannot heartbeat, the broker expires them after the session
 * timeout, and they join again after the heal (a rebalance, seen by the broker's generation ids);
 * its partitions take no writes and serve no fetches meanwhile, and the outbox buffers them.
 */
export function isolateLeader(): Fault {
  return {
    label: 'isolate the coordinator of the most worker groups from clients',
    kind: 'partition',
    target: 'kafka-leader',
    needs: ['network', 'brokers'],
    async inject(ctx) {
      const leader = await busiestLeader(ctx);
      const coordinators = await groupCoordinators(ctx);
      const groupsOf = (b: number) => [...coordinators].filter(([, c]) => c === b).map(([g]) => g);
      const broker = [1, 2, 3].reduce((best, b) => {
        const d = groupsOf(b).length - groupsOf(best).length;
        return d > 0 || (d === 0 && b === leader.broker) ? b : best;
      }, leader.broker);
      const proxies = ctx.proxies(`kafka-${broker}`);
      const groups = groupsOf(broker);
      ctx.figures.isolated_broker = `kafka-${broker} (coordinates ${groups.length ? groups.join(', ') : 'no worker group'})`;
      ctx.log(`[chaos] isolating ${ctx.figures.isolated_broker} from clients (${proxies.join(', ')})`);
      const { setEnabled, healProxy } = await import('./proxy.ts');
      for (const p of proxies)
        if (ctx.holds.acquire(`disabled:${p}`) === 1) await setEnabled(ctx.toxiproxyUrl, p, false);
      return once(async () => {
        for (const p of proxies)
          if (ctx.holds.release(`disabled:${p}`) === 0)
            await healProxy(ctx.toxiproxyUrl, p, { toxics: [], enable: true });
      });
    },
  };
}

/**
 * Restarts every broker in turn, as an upgrade does: SIGKILL one, start it, wait until every
 * replica is in sync again, then the next. The heal waits for the roll to finish.
 */
export function rollingRestart(brokers = 3, pauseMs = 1_000): Fault {
  return {
    label: `rolling restart of ${brokers} brokers`,
    kind: 'restart',
    target: 'kafka',
    needs: ['services', 'brokers'],
    async inject(ctx) {
      const svc = services(ctx);
      const t0 = performance.now();
      const roll = (async () => {
        for (let i = 1; i <= brokers && !ctx.signal.aborted; i++) {
          ctx.log(`[chaos] rolling restart: kafka-${i}`);
          await svc.kill(`kafka-${i}`);
          await sleep(pauseMs);
          await svc.start(`kafka-${i}`);
          await waitFullIsr(ctx);
        }
        ctx.figures.rolling_restart_s = Math.round(performance.now() - t0) / 1_000;
      })();
      roll.catch(() => undefined);
      return once(async () => {
        await roll;
      });
    },
  };
}
