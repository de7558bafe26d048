// The pipeline's PostgreSQL backends yield the CPU to the API's, as the pipeline's processes do.
//
// On one machine shared by everything, the relay and the workers already run at a lower priority
// (pipelineNice, applied to their autogroups: see lowerPriority). But their SQL runs in PostgreSQL
// backends, and every backend calls setsid() and is an autogroup of its own at nice 0: the work a
// worker hands to the database competed with the API's confirmations as an equal. This loop finds
// the relay's and the workers' backends by their application_name (system/lib/db.ts names each
// pool after its process), and PostgreSQL's autovacuum workers, and lowers their autogroups too. A harness-side tuning for co-located
// runs, like the processes' nice value; a deployment with its own database server has no need.
//
// Safety: a pid read from pg_stat_activity is touched only when it is a `postgres` process
// descending from this harness process (a database in a container, or one the harness did not
// start, has pids of another namespace or another owner: never touched).
import pg from 'pg';
import { lowerPriority, pipelineNice } from './process.ts';
import { readProc } from './procfs.ts';

/** application_name of the relay's and the workers' pools: `relay-<instance>`, `<kind>-worker-<instance>`. */
export const pipelineApplicationName = /^(relay|[a-z]+-worker)-/;

/** PostgreSQL's own background work that can wait: vacuum (never the WAL writer or the checkpointer). */
const yieldingBackendTypes = new Set(['autovacuum worker']);

/** True for a backend that should yield like the pipeline. */
export function yields(row: { application_name: string; backend_type: string }): boolean {
  return pipelineApplicationName.test(row.application_name) || yieldingBackendTypes.has(row.backend_type);
}

/** True when `pid` is a descendant of `ancestor` (by parent pid, at most `depth` levels up). */
export function descendsFrom(pid: number, ancestor: number, depth = 16): boolean {
  let p = readProc(pid);
  for (let i = 0; p && i < depth; i++) {
    if (p.ppid === ancestor) return true;
    if (p.ppid <= 1) return false;
    p = readProc(p.ppid);
  }
  return false;
}

export class BackendPriority {
  readonly #url: string;
  readonly #nice: number;
  readonly #intervalMs: number;
  readonly #ancestor: number;
  readonly #done = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #client: pg.Client | undefined;
  #running: Promise<void> | undefined;
  /** Backends whose autogroup this loop lowered. */
  lowered = 0;

  /** `ancestor`: only backends descending from this pid are touched (default: this process). */
  constructor(databaseUrl: string, o: { nice?: number; intervalMs?: number; ancestor?: number } = {}) {
    this.#url = databaseUrl;
    this.#ancestor = o.ancestor ?? process.pid;
    this.#nice = o.nice ?? pipelineNice;
    this.#intervalMs = o.intervalMs ?? 2_000;
  }

  start(): void {
    const tick = () => {
      this.#running = this.pass()
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(tick, this.#intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  /** One pass: lowers every pipeline backend not lowered yet; returns how many it lowered. */
  async pass(): Promise<number> {
    if (!this.#client) {
      const c = new pg.Client({
        connectionString: this.#url,
        connectionTimeoutMillis: 1_000,
        query_timeout: 1_000,
        application_name: 'payproof-harness-priority',
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      this.#client = c;
    }
    type Row = { pid: number; application_name: string; backend_type: string };
    let rows: Row[];
    try {
      rows = (
        await this.#client.query<Row>(
          'SELECT pid, application_name, backend_type FROM pg_stat_activity WHERE application_name <> $1',
          ['payproof-harness-priority'],
        )
      ).rows;
    } catch (err) {
      // A restarted or unreachable database: reconnect on the next pass.
      const c = this.#client;
      this.#client = undefined;
      await c.end().catch(() => undefined);
      throw err;
    }
    let n = 0;
    for (const r of rows) {
      if (!yields(r)) continue;
      const p = readProc(r.pid);
      if (!p) continue; // ended since the query
      if (p.comm !== 'postgres') continue;
      const key = `${p.pid}|${p.startTicks}`;
      if (this.#done.has(key)) continue;
      this.#done.add(key);
      if (descendsFrom(p.pid, this.#ancestor) && lowerPriority(p.pid, this.#nice)) n++;
    }
    this.lowered += n;
    return n;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#client?.end().catch(() => undefined);
    this.#client = undefined;
  }
}
