// A run's tables are read row by row through a cursor, a page at a time: a checker that loaded
// every session, allocation and outbox envelope at once held hundreds of MiB for a few seconds
// (issue 11's goal 6: the bench process, generator and checker, under 512 MiB).
import type pg from 'pg';
import Cursor from 'pg-cursor';

/**
 * Rows per round trip. A page's rows outlive a few young-generation collections (the bench runs
 * with 4 MiB semi-spaces) and were promoted to the old generation as garbage: 2,000 rows (an outbox
 * page is ~4 MiB parsed) let event-identity's heap grow by 143 MiB over the context, 250 by 63, for
 * the same check time (docs/benchmarks.md, eighteenth round).
 */
const pageSize = 250;

/** The rows of one statement (one snapshot), a page at a time. Needs a connection of `db` of its own. */
export async function* queryRows<R extends Record<string, unknown>>(
  db: pg.Pool,
  text: string,
): AsyncGenerator<R> {
  const client = await db.connect();
  const cursor = client.query(new Cursor<R>(text));
  let failed: Error | undefined;
  try {
    for (;;) {
      const page = await cursor.read(pageSize);
      yield* page;
      if (page.length < pageSize) return;
    }
  } catch (err) {
    failed = err as Error;
    throw err;
  } finally {
    await cursor.close().catch(() => {});
    // A connection whose cursor failed is not reused.
    client.release(failed);
  }
}
