// `node system/main.ts provision`: migrations and topics, then exit (0 done, 1 failed).
import { defaultPartitions } from '../contracts/topics.ts';
import { intFromEnv, loadBaseConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { provision } from './provision.ts';

const config = loadBaseConfig(process.env);
const log = createLogger('provision', config.logLevel, config.instanceId);
const env = process.env;
try {
  const rf = env.TOPIC_REPLICATION_FACTOR ? intFromEnv(env, 'TOPIC_REPLICATION_FACTOR', 1, 1, 16) : undefined;
  const isr = env.TOPIC_MIN_ISR ? intFromEnv(env, 'TOPIC_MIN_ISR', 1, 1, 16) : undefined;
  const r = await provision({
    databaseUrl: config.databaseUrl,
    brokers: config.kafkaBrokers,
    partitions: intFromEnv(env, 'TOPIC_PARTITIONS', defaultPartitions, 1, 1_000),
    ...(rf ? { replicationFactor: rf } : {}),
    ...(isr ? { minInsyncReplicas: isr } : {}),
    ...(env.MIGRATIONS_DIR ? { migrationsDir: env.MIGRATIONS_DIR } : {}),
    waitMs: intFromEnv(env, 'PROVISION_WAIT_MS', 60_000, 0),
    log: (line) => log.info(line),
  });
  log.info({ ...r }, 'provisioned');
  process.exit(0);
} catch (err) {
  log.fatal({ err }, 'provision failed');
  process.exit(1);
}
