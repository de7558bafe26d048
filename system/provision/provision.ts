// Provision: what must exist before any process of the system starts, made idempotent so a
// deployment runs it on every rollout (a Compose service, a Kubernetes Job, an ExecStartPre=):
// the database schema (migrations/ through node-pg-migrate, tracked in `pgmigrations`), the event
// topics with their partitions and replication, and one dead-letter topic per consumer group.
// A second run changes nothing; a topic with fewer partitions than asked is grown (never shrunk:
// Kafka cannot), a topic with another replication factor is reported, not recreated.
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import '../lib/kafkajs-fix.ts';
import { runner } from 'node-pg-migrate';
import { allTopics, defaultPartitions } from '../contracts/topics.ts';

export interface ProvisionOptions {
  readonly databaseUrl: string;
  readonly brokers: readonly string[];
  /** Partitions of each event topic (dead-letter topics have one). */
  readonly partitions?: number;
  /** Replication factor of every topic; default min(3, brokers in the cluster). */
  readonly replicationFactor?: number;
  /** min.insync.replicas of every topic; default 2 when replicated 3 or more times, else 1. */
  readonly minInsyncReplicas?: number;
  readonly migrationsDir?: string;
  /** Bound on waiting for PostgreSQL and Kafka to answer (a deployment starts them side by side). */
  readonly waitMs?: number;
  readonly log?: (line: string) => void;
}

export interface ProvisionResult {
  readonly migrationsApplied: readonly string[];
  readonly topicsCreated: readonly string[];
  readonly topicsGrown: readonly string[];
  /** Topics whose replication factor differs from the one asked (left as they are). */
  readonly topicsMismatched: readonly string[];
  readonly replicationFactor: number;
  readonly brokers: number;
}

export const defaultMigrationsDir = join(import.meta.dirname, '..', '..', 'migrations');

async function retrying<T>(what: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`provision: ${what} did not answer within ${waitMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}

export async function migrate(databaseUrl: string, dir = defaultMigrationsDir): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    singleTransaction: true,
    log: () => {},
    verbose: false,
  });
  return applied.map((m) => m.name);
}

export async function provisionTopics(
  admin: Admin,
  o: Pick<ProvisionOptions, 'partitions' | 'replicationFactor' | 'minInsyncReplicas'>,
): Promise<Omit<ProvisionResult, 'migrationsApplied'>> {
  const cluster = await admin.describeCluster();
  const brokers = cluster.brokers.length;
  const rf = o.replicationFactor ?? Math.min(3, brokers);
  if (rf > brokers)
    throw new Error(`provision: replication factor ${rf} > ${brokers} brokers in the cluster`);
  const minIsr = o.minInsyncReplicas ?? (rf >= 3 ? 2 : 1);
  const partitionsOf = (t: string) => (t.endsWith('.dlq') ? 1 : (o.partitions ?? defaultPartitions));
  const wanted = allTopics();
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await admin.createTopics({
      // Waited for below: on a cluster, kafkajs's own wait fails while the new partitions'
      // metadata reaches every broker ("does not host this topic-partition").
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitionsOf(topic),
        replicationFactor: rf,
        configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }],
      })),
    });
  }
  for (let attempt = 0; ; attempt++) {
    const md = await admin.fetchTopicMetadata({ topics: wanted }).catch(() => undefined);
    if (md?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
    if (attempt > 300)
      throw new Error('provision: topics created but their partitions have no leader after 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  const grown: string[] = [];
  const mismatched: string[] = [];
  const present = wanted.filter((t) => existing.has(t));
  if (present.length > 0) {
    const { topics } = await admin.fetchTopicMetadata({ topics: present });
    const grow: { topic: string; count: number }[] = [];
    for (const t of topics) {
      if (t.partitions.length < partitionsOf(t.name))
        grow.push({ topic: t.name, count: partitionsOf(t.name) });
      const replicas = t.partitions[0]?.replicas.length ?? 0;
      if (replicas !== rf) mismatched.push(`${t.name} (replication ${replicas}, asked ${rf})`);
    }
    if (grow.length > 0) {
      await admin.createPartitions({ topicPartitions: grow, validateOnly: false });
      grown.push(...grow.map((g) => g.topic));
    }
  }
  return {
    topicsCreated: missing,
    topicsGrown: grown,
    topicsMismatched: mismatched,
    replicationFactor: rf,
    brokers,
  };
}

/** Migrations and topics, each waited for (bounded), both idempotent. */
export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
  const waitMs = o.waitMs ?? 60_000;
  const log = o.log ?? (() => {});
  const migrationsApplied = await retrying('PostgreSQL', waitMs, () =>
    migrate(o.databaseUrl, o.migrationsDir ?? defaultMigrationsDir),
  );
  log(`migrations: ${migrationsApplied.length ? migrationsApplied.join(', ') : 'up to date'}`);
  const kafka = new Kafka({
    clientId: 'payproof-provision',
    brokers: [...o.brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  await retrying('Kafka', waitMs, () => admin.connect());
  try {
    const topics = await retrying('Kafka', waitMs, () => provisionTopics(admin, o));
    log(
      `topics: ${topics.topicsCreated.length} created, ${topics.topicsGrown.length} grown, replication ${topics.replicationFactor} on ${topics.brokers} broker(s)` +
        (topics.topicsMismatched.length
          ? `; replication differs: ${topics.topicsMismatched.join(', ')}`
          : ''),
    );
    return { migrationsApplied, ...topics };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
