// How far behind the pipeline is: unpublished outbox rows (the relay's backlog) and, per consumer
// group, messages not yet committed (Kafka high watermark - committed offset), read from the
// database and the broker directly, never from the workers' own gauges (a stuck worker's gauge
// stays stale), once a second during a load step.
import pg from 'pg';
import { defaultGroups } from '../../checker/convergence.ts';
import { harnessKafka } from '../../lib/kafka.ts';

export interface BacklogSample {
  /** Seconds since the probe's origin. */
  readonly t: number;
  readonly outbox: number;
  readonly lag: Readonly<Record<string, number>>;
  /** outbox + every group's lag: events not yet through. */
  readonly total: number;
}

export class BacklogProbe {
  readonly #db: pg.Pool;
  readonly #admin: ReturnType<ReturnType<typeof harnessKafka>['admin']>;
  readonly #groups = defaultGroups();
  #connected = false;

  constructor(databaseUrl: string, brokers: string) {
    this.#db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    this.#db.on('error', () => {});
    this.#admin = harnessKafka(brokers, 'payproof-bench-backlog', { requestTimeout: 10_000 }).admin();
  }

  async read(t0Ms: number): Promise<BacklogSample> {
    if (!this.#connected) {
      await this.#admin.connect();
      this.#connected = true;
    }
    const r = await this.#db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    const outbox = r.rows[0]?.n ?? 0;
    const highs = new Map<string, number>();
    const lows = new Map<string, number>();
    for (const topic of new Set(Object.values(this.#groups).flat())) {
      for (const p of await this.#admin.fetchTopicOffsets(topic)) {
        highs.set(`${topic}/${p.partition}`, Number(p.high));
        lows.set(`${topic}/${p.partition}`, Number(p.low));
      }
    }
    const lag: Record<string, number> = {};
    for (const [groupId, topics] of Object.entries(this.#groups)) {
      let behind = 0;
      for (const t of await this.#admin.fetchOffsets({ groupId, topics })) {
        for (const p of t.partitions) {
          const key = `${t.topic}/${p.partition}`;
          const high = highs.get(key);
          if (high === undefined) continue;
          const at = Number(p.offset) < 0 ? (lows.get(key) ?? 0) : Number(p.offset);
          behind += Math.max(0, high - at);
        }
      }
      lag[groupId] = behind;
    }
    const total = outbox + Object.values(lag).reduce((a, b) => a + b, 0);
    return { t: Math.round(performance.now() - t0Ms) / 1_000, outbox, lag, total };
  }

  /** Samples every `everyMs` until stopped; errors are skipped (a sample missing is not a zero). */
  /** Reads that failed, and the last error (a sample missing is not a zero). */
  failures = 0;
  lastError: string | undefined;

  sampleEvery(everyMs: number, t0Ms: number): { stop: () => Promise<BacklogSample[]> } {
    const out: BacklogSample[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const started = performance.now();
        try {
          out.push(await this.read(t0Ms));
        } catch (err) {
          // the broker or the database blinked: reconnect, and the next second tries again
          this.failures++;
          this.lastError = (err as Error).message;
          if (this.#connected) {
            this.#connected = false;
            await this.#admin.disconnect().catch(() => {});
          }
        }
        const wait = everyMs - (performance.now() - started);
        if (running && wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return out;
      },
    };
  }

  async close(): Promise<void> {
    if (this.#connected) await this.#admin.disconnect().catch(() => {});
    await this.#db.end().catch(() => {});
  }
}

/** Least-squares slope of total backlog over time (events/s) for samples with t in [fromS, toS]. */
export function backlogSlope(samples: readonly BacklogSample[], fromS: number, toS: number): number | null {
  const xs = samples.filter((s) => s.t >= fromS && s.t <= toS);
  if (xs.length < 3) return null;
  const mx = xs.reduce((a, s) => a + s.t, 0) / xs.length;
  const my = xs.reduce((a, s) => a + s.total, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (const s of xs) {
    num += (s.t - mx) * (s.total - my);
    den += (s.t - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}
