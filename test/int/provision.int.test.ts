// `node system/main.ts provision` on a fresh database and the test stack's Kafka: the schema is
// applied, every topic exists with its partitions (dead-letter topics with one), and a second run
// changes nothing. Run as a deployment runs it: the system's own entry point, a child process.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { postgresUrl } from '../../harness/stack/postgres.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';
import { allTopics, defaultPartitions } from '../../system/contracts/topics.ts';

const stack = inject('stack');
const database = `provision_${randomUUID().replaceAll('-', '')}`;
const admin = () => new pg.Client({ connectionString: postgresUrl(stack.ports.postgres, 'postgres') });

function provision() {
  const r = spawnSync(process.execPath, [join(repoRoot, 'system', 'main.ts'), 'provision'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: postgresUrl(stack.ports.postgres, database),
      KAFKA_BROKERS: stack.direct.kafkaBrokers,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: '--disable-warning=TimeoutNegativeWarning',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const done = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'provisioned');
  return { status: r.status, done, output: r.stdout + r.stderr };
}

afterAll(async () => {
  const c = admin();
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await c.end();
});

describe('node system/main.ts provision', () => {
  it('applies the schema and creates every topic; a second run changes nothing', async () => {
    const c = admin();
    await c.connect();
    await c.query(`CREATE DATABASE "${database}"`);
    await c.end();

    const first = provision();
    expect(first.status, first.output).toBe(0);
    expect(first.done, first.output).toBeDefined();
    expect((first.done!.migrationsApplied as string[]).length).toBeGreaterThan(0);
    // The shared stack created the topics already: provision finds them (another deployment's
    // first run creates them; test/e2e/target-external and a bare `npm run stack` show that).
    expect(first.done?.topicsMismatched).toEqual([]);

    const second = provision();
    expect(second.status, second.output).toBe(0);
    expect(second.done).toMatchObject({
      migrationsApplied: [],
      topicsCreated: [],
      topicsGrown: [],
      topicsMismatched: [],
    });

    const db = new pg.Client({ connectionString: postgresUrl(stack.ports.postgres, database) });
    await db.connect();
    const tables = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'outbox'`,
    );
    await db.end();
    expect(tables.rows[0].n).toBe(1);

    const k = harnessKafka(stack.direct.kafkaBrokers, 'provision-test').admin();
    await k.connect();
    try {
      const { topics } = await k.fetchTopicMetadata({ topics: allTopics() });
      for (const t of topics)
        expect(t.partitions.length, t.name).toBe(t.name.endsWith('.dlq') ? 1 : defaultPartitions);
    } finally {
      await k.disconnect();
    }
  });
});
