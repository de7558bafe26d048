// Fresh, migrated databases on one PostgreSQL server, for checks that must not see anybody else's
// rows (tests, property runs). Migrating once into a template and copying it is much faster than
// migrating every database.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sleep } from '../lib/wait-for.ts';
import { migrate } from '../stack/migrate.ts';
import { schemaFaultsOf } from '../system/plant.ts';

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

/** Drops a template and the reusable copies made of it (`scratchDatabases` with `reuse`). */
export async function dropScratchTemplate(serverUrl: string, template: string): Promise<void> {
  for (const name of await reusableCopies(serverUrl, template)) await dropDatabase(serverUrl, name);
  await dropDatabase(serverUrl, template);
}

/** PostgreSQL's "source database is being accessed by other users" (CREATE DATABASE ... TEMPLATE). */
const inUse = '55006';

/** Copies the template; waits while somebody reads the template (a reuse snapshot, below). */
async function copyTemplate(serverUrl: string, name: string, template: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  await admin(serverUrl, async (c) => {
    for (;;) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== inUse || performance.now() > deadline) throw err;
        await sleep(25);
      }
    }
  });
}

// --- Reuse: a copy reset to exactly what a fresh copy holds ----------------------------------------
//
// CREATE DATABASE ... TEMPLATE costs seconds on a loaded machine (2.3 to 3.7 s at load 45) and the
// handler-level property makes two per case, for every mutant Stryker runs it against. A reusable
// copy is made once and reset between uses: every table emptied (TRUNCATE ... RESTART IDENTITY
// CASCADE), the template's rows put back (the migrations' own: pgmigrations, app_clock), every
// sequence set to the template's state. Before a reset the copy's schema is compared with the
// template's (a planted bug that drops a guard changes it): a different schema means a fresh copy.
// test/int/scratch-reuse.int.test.ts proves a reset copy equal to a fresh one (rows, sequences,
// schema) after a property case has written to it.
//
// The copies are named `<template>_r<n>` and claimed with a session advisory lock (on the server's
// maintenance database, so every claimant sees the same lock): two test processes never share one,
// and a copy survives its process, so the next process (Stryker's next mutant) reuses it. The lock
// goes with the claimant's connection if it dies.

/** What a fresh copy of the template holds, besides its schema. */
interface Pristine {
  /** Every table, schema-qualified and quoted. */
  readonly tables: readonly string[];
  /** Rows of the tables that are not empty in the template, as `INSERT` statements with JSON. */
  readonly rows: readonly { readonly table: string; readonly columns: string; readonly json: string }[];
  readonly sequences: readonly { readonly name: string; readonly value: string; readonly called: boolean }[];
  /** Fingerprint of the schema: tables, columns, indexes, constraints, triggers, grants. */
  readonly schema: string;
}

const userSchemas =
  "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

/** The schema's fingerprint: one md5 over everything a planted bug or a migration could change. */
export async function schemaFingerprint(c: pg.Client): Promise<string> {
  const r = await c.query<{ fp: string }>(`
    SELECT md5(string_agg(x, E'\\n' ORDER BY x)) AS fp FROM (
      SELECT format('rel %s.%s %s %s', n.nspname, k.relname, k.relkind, k.relacl) AS x
        FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace WHERE ${userSchemas}
      UNION ALL
      SELECT format('col %s.%s %s %s %s %s %s %s', n.nspname, k.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
        FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid JOIN pg_namespace n ON n.oid = k.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE ${userSchemas} AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT format('idx %s', pg_get_indexdef(i.indexrelid))
        FROM pg_index i JOIN pg_class k ON k.oid = i.indexrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE ${userSchemas}
      UNION ALL
      SELECT format('con %s %s %s', t.conrelid::regclass, t.conname, pg_get_constraintdef(t.oid))
        FROM pg_constraint t JOIN pg_namespace n ON n.oid = t.connamespace WHERE ${userSchemas}
      UNION ALL
      SELECT format('trg %s', pg_get_triggerdef(g.oid))
        FROM pg_trigger g JOIN pg_class k ON k.oid = g.tgrelid JOIN pg_namespace n ON n.oid = k.relnamespace
       WHERE ${userSchemas} AND NOT g.tgisinternal
      UNION ALL
      SELECT format('fn %s %s', p.oid::regprocedure, md5(p.prosrc))
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${userSchemas}
    ) s`);
  return r.rows[0]!.fp;
}

async function readPristine(c: pg.Client): Promise<Pristine> {
  const tables = (
    await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, k.relname) AS t FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
        WHERE k.relkind IN ('r', 'p') AND ${userSchemas} ORDER BY 1`,
    )
  ).rows.map((r) => r.t);
  const rows: { table: string; columns: string; json: string }[] = [];
  for (const table of tables) {
    // Generated columns are computed again on insert; identity columns are inserted as they were.
    const cols = (
      await c.query<{ a: string }>(
        `SELECT quote_ident(attname) AS a FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0
           AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
        [table],
      )
    ).rows.map((r) => r.a);
    const json = (await c.query<{ j: string | null }>(`SELECT json_agg(t)::text AS j FROM ${table} t`))
      .rows[0]!.j;
    if (json !== null) rows.push({ table, columns: cols.join(', '), json });
  }
  const sequences: { name: string; value: string; called: boolean }[] = [];
  const seqNames = (
    await c.query<{ s: string }>(
      `SELECT format('%I.%I', n.nspname, k.relname) AS s FROM pg_class k JOIN pg_namespace n ON n.oid = k.relnamespace
        WHERE k.relkind = 'S' AND ${userSchemas} ORDER BY 1`,
    )
  ).rows.map((r) => r.s);
  for (const name of seqNames) {
    const r = await c.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value, is_called FROM ${name}`,
    );
    sequences.push({ name, value: r.rows[0]!.last_value, called: r.rows[0]!.is_called });
  }
  return { tables, rows, sequences, schema: await schemaFingerprint(c) };
}

/** One snapshot per template and process (the template never changes once made). */
const pristineOf = new Map<string, Promise<Pristine>>();

function pristine(serverUrl: string, template: string): Promise<Pristine> {
  let p = pristineOf.get(template);
  if (!p) {
    p = (async () => {
      const c = new pg.Client({ connectionString: withDatabase(serverUrl, template) });
      await c.connect();
      try {
        return await readPristine(c);
      } finally {
        await c.end();
      }
    })();
    p.catch(() => pristineOf.delete(template));
    pristineOf.set(template, p);
  }
  return p;
}

/**
 * Puts a copy back into the state of a fresh copy of its template; false when its schema differs
 * (then it must be dropped and copied again). The caller holds the copy's claim.
 */
export async function resetToTemplate(serverUrl: string, name: string, template: string): Promise<boolean> {
  const want = await pristine(serverUrl, template);
  // Sessions of the previous user may still be closing (pg's Pool.end() resolves before its sockets
  // close): wait for them a little, then end them, as dropDatabase does. None may write after the reset.
  await admin(serverUrl, async (c) => {
    const others = async () =>
      Number(
        (
          await c.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [name],
          )
        ).rows[0]!.n,
      );
    const deadline = performance.now() + 2_000;
    while ((await others()) > 0 && performance.now() < deadline) await sleep(20);
    await c.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
  });
  const c = new pg.Client({ connectionString: withDatabase(serverUrl, name) });
  c.on('error', () => {});
  await c.connect();
  try {
    if ((await schemaFingerprint(c)) !== want.schema) return false;
    await c.query('BEGIN');
    await c.query(`TRUNCATE ${want.tables.join(', ')} RESTART IDENTITY CASCADE`);
    for (const { table, columns, json } of want.rows)
      await c.query(
        `INSERT INTO ${table} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM json_populate_recordset(NULL::${table}, $1)`,
        [json],
      );
    for (const s of want.sequences) await c.query('SELECT setval($1, $2, $3)', [s.name, s.value, s.called]);
    await c.query('COMMIT');
    return true;
  } finally {
    await c.end();
  }
}

async function reusableCopies(serverUrl: string, template: string): Promise<string[]> {
  return admin(serverUrl, async (c) =>
    (
      await c.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 || '\\_r%' ORDER BY datname",
        [template],
      )
    ).rows.map((r) => r.datname),
  );
}

export interface ScratchOptions {
  /**
   * Reuse copies across `create()` calls and processes, reset to the template's state instead of
   * copied afresh (see above). For callers that create many: the properties. Default: fresh copies.
   */
  readonly reuse?: boolean;
}

/**
 * A migrated template; `create()` copies it into a fresh database (or, with `reuse`, claims a reset
 * copy). Drop the template when done (`close()`).
 * PAYPROOF_SCRATCH_TEMPLATE names a template made once by `createScratchTemplate` (npm run mutate:
 * each mutant re-runs every test file's setup, and migrating a template costs seconds), which is
 * then neither made nor dropped here; neither are its reusable copies (`dropScratchTemplate` does).
 */
export async function scratchDatabases(
  serverUrl: string,
  shared = process.env.PAYPROOF_SCRATCH_TEMPLATE,
  options: ScratchOptions = {},
): Promise<{ create(): Promise<ScratchDatabase>; close(): Promise<void> }> {
  const template = shared || (await createScratchTemplate(serverUrl));
  const made = new Set<string>();
  // Reuse: one connection holds the claims (advisory locks) of this process's copies.
  let claims: pg.Client | undefined;
  const claimed = new Set<string>();
  const claim = async (name: string): Promise<boolean> => {
    if (!claims) {
      claims = new pg.Client({ connectionString: serverUrl });
      claims.on('error', () => {});
      await claims.connect();
    }
    const r = await claims.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [name]);
    return r.rows[0]!.ok;
  };
  const release = async (name: string) => {
    if (!claimed.delete(name)) return;
    await claims?.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
  };
  return {
    async create() {
      if (!options.reuse) {
        const name = `checker_${randomBytes(6).toString('hex')}`;
        await copyTemplate(serverUrl, name, template);
        made.add(name);
        return {
          name,
          url: withDatabase(serverUrl, name),
          drop: async () => {
            made.delete(name);
            await dropDatabase(serverUrl, name);
          },
        };
      }
      for (let i = 0; ; i++) {
        const name = `${template}_r${i}`;
        // Marked before the lock is asked: advisory locks are re-entrant within one session, so
        // two create() calls of this process must not both ask for the same copy.
        if (claimed.has(name)) continue;
        claimed.add(name);
        if (!(await claim(name))) {
          claimed.delete(name);
          continue;
        }
        try {
          const exists = await admin(
            serverUrl,
            async (c) =>
              (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
          );
          if (!exists) await copyTemplate(serverUrl, name, template);
          else if (!(await resetToTemplate(serverUrl, name, template))) {
            await dropDatabase(serverUrl, name);
            await copyTemplate(serverUrl, name, template);
          }
        } catch (err) {
          await release(name);
          throw err;
        }
        return { name, url: withDatabase(serverUrl, name), drop: () => release(name) };
      }
    },
    async close() {
      for (const name of made) await dropDatabase(serverUrl, name);
      for (const name of [...claimed]) await release(name);
      await claims?.end();
      claims = undefined;
      if (!shared) await dropScratchTemplate(serverUrl, template);
    },
  };
}

/**
 * Whether a property reuses its scratch databases: yes, unless a planted bug changes the schema
 * (each case would need a fresh copy anyway) or PAYPROOF_SCRATCH_REUSE=0 (fresh copies, to compare).
 */
export function reuseScratch(faults: Iterable<string>, env = process.env): boolean {
  return env.PAYPROOF_SCRATCH_REUSE !== '0' && schemaFaultsOf(faults).length === 0;
}
