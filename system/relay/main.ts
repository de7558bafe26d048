import type { Producer } from 'kafkajs';
import { topics } from '../contracts/index.ts';
import { fallbackEnabled, intFromEnv, loadBaseConfig, watchEveryMs } from '../lib/config.ts';
import { createPool } from '../lib/db.ts';
import { eventLogLevel } from '../lib/event-log-level.ts';
import { announceFaults } from '../lib/faults.ts';
import { createKafka } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { metrics, startMetricsServer } from '../lib/metrics.ts';
import { Readiness } from '../lib/readiness.ts';
import { createRedis } from '../lib/redis.ts';
import { runService } from '../lib/service.ts';
import { defaultMaxLen } from '../lib/streams.ts';
import { TransportBreaker } from './breaker.ts';
import { runExpiry } from './expiry.ts';
import { checkedProducer } from './producer.ts';
import { type RelayDeps, runRelay, watchBacklog } from './relay.ts';

const config = loadBaseConfig(process.env, { pgPoolSize: 3 });
const log = createLogger('relay', config.logLevel, config.instanceId);

await runService('relay', log, async () => {
  announceFaults(log, config.faults);
  metrics.up.set({ service: 'relay' }, 1);
  const pool = createPool(config.databaseUrl, config.pgPoolSize, {
    name: `relay-${config.instanceId}`,
    queryTimeoutMs: 20_000,
  });
  const kafka = createKafka(config.kafkaBrokers, `relay-${config.instanceId}`, log);
  // KAFKA_ACKS=1: the leader alone acknowledges, and the producer cannot be idempotent (kafkajs
  // refuses acks other than all for it). Loses acknowledged events on a leader failover: a
  // misconfiguration, accepted so that a deployment's mistake can be reproduced and caught.
  const acks = process.env.KAFKA_ACKS === '1' ? 1 : -1;
  if (
    process.env.KAFKA_ACKS !== undefined &&
    process.env.KAFKA_ACKS !== '1' &&
    process.env.KAFKA_ACKS !== 'all'
  )
    throw new Error(`KAFKA_ACKS=${process.env.KAFKA_ACKS}: expected all or 1`);
  if (acks === 1) log.warn('KAFKA_ACKS=1: events acknowledged by the leader alone can be lost on a failover');
  // The Redis Streams fallback (issue 15): FALLBACK_TRANSPORT=off keeps the relay on Kafka alone.
  const fallbackOn = fallbackEnabled(process.env);
  /**
   * A connected idempotent producer; retries until Kafka answers (the outbox buffers meanwhile), or
   * `attempts` times: with the fallback, the relay must not wait for Kafka (the breaker decides).
   */
  const connected = async (attempts = Number.POSITIVE_INFINITY): Promise<Producer> => {
    // Checked: kafkajs can resolve a send that left out the partitions of a broker that died
    // mid-request (system/relay/producer.ts); such a batch is not marked published.
    const producer = checkedProducer(kafka, {
      idempotent: acks === -1,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    for (let i = 0; ; i++) {
      try {
        await producer.connect();
        return producer;
      } catch (err) {
        if (i + 1 >= attempts) return producer;
        log.warn(
          { err: (err as Error).message },
          'kafka not reachable yet; confirmations keep buffering in the outbox',
        );
        await new Promise((r) => setTimeout(r, Math.min(3_000, 200 * 2 ** i)));
      }
    }
  };
  const admin = kafka.admin();
  // Probes with a client of their own: no retries and short timeouts, so an unreachable Kafka
  // answers "no" at once; and a fresh client after a failed probe. A client kept across a rolling
  // restart held connections to killed brokers: its probes kept failing 43 s after the last broker
  // was back (rolling-restart, 21:26 on 2026-11-30), and the relay stayed on the streams that long.
  const newProbeAdmin = () =>
    createKafka(config.kafkaBrokers, `relay-probe-${config.instanceId}`, log, {
      retries: 0,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 1_500,
    }).admin();
  let probeAdmin = newProbeAdmin();
  const redis = fallbackOn ? createRedis(config.redisUrl, log) : undefined;
  const deps: RelayDeps = {
    pool,
    producer: await connected(fallbackOn ? 2 : undefined),
    acks,
    faults: config.faults,
    log,
    eventLogLevel: eventLogLevel(process.env),
    renewProducer: async () => {
      await deps.producer.disconnect().catch(() => {});
      return connected(fallbackOn ? 3 : undefined);
    },
    ...(redis && {
      fallback: {
        redis,
        breaker: new TransportBreaker({
          openAfterMs: intFromEnv(process.env, 'RELAY_FALLBACK_AFTER_MS', 3_000, 0, 3_600_000),
          closeAfterMs: intFromEnv(process.env, 'RELAY_FALLBACK_RECOVER_MS', 10_000, 0, 3_600_000),
        }),
        maxLen: intFromEnv(process.env, 'FALLBACK_STREAM_MAXLEN', defaultMaxLen, 1_000, 100_000_000),
        probeKafka: async () => {
          const a = probeAdmin;
          try {
            await a.connect();
            // One topic's metadata: a real request to the broker, and a small one.
            await a.fetchTopicMetadata({ topics: [topics.PURCHASE_CONFIRMED] });
          } catch (err) {
            if (probeAdmin === a) probeAdmin = newProbeAdmin();
            void a.disconnect().catch(() => {});
            throw err;
          }
        },
      },
    }),
  };
  const readiness = new Readiness({
    database: () => pool.query('SELECT 1'),
    kafka: async () => {
      await admin.connect();
      await admin.describeCluster();
    },
  });
  const server = await startMetricsServer(
    config.metricsPort,
    process.env.METRICS_HOST ?? '127.0.0.1',
    readiness,
  );
  const stop = new AbortController();
  const loops = Promise.all([
    runRelay(deps, stop.signal, { lingerMs: intFromEnv(process.env, 'RELAY_LINGER_MS', 25, 0, 1_000) }),
    watchBacklog(pool, stop.signal, watchEveryMs(1_000)),
    runExpiry(pool, log, stop.signal, {
      afterMs: intFromEnv(process.env, 'PAYMENT_EXPIRY_MS', 30 * 60_000, 1_000, 30 * 86_400_000),
      everyMs: intFromEnv(process.env, 'EXPIRY_INTERVAL_MS', 10_000, 100, 3_600_000),
    }),
    readiness.watch(stop.signal, watchEveryMs(2_000)),
  ]);
  return async () => {
    stop.abort();
    await loops;
    await deps.producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await probeAdmin.disconnect().catch(() => {});
    redis?.disconnect();
    await pool.end().catch(() => {});
    server.close();
  };
});
