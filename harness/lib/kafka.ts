import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import '../../system/lib/kafkajs-fix.ts';

/** `a:1,b:2` → ['a:1', 'b:2']: one bootstrap address per broker of a cluster. */
export function brokerList(brokers: string): string[] {
  return brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** A kafkajs client for the harness: quiet, short timeouts so a fault shows up as an error, not a hang. */
export function harnessKafka(brokers: string, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: brokerList(brokers),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    ...extra,
  });
}
