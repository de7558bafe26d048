import { intFromEnv, loadBaseConfig, onOff, watchEveryMs } from '../lib/config.ts';
import { createPool } from '../lib/db.ts';
import { eventLogLevel } from '../lib/event-log-level.ts';
import { announceFaults } from '../lib/faults.ts';
import { createLogger } from '../lib/log.ts';
import { metrics } from '../lib/metrics.ts';
import { Readiness } from '../lib/readiness.ts';
import { createRedis } from '../lib/redis.ts';
import { loadSecrets } from '../lib/secrets.ts';
import { runService } from '../lib/service.ts';
import { buildApp, defaultMaxInFlight } from './app.ts';

const config = loadBaseConfig(process.env, { pgPoolSize: 16 });
const port = intFromEnv(process.env, 'PORT', 3000, 0, 65535);
const host = process.env.HOST ?? '127.0.0.1';
const log = createLogger('api', config.logLevel, config.instanceId);

await runService('api', log, async () => {
  announceFaults(log, config.faults);
  metrics.up.set({ service: 'api' }, 1);
  // A request never waits on the database longer than this: a partition answers 503, not a hang.
  const pool = createPool(config.databaseUrl, config.pgPoolSize, {
    name: `api-${config.instanceId}`,
    queryTimeoutMs: 3_000,
    // A burst queues for a client rather than failing: 1000 payments at once wait ~3 s for the
    // last one on 2 cores (create p95 5.5 s in CI). An unreachable database still fails fast (refused, reset, 3 s query bound).
    acquireTimeoutMs: intFromEnv(process.env, 'PG_ACQUIRE_TIMEOUT_MS', 8_000, 100, 60_000),
    // The API's statements are lookups by key and batches over unnest(...) whose generic plans are
    // index nested loops; with the default (auto) PostgreSQL kept re-planning the webhook batch,
    // because its generic plan assumes 100 rows per array and a custom plan for 1 looks cheaper.
    // PG_GENERIC_PLANS=off restores PostgreSQL's default.
    genericPlans: onOff(process.env, 'PG_GENERIC_PLANS', true),
  });
  const redis = createRedis(config.redisUrl, log, { autoPipelining: true });
  const secrets = loadSecrets(process.env);
  if (secrets.usesDevDefaults)
    log.warn(
      'USING THE PUBLIC DEV SECRETS (WEBHOOK_SECRET / AUTH_JWT_SECRET unset): never do this in production',
    );
  // Probed every 2 s as well, so payproof_dependency_up moves even when nobody asks /readyz.
  const readiness = new Readiness({ database: () => pool.query('SELECT 1'), redis: () => redis.ping() });
  const watching = new AbortController();
  const watch = readiness.watch(watching.signal, watchEveryMs(2_000));
  const app = buildApp({
    pool,
    redis,
    log,
    secrets,
    webhookToleranceS: intFromEnv(process.env, 'WEBHOOK_TOLERANCE_S', 300, 1, 86_400),
    rateLimitPerMinute: intFromEnv(process.env, 'RATE_LIMIT_PER_MINUTE', 1200, 1, 10_000_000),
    requestTimeoutMs: intFromEnv(process.env, 'REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
    maxInFlight: intFromEnv(process.env, 'MAX_IN_FLIGHT', defaultMaxInFlight, 0, 1_000_000),
    readiness,
    requestLogLevel: eventLogLevel(process.env),
    paymentBatchSlots: intFromEnv(process.env, 'PAYMENT_BATCH_SLOTS', 4, 1, config.pgPoolSize),
    paymentBatchSpreadMs: intFromEnv(process.env, 'PAYMENT_BATCH_SPREAD_MS', 0, 0, 1_000),
    faults: config.faults,
  });
  // The accept queue: Node's default (511) overflows when a thousand clients connect at once, and
  // every connection the kernel drops waits for its SYN to be retransmitted (after 1 s, then 2 s more) before
  // its first request is even read. The kernel caps it at net.core.somaxconn (4096 on Linux >= 5.4).
  const backlog = intFromEnv(process.env, 'LISTEN_BACKLOG', 4096, 1, 65_535);
  const address = await app.listen({ port, host, backlog });
  log.info({ address }, 'listening');
  return async () => {
    await app.close();
    watching.abort();
    await watch;
    redis.disconnect();
    await pool.end().catch(() => {});
  };
});
