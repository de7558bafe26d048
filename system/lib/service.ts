// The shape of every process's entry point: build dependencies, start, stop cleanly on SIGTERM /
// SIGINT (finish in-flight work, close pools and consumers), exit 1 on a fatal error.
import type { Logger } from './log.ts';

export async function runService(
  name: string,
  log: Logger,
  start: () => Promise<() => Promise<void>>,
  { stopTimeoutMs = 15_000 }: { stopTimeoutMs?: number } = {},
): Promise<void> {
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, `${name}: uncaught exception`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, `${name}: unhandled rejection`);
    process.exit(1);
  });
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${name}: stopping`);
    const timer = setTimeout(() => {
      log.error(`${name}: did not stop within ${stopTimeoutMs} ms, exiting`);
      process.exit(1);
    }, stopTimeoutMs);
    timer.unref();
    try {
      await stop?.();
      log.info(`${name}: stopped`);
      process.exit(0);
    } catch (err) {
      log.error({ err }, `${name}: error while stopping`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    stop = await start();
    log.info(`${name}: started`);
  } catch (err) {
    log.fatal({ err }, `${name}: failed to start`);
    process.exit(1);
  }
}
