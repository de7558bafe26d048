// PostgreSQL from Debian's package: a fresh cluster in the run folder, run as an unprivileged
// user (postgres refuses root).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { waitFor } from '../lib/wait-for.ts';
import { ManagedProcess } from './process.ts';

export const pgUser = 'payproof';
export const pgDatabase = 'payproof';

export interface PostgresOptions {
  readonly runDir: string;
  /** Where the cluster lives: must be reachable by the unprivileged user (a temp folder). */
  readonly dataRoot: string;
  readonly port: number;
  readonly bin: string;
}

interface OsUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

/** The account postgres runs under when we are root: Debian's `postgres`, else a `payproof` system user. */
function unprivilegedUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'payproof']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    if (id.status === 0) {
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid: Number(id.stdout.trim()), gid, name };
    }
  }
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'payproof']);
  return unprivilegedUser();
}

export function postgresUrl(port: number, database = pgDatabase): string {
  return `postgres://${pgUser}@127.0.0.1:${port}/${database}`;
}

export class PostgresService {
  readonly dataDir: string;
  readonly logFile: string;
  readonly port: number;
  #opts: PostgresOptions;
  #user: OsUser | undefined;
  #proc: ManagedProcess | undefined;

  constructor(opts: PostgresOptions) {
    this.#opts = opts;
    this.port = opts.port;
    this.dataDir = join(opts.dataRoot, 'postgres');
    this.logFile = join(opts.runDir, 'logs', 'postgres.log');
    this.#user = unprivilegedUser();
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  /** initdb (once per run folder), then start and wait until a real query answers. */
  async start(): Promise<void> {
    const owner = this.#user ? { uid: this.#user.uid, gid: this.#user.gid } : {};
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      chmodSync(dirname(this.dataDir), 0o755);
      if (this.#user) chownSync(this.dataDir, this.#user.uid, this.#user.gid);
      const init = spawnSync(
        join(this.#opts.bin, 'initdb'),
        ['-D', this.dataDir, '-U', pgUser, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
        { encoding: 'utf8', ...owner, cwd: '/' },
      );
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    }
    this.#proc = ManagedProcess.start({
      name: 'postgres',
      command: join(this.#opts.bin, 'postgres'),
      args: [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dataDir}`,
        ...tunedSettings(process.env).flatMap((s) => ['-c', s]),
      ],
      logFile: this.logFile,
      cwd: '/',
      // SIGINT is postgres's "fast" shutdown: roll back, disconnect, checkpoint, exit.
      stopSignal: 'SIGINT',
      ...owner,
    });
    await this.waitReady();
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'postgres to accept queries',
      async () => {
        if (this.#proc && !this.#proc.running) throw new Error(`postgres exited (see ${this.logFile})`);
        const c = new pg.Client({
          connectionString: postgresUrl(this.port, 'postgres'),
          connectionTimeoutMillis: 1000,
        });
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } finally {
          await c.end().catch(() => {});
        }
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  async ensureDatabase(name = pgDatabase): Promise<void> {
    const c = new pg.Client({ connectionString: postgresUrl(this.port, 'postgres') });
    await c.connect();
    try {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (r.rowCount === 0) await c.query(`CREATE DATABASE "${name}"`);
    } finally {
      await c.end();
    }
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(15_000);
  }

  /** Immediate shutdown (SIGQUIT): no checkpoint, crash recovery on the next start. */
  async crash(): Promise<void> {
    if (!this.#proc) return;
    this.#proc.signal('SIGQUIT');
    await this.#proc.exited;
  }
}

/**
 * How every payproof PostgreSQL is tuned, native or in a container (`name=value`, each given as
 * `-c name=value`): room for 1000 concurrent payments, quiet logs, deadlocks detected fast.
 */
export function tunedSettings(env: NodeJS.ProcessEnv): string[] {
  return [
    'max_connections=400',
    'shared_buffers=256MB',
    'max_wal_size=2GB',
    'log_min_messages=warning',
    'log_min_error_statement=panic',
    'deadlock_timeout=100ms',
    ...diagnosticSettings(env),
  ];
}

/**
 * Opt-in diagnostics for finding where PostgreSQL's time goes (docs/benchmarks.md): with
 * PAYPROOF_PG_STATS=1, pg_stat_statements is loaded (CREATE EXTENSION it, then read
 * pg_stat_statements); PAYPROOF_PG_EXPLAIN_MS=N also logs the analysed plan of every statement
 * slower than N ms to the stack's postgres.log (auto_explain; costs CPU on every statement).
 */
export function diagnosticSettings(env: NodeJS.ProcessEnv): string[] {
  const libs: string[] = [];
  const settings: string[] = [];
  if (env.PAYPROOF_PG_STATS === '1') libs.push('pg_stat_statements');
  const explainMs = Number(env.PAYPROOF_PG_EXPLAIN_MS);
  if (env.PAYPROOF_PG_EXPLAIN_MS && Number.isFinite(explainMs) && explainMs >= 0) {
    libs.push('auto_explain');
    settings.push(
      `auto_explain.log_min_duration=${explainMs}ms`,
      'auto_explain.log_analyze=on',
      'auto_explain.log_nested_statements=on',
      'auto_explain.log_level=warning',
    );
  }
  if (libs.length > 0) settings.unshift(`shared_preload_libraries=${libs.join(',')}`);
  return [...settings, ...experimentSettings(env.PAYPROOF_PG_SETTINGS)];
}

/**
 * PAYPROOF_PG_SETTINGS="name=value,name=value": extra settings for an experiment (docs/benchmarks.md
 * records each one tried), given after the tuned ones so they win. Settings that weaken durability
 * (fsync, synchronous_commit, full_page_writes) are refused: no figure may come from a PostgreSQL
 * that can lose a committed payment.
 */
export function experimentSettings(raw: string | undefined): string[] {
  if (!raw?.trim()) return [];
  return raw.split(',').map((pair) => {
    const m = /^\s*([a-z_.]+)\s*=\s*([^=\s]+)\s*$/.exec(pair);
    if (!m) throw new Error(`PAYPROOF_PG_SETTINGS: '${pair}' is not name=value`);
    const [, name, value] = m as unknown as [string, string, string];
    if (['fsync', 'synchronous_commit', 'full_page_writes'].includes(name))
      throw new Error(`PAYPROOF_PG_SETTINGS: ${name} weakens durability; it stays as tuned`);
    return `${name}=${value}`;
  });
}
