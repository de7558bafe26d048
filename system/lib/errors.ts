// Errors carry a code and whether retrying can help; anything unknown is wrapped, never swallowed.

export type ErrorCode =
  | 'transient_db'
  | 'transient_cache'
  | 'transient_kafka'
  | 'transient_stream'
  | 'capacity_contended'
  | 'handler_error'
  | 'config_invalid'
  | 'faults_refused';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  constructor(code: ErrorCode, message: string, retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.retriable = retriable;
  }
}

/** SQLSTATEs that mean "try again": deadlock, serialization failure, connection problems, shutdown. */
const transientSqlStates = new Set([
  '40P01',
  '40001',
  '55P03',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53300',
]);

const transientNodeCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);

/** True when an error from pg, ioredis or kafkajs can go away by itself (retry with backoff). */
export function isTransient(err: unknown): boolean {
  if (err instanceof AppError) return err.retriable;
  const e = err as { code?: unknown; message?: unknown; retriable?: unknown; name?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (transientSqlStates.has(e.code) || transientNodeCodes.has(e.code)))
    return true;
  if (e.retriable === true) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded|Query read timeout|connection timeout|Connection is closed|Client has encountered a connection error|not queryable|terminating connection|the database system is (starting up|shutting down|in recovery)|MaxRetriesPerRequest|Stream isn't writeable|ECONNREFUSED|ECONNRESET/i.test(
    msg,
  );
}

/** The SQLSTATE of a pg error, if any. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function constraintOf(err: unknown): string | undefined {
  const c = (err as { constraint?: unknown } | null)?.constraint;
  return typeof c === 'string' ? c : undefined;
}
