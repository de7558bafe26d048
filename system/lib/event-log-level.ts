import { AppError } from './errors.ts';

/**
 * EVENT_LOG_LEVEL: the level of the one line per processed event, per published event and per
 * payment request. `info` by default; `debug` turns them off at LOG_LEVEL=info (under load).
 */
export function eventLogLevel(env: NodeJS.ProcessEnv): 'info' | 'debug' | 'trace' {
  const v = env.EVENT_LOG_LEVEL ?? 'info';
  if (v !== 'info' && v !== 'debug' && v !== 'trace')
    throw new AppError('config_invalid', `EVENT_LOG_LEVEL=${v}: expected info, debug or trace`, false);
  return v;
}
