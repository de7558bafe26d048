import { Kafka, logLevel } from 'kafkajs';
import './kafkajs-fix.ts';
import type { Logger } from './log.ts';

/** A kafkajs client whose log lines go to pino, with bounded timeouts so faults surface as errors. */
export function createKafka(
  brokers: readonly string[],
  clientId: string,
  log: Logger,
  /** Fewer retries and shorter timeouts for a client whose calls must fail fast (the relay's probe of Kafka). */
  {
    retries = 8,
    connectionTimeoutMs = 3_000,
    requestTimeoutMs = 15_000,
  }: { retries?: number; connectionTimeoutMs?: number; requestTimeoutMs?: number } = {},
): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 3_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error(rest, `kafkajs: ${message}`);
        else log.warn(rest, `kafkajs: ${message}`);
      },
  });
}
