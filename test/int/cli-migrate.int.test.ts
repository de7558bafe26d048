// `npm run migrate` against a fresh, empty database: it applies every migration of migrations/,
// a second run applies nothing, --down rolls every one back.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { migrationsDir } from '../../harness/stack/migrate.ts';
import { postgresUrl } from '../../harness/stack/postgres.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const stack = inject('stack');
const database = `cli_migrate_${randomUUID().replaceAll('-', '')}`;
const url = postgresUrl(stack.ports.postgres, database);
const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: postgresUrl(stack.ports.postgres, 'postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};
const migrateCli = (...args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'harness/cli/migrate.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '' },
    timeout: 60_000,
  });

beforeAll(() => admin(`CREATE DATABASE "${database}"`));
afterAll(() => admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));

it('applies every migration, then nothing, then rolls them back', async () => {
  const names = readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''));
  const first = migrateCli('--database-url', url);
  expect(first.stderr).toBe('');
  expect(first.status).toBe(0);
  for (const n of names) expect(first.stdout).toContain(`applied ${n}`);
  expect(first.stdout).toContain(`${names.length} migration(s) applied`);

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const tables = await c.query(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'payments'`,
  );
  await c.end();
  expect(tables.rows[0].n).toBe(1);

  const second = migrateCli('--database-url', url);
  expect(second.status).toBe(0);
  expect(second.stdout).toContain('nothing to apply: the database is up to date');

  const down = migrateCli('--down', '--database-url', url);
  expect(down.status).toBe(0);
  expect(down.stdout).toContain(`${names.length} migration(s) rolled back`);
});
