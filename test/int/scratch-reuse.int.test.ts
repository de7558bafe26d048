// Reusable scratch databases (harness/checker/scratch-database.ts, `reuse`): the properties reset one
// copy of the template between cases instead of copying the template afresh (seconds per copy on a
// loaded machine). A reset must leave exactly what a fresh copy holds, or a property case would see
// the previous case's rows. Proven here after a real handler-level case wrote to the copy, with
// queries of this test's own (not the reset's snapshot code): every table's rows, every sequence's
// state, the schema (indexes, constraints, columns, grants).
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createScratchTemplate,
  dropScratchTemplate,
  scratchDatabases,
} from '../../harness/checker/scratch-database.ts';
import { plantSchemaFaults } from '../../harness/system/plant.ts';
import { checkOneRun, type PropertyEnv } from '../property/sim/property.ts';
import { openGate } from '../property/sim/run-scenario.ts';

const stack = inject('stack');
const serverUrl = stack.direct.databaseUrl;
let template: string;
let reused: Awaited<ReturnType<typeof scratchDatabases>>;
let fresh: Awaited<ReturnType<typeof scratchDatabases>>;
let redis: Redis;
let referenceRedis: Redis;

beforeAll(async () => {
  template = await createScratchTemplate(serverUrl);
  reused = await scratchDatabases(serverUrl, template, { reuse: true });
  fresh = await scratchDatabases(serverUrl, template);
  redis = new Redis(stack.direct.redisUrl);
  referenceRedis = new Redis(`${stack.direct.redisUrl}/1`);
});

afterAll(async () => {
  await reused?.close();
  await fresh?.close();
  redis?.disconnect();
  referenceRedis?.disconnect();
  if (template) await dropScratchTemplate(serverUrl, template);
});

/** Everything a test could observe in a database, as plain data. */
async function observe(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ t: string }>(
        "SELECT format('%I.%I', table_schema, table_name) AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
      )
    ).rows.map((r) => r.t);
    const rows: Record<string, string[]> = {};
    for (const t of tables)
      rows[t] = (await c.query<{ r: string }>(`SELECT x::text AS r FROM ${t} x ORDER BY 1`)).rows.map(
        (r) => r.r,
      );
    const sequences = (
      await c.query(
        'SELECT schemaname, sequencename, start_value, last_value, increment_by FROM pg_sequences ORDER BY 1, 2',
      )
    ).rows;
    const indexes = (
      await c.query("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2")
    ).rows;
    const constraints = (
      await c.query(
        "SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
      )
    ).rows;
    const grants = (
      await c.query(
        "SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = 'public' ORDER BY 1, 2, 3",
      )
    ).rows;
    return { tables, rows, sequences, indexes, constraints, grants };
  } finally {
    await c.end();
  }
}

const countOf = (o: Awaited<ReturnType<typeof observe>>) =>
  Object.values(o.rows).reduce((n, r) => n + r.length, 0);

describe('reusable scratch databases', () => {
  it('a copy reset after a property case holds exactly what a fresh copy of the template holds', async () => {
    let t = performance.now();
    const [a, b] = await Promise.all([reused.create(), reused.create()]);
    const firstMs = performance.now() - t;
    expect(a.name).not.toBe(b.name);
    // A real handler-level case writes to both (the run and its in-order reference).
    const pair = [a, b];
    const env: PropertyEnv = {
      dbs: { create: async () => pair.shift()! },
      redis,
      redisUrl: stack.direct.redisUrl,
      referenceRedis,
    };
    await checkOneRun(
      env,
      new Set(),
      { students: 2, courses: 1, trainers: [1, 2], sessionCount: 3 },
      [
        {
          student: 0,
          course: 0,
          doubleConfirm: true,
          retryCreate: true,
          stolenProviderId: false,
          lostAnswer: 'none',
          attack: 'none',
        },
        {
          student: 1,
          course: 0,
          doubleConfirm: false,
          retryCreate: false,
          stolenProviderId: true,
          lostAnswer: 'after',
          attack: 'none',
        },
      ],
      {
        maxCopies: 2,
        instances: 2,
        chunkSize: 2,
        abortRate: 0.2,
        redeliverRate: 0.3,
        lateRate: 0,
        relayFailures: 1,
        seed: 42,
      },
      openGate,
    );
    // ...and more than a case does: every sequence moved, the clock row changed.
    const dirty = new pg.Client({ connectionString: a.url });
    await dirty.connect();
    try {
      await dirty.query(
        "SELECT nextval(format('%I.%I', schemaname, sequencename)) FROM pg_sequences WHERE schemaname = 'public'",
      );
      await dirty.query('UPDATE app_clock SET offset_ms = 123456');
    } finally {
      await dirty.end();
    }
    const written = await observe(a.url);
    expect(written.rows['public.payments']?.length).toBeGreaterThan(0);
    expect(written.rows['public.outbox']?.length).toBeGreaterThan(0);

    await a.drop();
    await b.drop();
    t = performance.now();
    const [a2, b2] = await Promise.all([reused.create(), reused.create()]);
    const resetMs = performance.now() - t;
    // The same two copies again (reused, not copied).
    expect([a2.name, b2.name].sort()).toEqual([a.name, b.name].sort());
    t = performance.now();
    const f = await fresh.create();
    const freshMs = performance.now() - t;
    try {
      const want = await observe(f.url);
      expect(countOf(want)).toBeGreaterThan(0); // the migrations' own rows
      expect(await observe(a2.url)).toEqual(want);
      expect(await observe(b2.url)).toEqual(want);
    } finally {
      await f.drop();
      await a2.drop();
      await b2.drop();
    }
    console.log(
      `[scratch-reuse] two copies: first ${firstMs.toFixed(0)} ms (CREATE DATABASE), reset ${resetMs.toFixed(0)} ms; one fresh copy ${freshMs.toFixed(0)} ms`,
    );
  }, 120_000);

  it('a copy whose schema was changed (a planted bug dropped a guard) is copied afresh, not reset', async () => {
    const a = await reused.create();
    await plantSchemaFaults(a.url, ['no-purchase-unique', 'no-session-unique']);
    const planted = await observe(a.url);
    await a.drop();
    const a2 = await reused.create();
    const f = await fresh.create();
    try {
      const want = await observe(f.url);
      expect(planted.indexes).not.toEqual(want.indexes);
      expect(await observe(a2.url)).toEqual(want);
    } finally {
      await f.drop();
      await a2.drop();
    }
  }, 120_000);

  it('a copy claimed by one user (another test process) is never handed to another', async () => {
    const other = await scratchDatabases(serverUrl, template, { reuse: true });
    try {
      const a = await reused.create();
      const b = await other.create();
      expect(b.name).not.toBe(a.name);
      await a.drop();
      // Released: the other user may now take it.
      const c = await other.create();
      expect(c.name).toBe(a.name);
      await b.drop();
      await c.drop();
    } finally {
      await other.close();
    }
  }, 120_000);
});
