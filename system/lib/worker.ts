// A worker process: one consumer group, its handler, a dead-letter producer, /metrics.
import type { ConsumerGroup } from '../contracts/index.ts';
import { backoffMs, sleep } from './backoff.ts';
import { fallbackEnabled, intFromEnv, loadBaseConfig, watchEveryMs } from './config.ts';
import { initCounters, type OffsetCommitter, startConsuming } from './consumer.ts';
import { ConsumerWatchdog } from './consumer-watchdog.ts';
import { redisDashboardCache } from './dashboard-cache.ts';
import { createPool, type Pool } from './db.ts';
import { eventLogLevel } from './event-log-level.ts';
import { announceFaults, type FaultSet } from './faults.ts';
import { watchGroup } from './group-lag.ts';
import type { DashboardCache, EventHandler } from './inbox.ts';
import { createKafka } from './kafka.ts';
import { createLogger, type Logger } from './log.ts';
import { metrics, startMetricsServer } from './metrics.ts';
import { ParkingDashboardCache } from './pending-invalidations.ts';
import { Readiness } from './readiness.ts';
import { createRedis } from './redis.ts';
import { runService } from './service.ts';
import { runStreamConsumer, watchStreams } from './stream-consumer.ts';

export interface WorkerExtras {
  readonly pool: Pool;
  /** The dashboard cache (Redis): writers of what a dashboard shows invalidate it. */
  readonly dashboards: DashboardCache;
  readonly log: Logger;
  readonly faults: FaultSet;
  readonly clockSkewMs: number;
  readonly env: NodeJS.ProcessEnv;
}

export interface WorkerSpec {
  readonly group: ConsumerGroup;
  /** Builds the handler (may open extra clients, e.g. Redis); returns it and a close function. */
  readonly setup: (x: WorkerExtras) => Promise<{ handler: EventHandler; close?: () => Promise<void> }>;
}

export function runWorker(spec: WorkerSpec, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadBaseConfig(env, { pgPoolSize: 4 });
  const log = createLogger(spec.group, config.logLevel, config.instanceId);
  return runService(spec.group, log, async () => {
    metrics.up.set({ service: spec.group }, 1);
    announceFaults(log, config.faults);
    const concurrency = intFromEnv(env, 'PARTITIONS_CONCURRENCY', 3, 1, 32);
    const pool = createPool(config.databaseUrl, Math.max(config.pgPoolSize, concurrency + 3), {
      name: `${spec.group}-${config.instanceId}`,
    });
    const redis = createRedis(config.redisUrl, log);
    // Planted bug skip-cache-invalidation: no writer invalidates (the top-up job included).
    // Invalidations Redis refuses are parked in the database and delivered by the sweeper below.
    const parking = new ParkingDashboardCache(redisDashboardCache(redis), pool, log);
    const dashboards = config.faults.has('skip-cache-invalidation')
      ? { invalidate: async () => {} }
      : parking;
    const { handler, close } = await spec.setup({
      pool,
      dashboards,
      log,
      faults: config.faults,
      clockSkewMs: config.clockSkewMs,
      env,
    });
    const kafka = createKafka(config.kafkaBrokers, `${spec.group}-${config.instanceId}`, log);
    const consumer = kafka.consumer({
      groupId: spec.group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      // Batching: the broker holds a fetch until FETCH_MIN_BYTES are there or FETCH_MAX_WAIT_MS
      // passed. Under load each fetch then carries tens of events (one transaction, one offset
      // commit), instead of one or two; idle, an event waits at most FETCH_MAX_WAIT_MS. 100 ms, not
      // 20: at 250 payments/s a partition gets a few events per fetch instead of one, and the whole
      // pipeline's CPU per payment fell 15-23% with confirm → sessions p99 unchanged (benchmarks.md).
      minBytes: intFromEnv(env, 'FETCH_MIN_BYTES', 16 * 1024, 1, 16 * 1024 * 1024),
      maxWaitTimeInMs: intFromEnv(env, 'FETCH_MAX_WAIT_MS', 100, 1, 10_000),
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      metrics.rebalances.inc({ group: spec.group });
      log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined group');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts on retriable errors by itself; otherwise exit and let the supervisor restart us.
      if (!e.payload.restart) process.exit(1);
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    // Lag, DLQ size and readiness on timers: they keep moving when the consume loop does not.
    const admin = kafka.admin();
    const watching = new AbortController();
    const readiness = new Readiness({
      database: () => pool.query('SELECT 1'),
      kafka: () => admin.describeCluster(),
      redis: () => redis.ping(),
    });
    const watchers = Promise.all([
      watchGroup(admin, spec.group, log, watching.signal, watchEveryMs(2_000)),
      readiness.watch(watching.signal, watchEveryMs(2_000)),
      parking.watch(watching.signal, watchEveryMs(1_000)),
    ]);
    const metricsServer = await startMetricsServer(
      config.metricsPort,
      process.env.METRICS_HOST ?? '127.0.0.1',
      readiness,
    );
    const chunkDeps = {
      group: spec.group,
      pool,
      handler,
      dashboards,
      faults: config.faults,
      log,
      clockSkewMs: config.clockSkewMs,
      eventLogLevel: eventLogLevel(env),
      maxTransientAttempts: intFromEnv(env, 'MAX_TRANSIENT_ATTEMPTS', 100, 1, 100_000),
    };
    // The Redis Streams fallback (issue 15), read beside Kafka whatever the relay does now: an
    // idle blocking read costs one command per FALLBACK_BLOCK_MS. FALLBACK_TRANSPORT=off: Kafka only.
    // Started before Kafka: a worker (re)started while Kafka is down consumes the streams.
    // The alerting counters exist at 0 before either transport delivers anything (initCounters).
    initCounters(spec.group);
    const fallbackOn = fallbackEnabled(env);
    const blockMs = intFromEnv(env, 'FALLBACK_BLOCK_MS', 1_000, 10, 60_000);
    const streamRedis = fallbackOn
      ? createRedis(config.redisUrl, log, { commandTimeoutMs: blockMs + 2_000 })
      : undefined;
    const streaming = new AbortController();
    const streamLoops = streamRedis
      ? Promise.all([
          runStreamConsumer(
            {
              ...chunkDeps,
              redis: streamRedis,
              consumerName: `${config.instanceId}:${process.pid}`,
              blockMs,
              claimIdleMs: intFromEnv(env, 'FALLBACK_CLAIM_IDLE_MS', 10_000, 100, 3_600_000),
              claimEveryMs: intFromEnv(env, 'FALLBACK_CLAIM_EVERY_MS', 5_000, 50, 3_600_000),
            },
            streaming.signal,
          ),
          watchStreams(redis, chunkDeps, streaming.signal, watchEveryMs(2_000)),
        ])
      : Promise.resolve();
    let committer: OffsetCommitter | undefined;
    const kafkaStop = new AbortController();
    // Issue 17: a consumer that fetches nothing while Kafka answers (kafkajs after a coordinator
    // move) exits, and the supervisor starts a fresh one (system/lib/consumer-watchdog.ts).
    // 30 s: twice the rebalance timeout (a join in progress is not silence for longer than that).
    const stallMs = intFromEnv(env, 'CONSUMER_STALL_MS', 30_000, 10_000, 3_600_000);
    const tickMs = 5_000;
    // Watched from before the first join: a consumer whose join never completes (a fresh process
    // after a coordinator move, 21:16 on 2026-11-30) is as stalled as one that stopped fetching.
    const dog = new ConsumerWatchdog({
      stallMs,
      kafkaUp: () => readiness.state().dependencies.kafka?.up === true,
      checkEveryMs: tickMs,
    });
    consumer.on(consumer.events.FETCH_START, () => dog.activity());
    consumer.on(consumer.events.START_BATCH_PROCESS, () => dog.batchStart());
    consumer.on(consumer.events.END_BATCH_PROCESS, () => dog.batchEnd());
    consumer.on(consumer.events.GROUP_JOIN, () => dog.reset());
    consumer.on(consumer.events.CRASH, () => dog.reset());
    const stallTimer = setInterval(() => {
      const stalledMs = dog.check();
      if (stalledMs === undefined) return;
      log.error(
        { stalledMs: Math.round(stalledMs), stallMs },
        'the consumer is stalled (no join, nothing fetched, or every offset commit refused) while kafka answers: exiting, the supervisor starts a fresh one',
      );
      process.exit(1);
    }, tickMs);
    stallTimer.unref();
    kafkaStop.signal.addEventListener('abort', () => clearInterval(stallTimer), { once: true });
    const startKafka = async () => {
      await producer.connect();
      const c = await startConsuming(
        { ...chunkDeps, consumer, producer },
        { concurrency, commitIntervalMs: intFromEnv(env, 'COMMIT_INTERVAL_MS', 200, 0, 10_000) },
      );
      // Before a rebalance hands partitions to another member, commit what this one finished.
      consumer.on(consumer.events.REBALANCING, () => void c.flush());
      consumer.on(consumer.events.GROUP_JOIN, () => c.forget());
      c.onCommit({ sent: (at) => dog.commitSent(at), ended: (ok, at) => dog.commit(ok, at) });
      committer = c;
    };
    // Without the fallback a worker that cannot reach Kafka at start exits (the supervisor restarts
    // it); with it, the worker keeps consuming the streams and retries Kafka in the background.
    const kafkaStarted = fallbackOn
      ? (async () => {
          for (let attempt = 0; !kafkaStop.signal.aborted; attempt++) {
            try {
              await startKafka();
              return;
            } catch (err) {
              log.warn(
                { err: (err as Error).message, attempt },
                'kafka not reachable at start: consuming the fallback streams, retrying kafka',
              );
              await sleep(backoffMs(attempt, { baseMs: 500, maxMs: 5_000 }), kafkaStop.signal);
            }
          }
        })()
      : startKafka();
    if (!fallbackOn) await kafkaStarted;
    return async () => {
      // Leave the group after the in-flight batch is committed; then close everything else.
      kafkaStop.abort();
      await kafkaStarted.catch(() => {});
      if (committer) {
        await consumer.stop();
        await committer.flush();
      }
      await consumer.disconnect();
      // The stream loop finishes its chunk (and its XACK) before stopping; its read waits at most blockMs.
      streaming.abort();
      await streamLoops;
      streamRedis?.disconnect();
      await close?.();
      watching.abort();
      await watchers;
      redis.disconnect();
      await producer.disconnect().catch(() => {});
      await pool.end().catch(() => {});
      metricsServer.close();
    };
  });
}
