// PostgreSQL behind a faulty proxy: a query fails within a bounded time (it never hangs), works
// again after the heal, and every committed row is still there.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor, withTimeout } from '../../harness/lib/wait-for.ts';
import {
  blackHole,
  disableProxy,
  heal,
  isHealthy,
  proxyState,
  timeToFailure,
} from '../support/proxy-faults.ts';

const stack = inject('stack');
const faultBoundMs = 10_000;

/** A pool that gives up quickly: 2 s to connect, 2 s per query, so a fault shows as an error. */
function boundedPool(): pg.Pool {
  const pool = new pg.Pool({
    connectionString: stack.databaseUrl,
    max: 2,
    connectionTimeoutMillis: 2_000,
    query_timeout: 2_000,
    idleTimeoutMillis: 10_000,
  });
  // A partition closes idle connections: the pool reports it here and drops them.
  pool.on('error', () => {});
  return pool;
}

/** One statement on the direct address (never through a fault): for setup and checks only. */
async function direct<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: stack.direct.databaseUrl, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function faultThenHeal(fault: () => Promise<void>) {
  const table = `fault_probe_${randomUUID().replaceAll('-', '')}`;
  await direct(`CREATE TABLE ${table} (id text PRIMARY KEY)`);
  const insert = (pool: pg.Pool, id: string) => pool.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);
  const acked: string[] = [];
  const unknown: string[] = [];
  const pool = boundedPool();
  let failure: { ms: number; error: Error };
  try {
    try {
      await insert(pool, 'before');
      acked.push('before');
      await fault();
      failure = await timeToFailure(() => insert(pool, 'during'));
      await heal(stack, 'postgres');
      let attempt = 0;
      await waitFor(
        'an insert to succeed after the heal',
        async () => {
          const id = `after-${++attempt}`;
          try {
            await insert(pool, id);
          } catch (err) {
            unknown.push(id);
            throw err;
          }
          acked.push(id);
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      await heal(stack, 'postgres');
      await withTimeout('pool end', 10_000, pool.end()).catch(() => {});
    }

    expect(failure.ms).toBeLessThan(faultBoundMs);
    const rows = (await direct<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`)).map((r) => r.id);
    // Nothing committed is lost; the statement that failed during the fault never reached the server.
    for (const id of acked) expect(rows).toContain(id);
    expect(rows).not.toContain('during');
    for (const id of rows) expect([...acked, ...unknown]).toContain(id);
    return failure;
  } finally {
    await direct(`DROP TABLE IF EXISTS ${table}`);
  }
}

describe('postgres queries through a faulty proxy (connectionTimeoutMillis and query_timeout set)', () => {
  afterEach(async () => {
    await heal(stack, 'postgres');
    expect(isHealthy(await proxyState(stack, 'postgres'))).toBe(true);
  });

  it('proxy disabled: a query fails within 10 s; re-enabled: queries succeed and no committed row is lost', async () => {
    const failure = await faultThenHeal(() => disableProxy(stack, 'postgres'));
    // The idle pooled connection is cut, and a new one is refused: an error, not a timeout.
    expect(failure.error.message).toMatch(/ECONNREFUSED|terminated|closed/i);
  });

  it('black hole (timeout toxic, timeout 0, both streams): a query times out within 10 s; after removing the toxic queries succeed and nothing is lost', async () => {
    const failure = await faultThenHeal(() => blackHole(stack, 'postgres'));
    expect(failure.error.message).toMatch(/timeout/i);
  });

  it('a connection opened during the black hole gives up after connectionTimeoutMillis instead of hanging', async () => {
    await blackHole(stack, 'postgres');
    try {
      const client = new pg.Client({ connectionString: stack.databaseUrl, connectionTimeoutMillis: 1_000 });
      const failure = await timeToFailure(() => client.connect());
      expect(failure.ms).toBeLessThan(5_000);
      expect(failure.error.message).toMatch(/timeout/i);
    } finally {
      await heal(stack, 'postgres');
    }
    const rows = await withTimeout(
      'query after heal',
      10_000,
      (async () => {
        const c = new pg.Client({ connectionString: stack.databaseUrl, connectionTimeoutMillis: 2_000 });
        await c.connect();
        try {
          return (await c.query<{ one: number }>('SELECT 1 AS one')).rows;
        } finally {
          await c.end();
        }
      })(),
    );
    expect(rows).toEqual([{ one: 1 }]);
  });
});
