import { createHash } from 'node:crypto';
import pg from 'pg';

// bigint (int8) columns hold cents and counts far below 2^53: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));
// date columns stay YYYY-MM-DD strings (no timezone shifts).
pg.types.setTypeParser(1082, (v) => v);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** A pool with bounded waits everywhere, so an unreachable database is an error, not a hang. */
export function createPool(
  connectionString: string,
  max: number,
  opts: {
    queryTimeoutMs?: number;
    name?: string;
    acquireTimeoutMs?: number;
    /**
     * Plan every prepared statement once per connection (`plan_cache_mode=force_generic_plan`)
     * instead of letting PostgreSQL re-plan it on every call. For a pool whose statements are all
     * primary-key or index lookups, or batches whose generic plan is index-only (docs/benchmarks.md,
     * ninth round: the webhook statement was planned on 1,498 of 2,272 calls, 1.36 ms each).
     */
    genericPlans?: boolean;
  } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Bounds both the wait for a free client and a new connection's set-up.
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? 2_000,
    idleTimeoutMillis: 30_000,
    query_timeout: opts.queryTimeoutMs ?? 10_000,
    statement_timeout: opts.queryTimeoutMs ?? 10_000,
    application_name: opts.name ?? 'payproof',
    keepAlive: true,
    ...(opts.genericPlans ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool: it is discarded, not fatal.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    preparing(client);
    // A checked-out client whose connection drops emits 'error': without a listener that is an
    // uncaught exception (a crash). The query in flight fails and is retried by its caller.
    client.on('error', () => {});
  });
  preparing(pool);
  return pool;
}

const names = new Map<string, string>();

/**
 * Every parameterised query becomes a named prepared statement (named by a hash of its text): the
 * server parses and plans each hot statement once per connection instead of on every call.
 */
function preparing(target: pg.Pool | pg.PoolClient) {
  const original = target.query.bind(target) as (...args: unknown[]) => unknown;
  (target as { query: unknown }).query = (text: unknown, values?: unknown, cb?: unknown) => {
    if (typeof text === 'string' && Array.isArray(values) && cb === undefined) {
      let name = names.get(text);
      if (!name) {
        name = `p${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
        names.set(text, name);
      }
      return original({ name, text, values });
    }
    return cb === undefined
      ? values === undefined
        ? original(text)
        : original(text, values)
      : original(text, values, cb);
  };
}

/** Runs `fn` in one transaction on a dedicated client; a failed client is destroyed, not reused. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    broken = err as Error;
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}
