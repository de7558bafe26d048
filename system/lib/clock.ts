import type { Pool, PoolClient } from './db.ts';

/** Something that can run a query: a pool or a client inside a transaction. */
type Queryable = Pick<Pool | PoolClient, 'query'>;

/**
 * The app clock: the DATABASE's time + the shared offset in `app_clock` (so a test can advance
 * every process's days at once) + this process's own skew (clock-skew scenarios; 0 normally).
 * One clock for every process, read from Postgres, so local clocks that drift cannot disagree.
 */
export async function appNow(db: Queryable, skewMs = 0): Promise<Date> {
  const r = await db.query<{ now: Date }>(
    'SELECT clock_timestamp() + make_interval(secs => (offset_ms + $1::bigint) / 1000.0) AS now FROM app_clock WHERE id = 1',
    [skewMs],
  );
  return r.rows[0]?.now ?? new Date(Date.now() + skewMs);
}

/**
 * BEGIN and the app clock's now in ONE round trip (a simple-protocol query of two statements):
 * every chunk of every worker starts this way. `skewMs` is inlined, so it must be an integer.
 */
export async function beginAt(client: PoolClient, skewMs = 0): Promise<Date> {
  if (!Number.isSafeInteger(skewMs)) throw new TypeError(`clock skew ${skewMs} is not an integer`);
  const results = (await client.query(
    `BEGIN; SELECT clock_timestamp() + make_interval(secs => (offset_ms + ${skewMs}) / 1000.0) AS now FROM app_clock WHERE id = 1`,
  )) as unknown as { rows: { now: Date }[] }[];
  return results[1]?.rows[0]?.now ?? new Date(Date.now() + skewMs);
}
