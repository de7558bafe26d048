// The relay's cheap backlog probe (hasBacklog in system/relay/relay.ts) on real PostgreSQL: an idle
// relay sleeps only when it answers "nothing waits" for the transport in use, so a wrong "yes" makes
// a busy loop and a wrong "no" leaves rows waiting. What waits for Kafka is every row not in Kafka;
// what waits for the Redis Streams fallback is a row in neither. Written for issue 12's mutation
// score: the relay tests run the probe only through runRelay, where either mistake is invisible.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { hasBacklog } from '../../system/relay/relay.ts';

const stack = inject('stack');
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  pool = createPool((await dbs.create()).url, 2);
});

afterAll(async () => {
  await pool?.end();
  await dbs?.close();
});

describe('hasBacklog', () => {
  it('answers per transport: a row in neither waits for both, a fallback-only row for Kafka alone, a published row for none', async () => {
    const waits = async () => [
      await hasBacklog(pool),
      await hasBacklog(pool, 'kafka'),
      await hasBacklog(pool, 'stream'),
    ];
    expect(await waits()).toEqual([false, false, false]); // an empty outbox

    const id = randomUUID();
    await pool.query(
      `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, 'T_probe', 'relay-probe', 'k', '{}')`,
      [id],
    );
    expect(await waits()).toEqual([true, true, true]);

    await pool.query('UPDATE outbox SET stream_published_at = now() WHERE event_id = $1', [id]);
    expect(await waits()).toEqual([true, true, false]);

    await pool.query('UPDATE outbox SET published_at = now() WHERE event_id = $1', [id]);
    expect(await waits()).toEqual([false, false, false]);
  });
});
