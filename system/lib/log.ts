import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON logs; event work adds correlationId, eventId and causationId through child loggers. */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  instanceId?: string,
): Logger {
  return pino({ name, level, base: { service: name, instance: instanceId ?? process.pid } });
}
