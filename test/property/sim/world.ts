// One property run's world: a fresh migrated database, the real API (buildApp) on it, the real
// handlers and relay, Redis for the dashboard cache, an in-memory bus instead of Kafka, and a
// client history as the harness would record it.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { ScratchDatabase } from '../../../harness/checker/scratch-database.ts';
import { TokenBook } from '../../../harness/lib/tokens.ts';
import type { HistoryOp, OpName } from '../../../harness/run/history.ts';
import { plantSchemaFaults } from '../../../harness/system/plant.ts';
import { buildApp } from '../../../system/api/app.ts';
import { createPool } from '../../../system/lib/db.ts';
import type { FaultSet } from '../../../system/lib/faults.ts';
import { createLogger } from '../../../system/lib/log.ts';
import { Bus } from './bus.ts';

export interface WorldShape {
  readonly students: number;
  readonly courses: number;
  readonly trainers: readonly number[];
  readonly sessionCount: number;
}

export interface WorldIds {
  readonly students: string[];
  readonly courses: string[];
  readonly trainers: string[];
}

export function newIds(shape: WorldShape): WorldIds {
  return {
    students: Array.from({ length: shape.students }, () => randomUUID()),
    courses: Array.from({ length: shape.courses }, () => randomUUID()),
    trainers: shape.trainers.map(() => randomUUID()),
  };
}

export class World {
  readonly db: ScratchDatabase;
  readonly pool: pg.Pool;
  readonly app: FastifyInstance;
  readonly redis: Redis;
  readonly bus = new Bus();
  readonly history: HistoryOp[] = [];
  readonly students: string[];
  readonly courses: string[];
  readonly trainers: string[];
  #op = 0;
  readonly #tokens = new TokenBook();
  #apiFault: { fault: 'before' | 'after' | undefined } = { fault: undefined };

  /** The API's next database statement fails: before it ran, or after it committed (the answer is lost). */
  loseNextAnswer(when: 'before' | 'after'): void {
    this.#apiFault.fault = when;
  }
  #t0 = process.hrtime.bigint();

  private constructor(
    db: ScratchDatabase,
    pool: pg.Pool,
    app: FastifyInstance,
    redis: Redis,
    ids: { students: string[]; courses: string[]; trainers: string[] },
  ) {
    this.db = db;
    this.pool = pool;
    this.app = app;
    this.redis = redis;
    this.students = ids.students;
    this.courses = ids.courses;
    this.trainers = ids.trainers;
  }

  /** Same `ids` in two worlds make their projections comparable. */
  static async create(
    db: ScratchDatabase,
    redis: Redis,
    shape: WorldShape,
    ids?: WorldIds,
    poolSize = 8,
    faults: FaultSet = new Set(),
  ): Promise<World> {
    // Guards a planted bug removes are dropped by the harness (the system's role could not).
    await plantSchemaFaults(db.url, faults);
    const pool = createPool(db.url, poolSize, { name: 'property' });
    const { students, courses, trainers } = ids ?? newIds(shape);
    await pool.query("INSERT INTO students (id, name) SELECT id, 's' FROM unnest($1::uuid[]) AS id", [
      students,
    ]);
    await pool.query(
      "INSERT INTO courses (id, title, session_count, purchase_tier) SELECT id, 'c', $2, 2 FROM unnest($1::uuid[]) AS id",
      [courses, shape.sessionCount],
    );
    await pool.query(
      "INSERT INTO trainers (id, name, capacity) SELECT id, 't', cap FROM unnest($1::uuid[], $2::int[]) AS t(id, cap)",
      [trainers, shape.trainers],
    );
    // The API's pool can lose the next answer: before the statement ran, or after it committed.
    const apiPool = Object.create(pool) as pg.Pool;
    const world = { fault: undefined as 'before' | 'after' | undefined };
    apiPool.query = (async (...args: Parameters<pg.Pool['query']>) => {
      const fault = world.fault;
      world.fault = undefined;
      if (fault === 'before') throw new Error('Connection terminated unexpectedly');
      const r = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
      if (fault === 'after') throw new Error('Connection terminated unexpectedly');
      return r;
    }) as pg.Pool['query'];
    const app = buildApp({ pool: apiPool, redis, log: createLogger('property-api', 'silent'), faults });
    await app.ready();
    const w = new World(db, pool, app, redis, { students, courses, trainers });
    w.#apiFault = world;
    return w;
  }

  #now(): number {
    return Number(process.hrtime.bigint() - this.#t0);
  }

  /** `Authorization` header of a student (the dev issuer's token). */
  bearer(studentId: string): Promise<string> {
    return this.#tokens.bearerFor(studentId);
  }

  /** Calls the API and records the operation as invoke + ok / fail. */
  async call(
    op: OpName,
    method: 'GET' | 'POST',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
    ids: Record<string, string> = {},
  ) {
    const index = this.#op++;
    this.history.push({
      index,
      type: 'invoke',
      op,
      timeNs: this.#now(),
      process: 'property',
      ids,
      ...(payload ? { value: payload } : {}),
    });
    // A student's own request carries the student's token (the dev issuer's), unless the test set one.
    const auth =
      ids.studentId && headers.authorization === undefined && op !== 'confirm'
        ? { authorization: await this.#tokens.bearerFor(ids.studentId) }
        : {};
    const res = await this.app.inject({
      method,
      url,
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      ...(payload ? { payload: payload as object } : {}),
    });
    const body = res.json() as Record<string, unknown>;
    const ok = res.statusCode < 400;
    // A 5xx may or may not have been applied: `info`, never `fail` (Jepsen's indeterminate op).
    this.history.push({
      index,
      type: ok ? 'ok' : res.statusCode >= 500 ? 'info' : 'fail',
      op,
      timeNs: this.#now(),
      process: 'property',
      ids: { ...ids, ...(typeof body.id === 'string' ? { paymentId: body.id } : {}) },
      status: res.statusCode,
      ...(ok
        ? { value: body }
        : { error: (body.error as { code?: string } | undefined)?.code ?? 'error', value: body }),
    });
    return { status: res.statusCode, body };
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.pool.end();
  }
}

/** A direct pg pool for the checker and the projections (no gating, no faults). */
export function plainPool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 2 });
  p.on('error', () => {});
  return p;
}
