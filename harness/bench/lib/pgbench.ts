// The baseline: PostgreSQL's own pgbench running the API's confirm transaction (the one-statement
// CTE of system/api/payments.ts, copied here with pgbench variables) in prepared mode, against
// pending payments inserted for it, in a scratch database on the SAME server, migrated with the
// same migrations: no pipeline reads its outbox, so it measures the database alone.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { webhookBatchSql } from '../../../system/api/payments.ts';
import { topics } from '../../../system/contracts/index.ts';
import { parseTimes, timedShellArgs } from '../../lib/procmon.ts';
import { Trend } from '../../load/histogram.ts';
import { migrate } from '../../stack/migrate.ts';
import { seed } from '../../system/seed.ts';
import { pgbenchPath } from './machine.ts';
import { benchPriceCents, insertPendingPayments } from './payments.ts';

/** The API's to_char format for the envelope's timestamp. */
export const timestampFormat = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/**
 * The API's confirm statement, the provider webhook's (system/api/payments.ts `webhookBatchSql`,
 * imported, not copied), as a pgbench script: each $n becomes a one-element array computed from the
 * client's next payment number (pgbench's \set only computes integers): the payment id and the
 * event ids md5-derived from it, the capture of the bench price in EUR. The timestamp format is
 * passed as a variable (pgbench would read its colons as variables). Client c confirms payments
 * c*per+1, c*per+2, ... (variables persist across a client's transactions), so no two transactions
 * touch the same payment.
 */
export function confirmScript(): string {
  const k = `:tag || ':' || :k`;
  const params: Record<number, string> = {
    1: `ARRAY['evt_pgb_' || :tag || '_' || :k]`,
    2: `ARRAY[md5('bench-payment:' || ${k})::uuid]`,
    3: `ARRAY['payment_succeeded']`,
    4: `ARRAY['pgb_' || :tag || '_' || :k]`,
    5: `ARRAY[${benchPriceCents}]`,
    6: `ARRAY['EUR']`,
    7: `ARRAY[md5('bench-event:' || ${k})::uuid]`,
    8: `ARRAY[md5('bench-refund:' || ${k})::uuid]`,
    9: `ARRAY[md5('bench-refund-event:' || ${k})::uuid]`,
    10: `'${topics.PURCHASE_CONFIRMED}'`,
    11: 'false',
    12: `'${topics.PAYMENT_REFUND_REQUESTED}'`,
  };
  const sql = webhookBatchSql
    .replaceAll(`'${timestampFormat}'`, ':tsformat')
    .replace(/\$(\d+)/g, (_, n: string) => {
      const v = params[Number(n)];
      if (v === undefined) throw new Error(`confirmScript: no value for $${n} of the webhook statement`);
      return `(${v})`;
    })
    // pgbench ends a command at any ';' (even in a comment): the statement without its comments.
    .replace(/--[^\n]*/g, '')
    .replace(/\n\s*\n/g, '\n')
    .trim();
  return `\\set i :i + 1
\\set k :client_id * :per + :i
${sql};
`;
}

export interface PgbenchOptions {
  /** The server, direct (not through Toxiproxy): any database of it; a scratch one is created. */
  readonly serverUrl: string;
  /** Where pgbench connects; default serverUrl's host and port (e.g. the Toxiproxy address instead). */
  readonly connectUrl?: string;
  readonly clients: number;
  readonly threads?: number;
  readonly durationS: number;
  /**
   * pgbench's query mode: `prepared` (parse and plan once per connection, the baseline) or
   * `extended` (parse + bind + execute every time: what `pg`'s pool.query(text, values) does).
   */
  readonly mode?: 'prepared' | 'extended';
  /** Highest transactions/s expected: sizes the pending payments (default 8000). */
  readonly expectedTps?: number;
  readonly log?: (line: string) => void;
  /** Called right before pgbench starts and right after it exits (CPU snapshots without the setup). */
  readonly onRun?: (at: 'start' | 'end') => void;
}

export interface PgbenchResult {
  readonly mode: 'prepared' | 'extended';
  readonly clients: number;
  readonly threads: number;
  readonly durationS: number;
  /** pgbench's own figure (without connection time). */
  readonly tps: number;
  /** Confirmations that really happened per second (rows turned succeeded): equals tps unless a client ran out of payments. */
  readonly effectiveTps: number;
  readonly transactions: number;
  /** Payments the run turned succeeded (one per transaction when none ran out of payments). */
  readonly confirmed: number;
  readonly failed: number;
  readonly latencyAvgMs: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** CPU seconds of pgbench itself (user + system). */
  readonly cpuS: number | null;
  readonly command: string;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A migrated, seeded scratch database with `count` pending payments; dropped by `drop()`. */
export async function pgbenchDatabase(serverUrl: string, count: number, tag: string) {
  const name = `bench_pgbench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = withDb(serverUrl, name);
  await migrate(url);
  const { courses } = await seed(url, { students: 0, courses: 5, trainers: 1 });
  await insertPendingPayments(url, tag, count, courses);
  return {
    name,
    url,
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function succeededCount(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const x = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM payments WHERE status = 'succeeded'`,
    );
    return x.rows[0]?.n ?? 0;
  } finally {
    await c.end();
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => {
      stdout += b;
    });
    p.stderr.on('data', (b) => {
      stderr = (stderr + b).slice(-20_000);
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the confirm transaction in pgbench; sets up and drops its own scratch database. */
export async function runPgbench(o: PgbenchOptions): Promise<PgbenchResult> {
  const log = o.log ?? (() => {});
  const threads = o.threads ?? Math.min(2, o.clients);
  const tag = `pgb${randomBytes(4).toString('hex')}`;
  const per = Math.ceil(((o.expectedTps ?? 8_000) * o.durationS * 1.2) / o.clients) + 50;
  const count = per * o.clients;
  log(`[pgbench] scratch database with ${count} pending payments (${per} per client)`);
  const db = await pgbenchDatabase(o.serverUrl, count, tag);
  const dir = mkdtempSync(join(tmpdir(), 'payproof-pgbench-'));
  try {
    const script = join(dir, 'confirm.sql');
    writeFileSync(script, confirmScript());
    const target = new URL(o.connectUrl ?? o.serverUrl);
    const args = [
      '-n',
      '-M',
      o.mode ?? 'prepared',
      '-c',
      String(o.clients),
      '-j',
      String(threads),
      '-T',
      String(Math.max(1, Math.round(o.durationS))),
      '-f',
      script,
      '-D',
      `tag=${tag}`,
      '-D',
      `per=${per}`,
      '-D',
      'i=0',
      '-D',
      // pgbench would take ":MI" and ":SS" inside the literal for variables: pass the format as one.
      `tsformat=${timestampFormat}`,
      '-l',
      `--log-prefix=${join(dir, 'txn')}`,
      '-h',
      target.hostname,
      '-p',
      target.port,
      '-U',
      decodeURIComponent(target.username || 'payproof'),
      db.name,
    ];
    const command = `pgbench ${args.join(' ').replace(dir, '<tmp>').replace(dir, '<tmp>')}`;
    log(`[pgbench] ${command}`);
    const sh = timedShellArgs(pgbenchPath, args);
    o.onRun?.('start');
    const r = await run(
      sh.file,
      sh.args,
      { ...process.env, PGCONNECT_TIMEOUT: '10' },
      o.durationS * 1_000 + 120_000,
    );
    o.onRun?.('end');
    if (r.code !== 0) throw new Error(`pgbench exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    const num = (re: RegExp) => {
      const m = re.exec(r.stdout);
      return m ? Number(m[1]) : null;
    };
    const tps = num(/tps = ([\d.]+) \(without initial connection time\)/) ?? 0;
    const transactions = num(/number of transactions actually processed: (\d+)/) ?? 0;
    const failed = num(/number of failed transactions: (\d+)/) ?? 0;
    const latencyAvgMs = num(/latency average = ([\d.]+) ms/);
    const trend = new Trend();
    for (const f of readdirSync(dir).filter((x) => x.startsWith('txn'))) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) trend.add(us / 1_000);
      }
    }
    const confirmed = await succeededCount(db.url);
    const measuredS = transactions > 0 && tps > 0 ? transactions / tps : o.durationS;
    return {
      mode: o.mode ?? 'prepared',
      clients: o.clients,
      threads,
      durationS: o.durationS,
      tps,
      effectiveTps: confirmed / measuredS,
      transactions,
      confirmed,
      failed,
      latencyAvgMs,
      p50: trend.percentile(50),
      p95: trend.percentile(95),
      p99: trend.percentile(99),
      cpuS: parseTimes(r.stderr) ?? null,
      command,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop().catch((e: Error) => log(`[pgbench] drop ${db.name}: ${e.message}`));
  }
}
