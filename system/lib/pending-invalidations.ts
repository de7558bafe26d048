// Dashboard invalidations that survive a Redis outage. Every writer invalidates through
// ParkingDashboardCache: when Redis refuses (or a refusal a moment ago says it is away), the
// student ids are parked in pending_invalidations (PostgreSQL) instead of being retried inside the
// consume loop, and a sweeper in every worker delivers them once a second when Redis is back. The
// consume loop never waits on Redis for more than one command timeout, and a dashboard is stale for
// at most about a second after Redis returns. Invalidation is idempotent and only ever makes the
// cache miss, so a late or repeated delivery is harmless.
import { sleep } from './backoff.ts';
import type { Pool } from './db.ts';
import { isTransient } from './errors.ts';
import type { DashboardCache } from './inbox.ts';
import type { Logger } from './log.ts';
import { metrics } from './metrics.ts';

/** Parks ids in the table (one statement; a second refusal for a student only moves parked_at). */
export async function parkInvalidations(
  q: { query: Pool['query'] },
  studentIds: readonly string[],
): Promise<void> {
  if (studentIds.length === 0) return;
  await q.query(
    `INSERT INTO pending_invalidations (student_id) SELECT DISTINCT unnest($1::uuid[])
     ON CONFLICT (student_id) DO UPDATE
       SET parked_at = now(), refusals = pending_invalidations.refusals + 1`,
    [studentIds],
  );
}

export class ParkingDashboardCache implements DashboardCache {
  readonly #inner: DashboardCache;
  readonly #pool: Pool;
  readonly #log: Logger;
  /** Ids that could be parked neither in Redis nor in the database (both away): kept for the sweeper. */
  readonly #memory = new Set<string>();
  /** After a refusal, Redis is not tried again until then (ms since the epoch): park at once. */
  #awayUntil = 0;
  readonly #awayMs: number;

  constructor(inner: DashboardCache, pool: Pool, log: Logger, { awayMs = 1_000 } = {}) {
    this.#inner = inner;
    this.#pool = pool;
    this.#log = log;
    this.#awayMs = awayMs;
  }

  async invalidate(studentIds: readonly string[]): Promise<void> {
    if (studentIds.length === 0) return;
    if (Date.now() >= this.#awayUntil) {
      try {
        return await this.#inner.invalidate(studentIds);
      } catch (err) {
        if (!isTransient(err)) throw err;
        this.#awayUntil = Date.now() + this.#awayMs;
        this.#log.warn(
          { err: (err as Error).message, students: studentIds.length },
          'redis refused invalidations: parking them in pending_invalidations',
        );
      }
    }
    await this.park(studentIds);
  }

  /** Parks in the database; when that fails too, in memory (lost only if this process dies first). */
  async park(studentIds: readonly string[]): Promise<void> {
    try {
      await parkInvalidations(this.#pool, studentIds);
    } catch (err) {
      for (const id of studentIds) this.#memory.add(id);
      metrics.retries.inc({ component: 'invalidation-parking', reason: 'database' });
      this.#log.warn(
        { err: (err as Error).message, students: studentIds.length },
        'could not park invalidations in the database either: kept in memory',
      );
    }
  }

  /**
   * Delivers parked invalidations: those in memory, then up to `batch` rows claimed FOR UPDATE SKIP
   * LOCKED (several sweepers never deliver the same row at once), deleted in the same transaction
   * once Redis took them. A park of the same student meanwhile waits for this commit and then
   * inserts afresh, so nothing parked after the delivery is lost. Returns the number delivered.
   */
  async sweep(batch = 500): Promise<number> {
    let delivered = 0;
    if (this.#memory.size > 0) {
      const ids = [...this.#memory];
      await this.#inner.invalidate(ids);
      for (const id of ids) this.#memory.delete(id);
      delivered += ids.length;
    }
    const any = await this.#pool.query('SELECT 1 FROM pending_invalidations LIMIT 1');
    if ((any.rowCount ?? 0) === 0) {
      metrics.pendingInvalidations.set(0);
      return delivered;
    }
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const r = await client.query<{ student_id: string }>(
        'SELECT student_id FROM pending_invalidations ORDER BY parked_at LIMIT $1 FOR UPDATE SKIP LOCKED',
        [batch],
      );
      const ids = r.rows.map((x) => x.student_id);
      // Redis first: if it refuses, the rollback keeps every row for the next sweep.
      await this.#inner.invalidate(ids);
      await client.query('DELETE FROM pending_invalidations WHERE student_id = ANY($1::uuid[])', [ids]);
      await client.query('COMMIT');
      delivered += ids.length;
      const left = await this.#pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pending_invalidations',
      );
      metrics.pendingInvalidations.set(left.rows[0]?.n ?? 0);
      if (ids.length > 0) this.#log.info({ delivered: ids.length }, 'parked invalidations delivered');
      return delivered;
    } catch (err) {
      broken = err as Error;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Sweeps every `everyMs` until `signal` aborts; failures (Redis or the database away) wait for the next. */
  watch(signal: AbortSignal, everyMs = 1_000): Promise<void> {
    return (async () => {
      while (!signal.aborted) {
        try {
          await this.sweep();
        } catch {
          // Still away: the rows stay parked; the next sweep tries again.
        }
        await sleep(everyMs, signal);
      }
    })();
  }
}
