// One typed configuration per process, every variable with a working default, validated at
// start-up; a bad value fails fast with a message that names the variable.
import { AppError } from './errors.ts';
import { type FaultSet, parseFaults } from './faults.ts';

export interface BaseConfig {
  readonly databaseUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly redisUrl: string;
  /** Port of this process's /metrics (0: pick any; the API serves /metrics on its own port). */
  readonly metricsPort: number;
  readonly instanceId: string;
  readonly logLevel: string;
  readonly faults: FaultSet;
  /** Added to the app clock of this process only (clock-skew scenarios). */
  readonly clockSkewMs: number;
  readonly pgPoolSize: number;
}

function int(
  env: NodeJS.ProcessEnv,
  name: string,
  dflt: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError('config_invalid', `${name}=${raw}: expected an integer in [${min}, ${max}]`, false);
  }
  return n;
}

export function loadBaseConfig(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { pgPoolSize?: number } = {},
): BaseConfig {
  const databaseUrl = env.DATABASE_URL ?? 'postgres://payproof@127.0.0.1:5432/payproof';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new AppError('config_invalid', `DATABASE_URL=${databaseUrl}: not a postgres:// URL`, false);
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl))
    throw new AppError('config_invalid', `REDIS_URL=${redisUrl}: not a redis:// URL`, false);
  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (brokers.length === 0 || brokers.some((b) => !/^[\w.-]+:\d+$/.test(b))) {
    throw new AppError(
      'config_invalid',
      `KAFKA_BROKERS=${env.KAFKA_BROKERS}: expected host:port[,host:port]`,
      false,
    );
  }
  return {
    databaseUrl,
    kafkaBrokers: brokers,
    redisUrl,
    metricsPort: int(env, 'METRICS_PORT', 0, 0, 65535),
    instanceId: env.INSTANCE_ID ?? `${process.pid}`,
    logLevel: env.LOG_LEVEL ?? 'info',
    faults: parseFaults(env),
    clockSkewMs: int(env, 'PAYPROOF_CLOCK_SKEW_MS', 0, -Number.MAX_SAFE_INTEGER),
    pgPoolSize: int(env, 'PG_POOL_SIZE', defaults.pgPoolSize ?? 4, 1, 200),
  };
}

/** A switch from the environment: `on`, `off`, or unset for `fallback`; any other value is refused. */
export function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined) return fallback;
  if (v !== 'on' && v !== 'off')
    throw new AppError('config_invalid', `${name}=${v}: expected on or off`, false);
  return v === 'on';
}

/** FALLBACK_TRANSPORT: `on` (default) or `off` (Kafka only), for the relay and the workers alike. */
export function fallbackEnabled(env: NodeJS.ProcessEnv): boolean {
  return onOff(env, 'FALLBACK_TRANSPORT', true);
}

export { int as intFromEnv };

/**
 * The period of a background watcher (lag and DLQ reads, readiness probes, the backlog gauge, the
 * parked-invalidation sweeper): `defaultMs` times WATCH_INTERVAL_SCALE (an integer, default 1).
 * `npm run bench:idle` sets it to 3600 to measure what the watchers cost.
 */
export function watchEveryMs(defaultMs: number, env: NodeJS.ProcessEnv = process.env): number {
  return defaultMs * int(env, 'WATCH_INTERVAL_SCALE', 1, 1, 3_600);
}
