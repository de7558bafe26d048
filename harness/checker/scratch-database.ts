// Fresh, migrated databases on one PostgreSQL server, for checks that must not see anybody else's
// rows (tests, property runs). Migrating once into a template and copying it is much faster than
// migrating every database.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sleep } from '../lib/wait-for.ts';
import { migrate } from '../stack/migrate.ts';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Drops a database, waiting a little for its last sessions to go: pg's Pool.end() resolves before
 * its sockets close, and a forced drop would kill them mid-goodbye (an unhandled FATAL in the
 * client). Forces only after a grace period.
 */
async function dropDatabase(serverUrl: string, name: string, graceMs = 2_000): Promise<void> {
  await admin(serverUrl, async (c) => {
    const deadline = performance.now() + graceMs;
    for (;;) {
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}"`);
        return;
      } catch (err) {
        // 55006: object in use (a session is still closing).
        if ((err as { code?: string }).code !== '55006') throw err;
        if (performance.now() > deadline) break;
        await sleep(20);
      }
    }
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** Creates a migrated template database and returns its name (drop it with `dropScratchTemplate`). */
export async function createScratchTemplate(serverUrl: string): Promise<string> {
  const template = `checker_tpl_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE "${template}"`));
  await migrate(withDatabase(serverUrl, template));
  return template;
}

export function dropScratchTemplate(serverUrl: string, template: string): Promise<void> {
  return dropDatabase(serverUrl, template);
}

/**
 * A migrated template; `create()` copies it into a fresh database. Drop the template when done.
 * PAYPROOF_SCRATCH_TEMPLATE names a template made once by `createScratchTemplate` (npm run mutate:
 * each mutant re-runs every test file's setup, and migrating a template costs seconds), which is
 * then neither made nor dropped here.
 */
export async function scratchDatabases(
  serverUrl: string,
  shared = process.env.PAYPROOF_SCRATCH_TEMPLATE,
): Promise<{ create(): Promise<ScratchDatabase>; close(): Promise<void> }> {
  const template = shared || (await createScratchTemplate(serverUrl));
  const made = new Set<string>();
  return {
    async create() {
      const name = `checker_${randomBytes(6).toString('hex')}`;
      await admin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      made.add(name);
      return {
        name,
        url: withDatabase(serverUrl, name),
        drop: async () => {
          made.delete(name);
          await dropDatabase(serverUrl, name);
        },
      };
    },
    async close() {
      for (const name of made) await dropDatabase(serverUrl, name);
      if (!shared) await dropDatabase(serverUrl, template);
    },
  };
}
