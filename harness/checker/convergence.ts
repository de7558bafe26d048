// A bounded wait for quiescence: the outbox has no unpublished row, every consumer group's committed
// offsets reach the high watermark of each topic it reads, and the state has stopped changing for
// `stableMs`. A run that does not converge in time FAILS with what was still pending.
import pg from 'pg';
import { consumerGroups, type EventType } from '../../system/contracts/topics.ts';
import { harnessKafka } from '../lib/kafka.ts';
import { sleep } from '../lib/wait-for.ts';
import type { CheckedInvariant } from './judge.ts';
import { systemTopicSet, type TopicSet } from './topic-set.ts';

export interface ConvergenceOptions {
  /** The direct database URL. */
  readonly databaseUrl: string;
  readonly brokers: string;
  /** Consumer group -> topics it reads; by default the system's four groups over `topicSet`. */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  readonly topicSet?: TopicSet;
  readonly timeoutMs?: number;
  /** How long the state must stay unchanged once drained. */
  readonly stableMs?: number;
  readonly intervalMs?: number;
}

export interface Pending {
  /** Unpublished outbox rows (-1 when never measured). */
  readonly outbox: number;
  /** Messages not yet committed, per consumer group. */
  readonly lag: Readonly<Record<string, number>>;
}

export interface ConvergenceResult {
  readonly converged: boolean;
  readonly waitedMs: number;
  readonly pending: Pending;
  /** The last error met while polling, if any (a broker or database blip). */
  readonly lastError?: string;
}

/** The system's groups and the topics each reads, in a topic set. */
export function defaultGroups(set: TopicSet = systemTopicSet): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(consumerGroups).map(([g, types]) => [
      g,
      (types as readonly EventType[]).map((t) => set.events[t]),
    ]),
  );
}

export async function waitForConvergence(o: ConvergenceOptions): Promise<ConvergenceResult> {
  const groups = o.groups ?? defaultGroups(o.topicSet);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const stableMs = o.stableMs ?? 1_000;
  const intervalMs = o.intervalMs ?? 200;
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 1 });
  db.on('error', () => {});
  const admin = harnessKafka(o.brokers, 'payproof-convergence', {
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
  }).admin();
  const t0 = performance.now();
  let pending: Pending = { outbox: -1, lag: Object.fromEntries(Object.keys(groups).map((g) => [g, -1])) };
  let lastError: string | undefined;
  let last = '';
  let stableSince = 0;
  try {
    await admin.connect();
    for (;;) {
      try {
        const state = await db.query<{ unpublished: number; fingerprint: string }>(
          `SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unpublished,
                  concat_ws(',',
                    (SELECT count(*) FROM outbox), (SELECT count(*) FROM payments WHERE status = 'succeeded'),
                    (SELECT count(*) FROM student_course_purchases), (SELECT count(*) FROM trainer_allocations),
                    (SELECT count(*) FROM tutoring_sessions), (SELECT count(*) FROM processed_events),
                    (SELECT sum(active_allocations) FROM trainers)) AS fingerprint`,
        );
        const existing = new Set(await admin.listTopics());
        const highs = new Map<string, { high: number; low: number }>();
        for (const topic of new Set(Object.values(groups).flat())) {
          if (!existing.has(topic)) continue;
          for (const p of await admin.fetchTopicOffsets(topic))
            highs.set(`${topic}/${p.partition}`, { high: Number(p.high), low: Number(p.low) });
        }
        const lag: Record<string, number> = {};
        const committed: string[] = [];
        for (const [groupId, topics] of Object.entries(groups)) {
          const present = topics.filter((t) => existing.has(t));
          let behind = 0;
          const offsets = present.length > 0 ? await admin.fetchOffsets({ groupId, topics: present }) : [];
          for (const t of offsets)
            for (const p of t.partitions) {
              const w = highs.get(`${t.topic}/${p.partition}`);
              if (!w) continue;
              const at = Number(p.offset) < 0 ? w.low : Number(p.offset);
              behind += Math.max(0, w.high - at);
              committed.push(`${t.topic}/${p.partition}=${p.offset}`);
            }
          lag[groupId] = behind;
        }
        const unpublished = state.rows[0]?.unpublished ?? 0;
        pending = { outbox: unpublished, lag };
        const fingerprint = `${state.rows[0]?.fingerprint}|${[...highs.values()].map((w) => w.high).join(',')}|${committed.join(',')}`;
        const drained = unpublished === 0 && Object.values(lag).every((n) => n === 0);
        const now = performance.now();
        if (!drained || fingerprint !== last) stableSince = now;
        last = fingerprint;
        if (drained && now - stableSince >= stableMs)
          return { converged: true, waitedMs: Math.round(now - t0), pending };
      } catch (err) {
        lastError = (err as Error).message;
        stableSince = performance.now();
      }
      if (performance.now() - t0 > timeoutMs)
        return {
          converged: false,
          waitedMs: Math.round(performance.now() - t0),
          pending,
          ...(lastError ? { lastError } : {}),
        };
      await sleep(intervalMs);
    }
  } finally {
    await admin.disconnect().catch(() => {});
    await db.end();
  }
}

/** The convergence wait as an invariant result: a run that never settled is a FAIL, with what was pending. */
export function convergenceInvariant(r: ConvergenceResult): CheckedInvariant {
  const lagTotal = Object.values(r.pending.lag).reduce((a, b) => a + Math.max(0, b), 0);
  const base = {
    name: 'converged',
    description: 'within the time bound the outbox drained, every group caught up and the state settled',
    checked: 1 + Object.keys(r.pending.lag).length,
  };
  if (r.converged) return { ...base, valid: true, violations: 0, examples: [], measured: r.waitedMs };
  return {
    ...base,
    valid: false,
    violations: Math.max(1, Math.max(0, r.pending.outbox) + lagTotal),
    measured: r.waitedMs,
    examples: [
      {
        kind: 'not-converged',
        waitedMs: r.waitedMs,
        expected: { outbox: 0, lag: 0, stable: true },
        found: {
          outbox: r.pending.outbox,
          lag: r.pending.lag,
          ...(r.lastError ? { lastError: r.lastError } : {}),
        },
      },
    ],
  };
}
