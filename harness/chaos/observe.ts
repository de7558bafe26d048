// The run's eyes: once a second, one sample for samples.jsonl, from three places:
// - the load (throughput, confirm latency percentiles, errors), as runLoad reports it;
// - Kafka through its DIRECT listener (a fault on the proxy must not hide the lag): every group's
//   committed offsets against the high watermarks (lag_<group>), and the dead-letter topics'
//   sizes (dlq_total); when the broker does not answer, the workers' own payproof_consumer_lag
//   gauges stand in (they are updated per batch, so they lag behind the truth);
// - PostgreSQL through its direct address: the unpublished outbox rows (outbox_backlog), the truth
//   even while the relay is cut off (its payproof_outbox_backlog gauge freezes then);
// - every process's /metrics: events processed, duplicates absorbed (idempotency hits), retries
//   after transient errors (40P01 = deadlock), rebalances, dead letters, cumulative across restarts.
//   These are the SYSTEM's own figures: reported, never used as evidence that a risky path ran.
// Evidence that does not depend on the system under test (what the verdict's "exercised" uses):
// - rebalances from the broker (DescribeGroups membership, minus the startup baseline:
//   group-membership.ts);
// - aborted transactions and deadlocks from PostgreSQL's own statistics (pg_stat_database, minus
//   the values at the observer's start).
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { consumerGroups, dlqTopic, groupNames, topics } from '../../system/contracts/topics.ts';
import { harnessKafka } from '../lib/kafka.ts';
import { machineSample } from '../lib/machine-watch.ts';
import { type MachineTicks, machineTicks } from '../lib/procmon.ts';
import { withTimeout } from '../lib/wait-for.ts';
import { GroupMembership } from './group-membership.ts';
import type { ProcessView } from './scenario.ts';
import { CounterTotals, type PromSample, scrape, sumBy } from './scrape.ts';

/** What the load reported for the last second (runLoad's onSample). */
export type LoadSample = Readonly<Record<string, number>>;

const loadKeys = [
  'throughput_rps',
  'confirm_p50_ms',
  'confirm_p95_ms',
  'confirm_p99_ms',
  'confirms_per_s',
  'errors',
  'in_flight',
  'vus',
  'cpu_pct',
] as const;

/** The counters the run reports as figures (cumulative over the whole run, every process). */
export interface RunCounters {
  readonly eventsProcessed: number;
  readonly idempotencyHits: number;
  readonly transientRetries: number;
  readonly deadlockRetries: number;
  readonly rebalances: number;
  readonly deadLettered: number;
  /** Issue 15, from the system's own metrics (figures only): the relay's transport switches. */
  readonly transportSwitches: number;
  /** Events the relay put in the fallback streams, and fallback-only events it re-published to Kafka. */
  readonly streamPublished: number;
  readonly kafkaRepublished: number;
  /** Events the workers took from each transport, and of those the duplicates the inbox absorbed. */
  readonly kafkaConsumed: number;
  readonly streamConsumed: number;
  readonly kafkaDuplicates: number;
  readonly streamDuplicates: number;
}

/** Evidence from outside the system under test: the broker and the database. */
export interface IndependentCounters {
  /** Membership changes of Stable consumer groups seen by the broker since the startup baseline. */
  readonly brokerRebalances: number;
  /** Per group. */
  readonly brokerRebalancesPerGroup: Record<string, number>;
  /** pg_stat_database.xact_rollback since the observer started: transactions PostgreSQL aborted. */
  readonly transactionsRolledBack: number;
  /** pg_stat_database.deadlocks since the observer started. */
  readonly deadlocks: number;
}

export interface ObserverOptions {
  readonly directKafka: string;
  readonly directDatabaseUrl: string;
  readonly processes: () => readonly ProcessView[];
}

export class Observer {
  readonly #o: ObserverOptions;
  readonly #totals = new CounterTotals();
  readonly #db: pg.Pool;
  #admin: Admin | undefined;
  /** The latest Kafka figures and when they were read: a loop of their own keeps them fresh. */
  #kafka: { atMs: number; figures: Record<string, number> } | undefined;
  #closed = false;
  #kafkaLoop: Promise<void>;
  #groupsLoop: Promise<void>;
  #pendingLoad: LoadSample | undefined;
  #lastProcessed: { atMs: number; total: number } | undefined;
  #dlqBaseline: number | undefined;
  readonly #membership = new GroupMembership();
  #kafkaFailures = 0;
  /** The machine's counters at the previous sample: busy, steal, iowait and PSI per second. */
  #machine: { atMs: number; ticks: MachineTicks } | undefined;
  #pgStats:
    | { base: { rollbacks: number; deadlocks: number }; last: { rollbacks: number; deadlocks: number } }
    | undefined;

  constructor(o: ObserverOptions) {
    this.#o = o;
    this.#db = new pg.Pool({
      connectionString: o.directDatabaseUrl,
      max: 1,
      connectionTimeoutMillis: 1_000,
      query_timeout: 1_000,
    });
    this.#db.on('error', () => undefined);
    this.#kafkaLoop = this.#pollKafka();
    this.#groupsLoop = this.#pollGroups();
  }

  /**
   * Group membership in a loop of its own, with its own admin client (with retries: kafkajs' first
   * requests on a fresh client fail until its metadata is loaded), so that a slow lag read on a
   * loaded machine never starves it: a missed Stable membership is a missed rebalance.
   */
  async #pollGroups(): Promise<void> {
    let admin: Admin | undefined;
    for (let i = 0; !this.#closed && i < 100_000; i++) {
      const t0 = performance.now();
      try {
        if (!admin) {
          admin = harnessKafka(this.#o.directKafka, 'payproof-chaos-groups', {
            retry: { retries: 2 },
            requestTimeout: 4_000,
            connectionTimeout: 2_000,
          }).admin();
          await admin.connect();
        }
        await withTimeout('describe groups', 8_000, this.#describeGroups(admin));
      } catch (err) {
        if (process.env.PAYPROOF_DEBUG) console.error(`[observe] groups: ${(err as Error).message}`);
        const broken = admin;
        admin = undefined;
        void broken?.disconnect().catch(() => undefined);
      }
      const waitMs = 1_000 - (performance.now() - t0);
      if (waitMs > 0 && !this.#closed) await new Promise((r) => setTimeout(r, waitMs));
    }
    await admin?.disconnect().catch(() => undefined);
  }

  /**
   * Reads Kafka in its own loop, so that a slow broker (a loaded machine, a restart) never delays
   * the one-second samples: a sample takes the latest figures if they are under 3 s old.
   */
  async #pollKafka(): Promise<void> {
    for (let i = 0; !this.#closed && i < 100_000; i++) {
      const t0 = performance.now();
      const figures = await this.#kafkaFigures();
      if (figures) this.#kafka = { atMs: performance.now(), figures };
      const waitMs = 1_000 - (performance.now() - t0);
      if (waitMs > 0 && !this.#closed) await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** runLoad's onSample: kept until the next tick. */
  onLoadSample(s: LoadSample): void {
    this.#pendingLoad = s;
  }

  /** One sample (without t): whatever could be measured within about a second. */
  async sample(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const load = this.#pendingLoad;
    this.#pendingLoad = undefined;
    if (load) {
      for (const k of loadKeys) if (typeof load[k] === 'number') out[k] = load[k]!;
      const rps = load.throughput_rps ?? 0;
      if (rps > 0 && typeof load.errors === 'number')
        out.error_pct = Math.min(100, (100 * load.errors) / rps);
    }
    const [scraped, backlog] = await Promise.all([this.#scrapeAll(), this.#backlog(), this.#readPgStats()]);
    const kafka =
      this.#kafka && performance.now() - this.#kafka.atMs < 3_000 ? this.#kafka.figures : undefined;
    Object.assign(out, scraped.figures);
    if (kafka) Object.assign(out, kafka);
    else Object.assign(out, scraped.fallbackLag);
    if (backlog !== undefined) out.outbox_backlog = backlog;
    Object.assign(out, this.#machineSample());
    return out;
  }

  /** The whole machine over the last second (kernel counters, not the system's): {} on the first call. */
  #machineSample(): Record<string, number> {
    let ticks: MachineTicks;
    try {
      ticks = machineTicks();
    } catch {
      return {}; // no /proc (not Linux)
    }
    const atMs = performance.now();
    const prev = this.#machine;
    this.#machine = { atMs, ticks };
    return prev ? machineSample(prev.ticks, ticks, (atMs - prev.atMs) / 1_000) : {};
  }

  async #scrapeAll(): Promise<{ figures: Record<string, number>; fallbackLag: Record<string, number> }> {
    const procs = this.#o.processes().filter((p) => p.running);
    const pages = await Promise.all(
      procs.map(async (p) => ({ p, samples: await scrape(p.metricsUrl ?? p.metricsPort) })),
    );
    const lag: Record<string, number> = {};
    for (const { p, samples } of pages) {
      if (!samples) continue;
      this.#count(p.name, samples);
      for (const [g, v] of Object.entries(sumBy(samples, 'payproof_consumer_lag', 'group'))) {
        if (g) lag[`lag_${g}`] = (lag[`lag_${g}`] ?? 0) + v;
      }
    }
    const processed = this.counters().eventsProcessed;
    const now = performance.now();
    const figures: Record<string, number> = {
      idempotency_hits_total: this.#totals.total('idempotency'),
      // 1 while a relay publishes to the Redis Streams fallback (issue 15).
      transport_stream: pages.reduce(
        (n, { samples }) =>
          n +
          (samples ?? [])
            .filter((x) => x.name === 'payproof_transport_active' && x.labels.transport === 'stream')
            .reduce((a, x) => a + x.value, 0),
        0,
      ),
    };
    if (this.#lastProcessed) {
      const dt = (now - this.#lastProcessed.atMs) / 1_000;
      if (dt > 0) figures.processed_rps = Math.max(0, (processed - this.#lastProcessed.total) / dt);
    }
    this.#lastProcessed = { atMs: now, total: processed };
    return { figures, fallbackLag: lag };
  }

  #count(proc: string, samples: readonly PromSample[]) {
    const sum = (name: string, pred: (s: PromSample) => boolean = () => true) =>
      samples.filter((s) => s.name === name && pred(s)).reduce((a, s) => a + s.value, 0);
    this.#totals.observe(proc, 'processed', sum('payproof_events_processed_total'));
    this.#totals.observe(proc, 'idempotency', sum('payproof_idempotency_hits_total'));
    this.#totals.observe(proc, 'retries', sum('payproof_retries_total'));
    this.#totals.observe(
      proc,
      'deadlocks',
      sum('payproof_retries_total', (s) => s.labels.reason === '40P01'),
    );
    this.#totals.observe(proc, 'rebalances', sum('payproof_rebalances_total'));
    this.#totals.observe(proc, 'dead', sum('payproof_dead_letters_total'));
    const transport = (t: string, stage: string, outcome?: string) =>
      sum(
        'payproof_transport_events_total',
        (x) =>
          x.labels.transport === t && x.labels.stage === stage && (!outcome || x.labels.outcome === outcome),
      );
    this.#totals.observe(proc, 'switches', sum('payproof_transport_switches_total'));
    this.#totals.observe(proc, 'streamPublished', transport('stream', 'published'));
    this.#totals.observe(proc, 'kafkaRepublished', transport('kafka', 'published', 'republished'));
    this.#totals.observe(proc, 'kafkaConsumed', transport('kafka', 'consumed'));
    this.#totals.observe(proc, 'streamConsumed', transport('stream', 'consumed'));
    this.#totals.observe(proc, 'kafkaDuplicates', transport('kafka', 'consumed', 'duplicate'));
    this.#totals.observe(proc, 'streamDuplicates', transport('stream', 'consumed', 'duplicate'));
  }

  counters(): RunCounters {
    return {
      eventsProcessed: this.#totals.total('processed'),
      idempotencyHits: this.#totals.total('idempotency'),
      transientRetries: this.#totals.total('retries'),
      deadlockRetries: this.#totals.total('deadlocks'),
      rebalances: this.#totals.total('rebalances'),
      deadLettered: this.#totals.total('dead'),
      transportSwitches: this.#totals.total('switches'),
      streamPublished: this.#totals.total('streamPublished'),
      kafkaRepublished: this.#totals.total('kafkaRepublished'),
      kafkaConsumed: this.#totals.total('kafkaConsumed'),
      streamConsumed: this.#totals.total('streamConsumed'),
      kafkaDuplicates: this.#totals.total('kafkaDuplicates'),
      streamDuplicates: this.#totals.total('streamDuplicates'),
    };
  }

  /** Rebalances from the broker and aborted transactions from PostgreSQL: not from the system. */
  independent(): IndependentCounters {
    const pg = this.#pgStats;
    return {
      brokerRebalances: this.#membership.total(),
      brokerRebalancesPerGroup: this.#membership.perGroup(),
      transactionsRolledBack: pg ? pg.last.rollbacks - pg.base.rollbacks : 0,
      deadlocks: pg ? pg.last.deadlocks - pg.base.deadlocks : 0,
    };
  }

  /** Lets the membership loop take one more look (the run calls it before judging). */
  async readMembership(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1_500));
  }

  async #describeGroups(admin: Admin): Promise<void> {
    for (const group of groupNames) {
      const { groups } = await admin.describeGroups([group]);
      for (const g of groups)
        this.#membership.observe(
          g.groupId,
          g.state,
          g.members.map((m) => m.memberId),
        );
    }
  }

  async #readPgStats(): Promise<void> {
    try {
      const r = await this.#db.query<{ rollbacks: string; deadlocks: string }>(
        `SELECT xact_rollback::text AS rollbacks, deadlocks::text AS deadlocks
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      const row = r.rows[0];
      if (!row) return;
      const now = { rollbacks: Number(row.rollbacks), deadlocks: Number(row.deadlocks) };
      this.#pgStats = { base: this.#pgStats?.base ?? now, last: now };
    } catch {
      // The database is cut off: the next sample will read it.
    }
  }

  async #kafkaFigures(): Promise<Record<string, number> | undefined> {
    try {
      const figures = await withTimeout('kafka lag', 5_000, this.#readKafka());
      this.#kafkaFailures = 0;
      return figures;
    } catch (err) {
      if (process.env.PAYPROOF_DEBUG) console.error(`[observe] kafka: ${(err as Error).message}`);
      // kafkajs' first requests on a fresh admin client (no retries) fail with "No brokers in the
      // broker pool" until its metadata is loaded: dropping the client on every failure kept it
      // fresh forever, and the lag fell back to the workers' gauges. Drop it only after three
      // failures in a row (a broker restart, a hung connection).
      if (++this.#kafkaFailures >= 3) {
        const admin = this.#admin;
        this.#admin = undefined;
        this.#kafkaFailures = 0;
        void admin?.disconnect().catch(() => undefined);
      }
      return undefined;
    }
  }

  async #readKafka(): Promise<Record<string, number>> {
    if (!this.#admin) {
      const admin = harnessKafka(this.#o.directKafka, 'payproof-chaos-observer', {
        retry: { retries: 0 },
        requestTimeout: 4_000,
        connectionTimeout: 2_000,
      }).admin();
      await admin.connect();
      this.#admin = admin;
    }
    const admin = this.#admin;
    const high = new Map<string, Map<number, { high: bigint; low: bigint }>>();
    const watermarks = async (topic: string) => {
      let m = high.get(topic);
      if (!m) {
        m = new Map();
        for (const p of await admin.fetchTopicOffsets(topic))
          m.set(p.partition, { high: BigInt(p.high), low: BigInt(p.low) });
        high.set(topic, m);
      }
      return m;
    };
    const out: Record<string, number> = {};
    await Promise.all(
      groupNames.map(async (group) => {
        const groupTopics = (consumerGroups[group] as readonly (keyof typeof topics)[]).map((t) => topics[t]);
        const committed = await admin.fetchOffsets({ groupId: group, topics: groupTopics });
        let lag = 0n;
        for (const t of committed) {
          const w = await watermarks(t.topic);
          for (const p of t.partitions) {
            const hw = w.get(p.partition);
            if (!hw) continue;
            const at = BigInt(p.offset) < 0n ? hw.low : BigInt(p.offset);
            if (hw.high > at) lag += hw.high - at;
          }
        }
        out[`lag_${group}`] = Number(lag);
      }),
    );
    let dlq = 0;
    for (const g of groupNames) {
      const w = await watermarks(dlqTopic(g));
      for (const p of w.values()) dlq += Number(p.high - p.low);
    }
    // Dead letters of this run only (an attached stack may hold earlier ones).
    this.#dlqBaseline ??= dlq;
    out.dlq_total = dlq - this.#dlqBaseline;
    return out;
  }

  async #backlog(): Promise<number | undefined> {
    try {
      const r = await this.#db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      return r.rows[0]?.n;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#kafkaLoop;
    await this.#groupsLoop;
    await this.#admin?.disconnect().catch(() => undefined);
    await this.#db.end().catch(() => undefined);
  }
}

/** Largest lag of any group in a sample, or undefined when no lag was measured. */
export function maxLag(sample: Readonly<Record<string, number>>): number | undefined {
  let max: number | undefined;
  for (const [k, v] of Object.entries(sample)) if (k.startsWith('lag_')) max = Math.max(max ?? 0, v);
  return max;
}
