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
 * BEGIN, the app clock's now and, when given, one more statement in ONE round trip (a
 * simple-protocol query of several statements): every chunk of every worker starts this way, the
 * inbox insert being its third statement (inbox.ts inboxStatement). `skewMs` is inlined, so it must
 * be an integer; `then` must carry its values already escaped (no parameters in this protocol).
 * Returns the now and the rows `then` returned.
 */
export async function beginAt<R = never>(
  client: PoolClient,
  skewMs = 0,
  then?: string,
): Promise<{ now: Date; rows: R[] }> {
  if (!Number.isSafeInteger(skewMs)) throw new TypeError(`clock skew ${skewMs} is not an integer`);
  const results = (await client.query(
    `BEGIN; SELECT clock_timestamp() + make_interval(secs => (offset_ms + ${skewMs}) / 1000.0) AS now FROM app_clock WHERE id = 1${then ? `; ${then}` : ''}`,
  )) as unknown as { rows: unknown[] }[];
  const now = (results[1]?.rows[0] as { now: Date } | undefined)?.now ?? new Date(Date.now() + skewMs);
  return { now, rows: (results[2]?.rows ?? []) as R[] };
}
