// runLoad end to end against the real payment API (buildApp, listened on a free port) and the real
// Postgres: its own setup, every risky path of the workload, and a history that matches the
// database row for row.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runLoad } from '../../harness/load/engine.ts';
import type { LoadProfile } from '../../harness/load/profile.ts';
import { formatSummary } from '../../harness/load/summary.ts';
import { History, readHistory } from '../../harness/run/history.ts';
import { buildApp } from '../../system/api/app.ts';
import { eventIdFor } from '../../system/contracts/index.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';

const stack = inject('stack');
const dir = mkdtempSync(join(tmpdir(), 'payproof-load-api-'));
let app: FastifyInstance;
let pool: pg.Pool;
let redis: Redis;
let direct: pg.Pool;
let baseUrl: string;

beforeAll(async () => {
  pool = createPool(stack.databaseUrl, 8, { queryTimeoutMs: 3_000 });
  redis = createRedis(stack.redisUrl, createLogger('test', 'silent'));
  app = buildApp({ pool, redis, log: createLogger('api-test', 'silent') });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  direct = new pg.Pool({ connectionString: stack.direct.databaseUrl, max: 2 });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  redis?.disconnect();
  await direct?.end();
  rmSync(dir, { recursive: true, force: true });
});

const profile: LoadProfile = {
  name: 'int-smoke',
  description: '8 VUs for 3 s with every risky path switched on often',
  scenario: { executor: 'constant-vus', vus: 8, duration: '3s', gracefulStop: '5s' },
  workload: {
    thinkTime: '50ms',
    repeatPurchase: 0.3,
    doubleConfirm: 0.3,
    idempotentRetry: 0.3,
    concurrentRetry: 0.5,
    dashboardRead: 0.5,
    lateProviderEvents: 0.3,
  },
  thresholds: { checks: ['rate==1'], http_req_failed: ['rate==0'], payments_confirmed: ['count>10'] },
};

describe('runLoad against the real API', () => {
  it('sets up its fixtures, passes every check, and its history agrees with the database', async () => {
    const historyPath = join(dir, 'history.jsonl');
    const history = new History(historyPath);
    const samples: unknown[] = [];
    const summary = await runLoad({
      baseUrl,
      databaseUrl: stack.databaseUrl,
      profile,
      history,
      seed: 1234,
      onSample: (s) => samples.push(s),
      log: () => undefined,
    });
    await history.close();
    expect(
      summary.criteria.filter((c) => !c.pass),
      formatSummary(summary),
    ).toEqual([]);
    expect(summary.pass).toBe(true);
    expect(samples.length).toBeGreaterThanOrEqual(3);

    const ops = readHistory(historyPath);
    const completions = ops.filter((o) => o.type !== 'invoke');
    expect(completions).toHaveLength(ops.length / 2);
    expect(completions.every((o) => o.type === 'ok')).toBe(true);

    const created = new Set(completions.filter((o) => o.op === 'create').map((o) => o.ids!.paymentId!));
    const confirmed = new Set(completions.filter((o) => o.op === 'confirm').map((o) => o.ids!.paymentId!));
    const keys = new Set(completions.filter((o) => o.op === 'create').map((o) => o.ids!.idempotencyKey!));
    // One payment per idempotency key, however often (or concurrently) the create was resent.
    expect(created.size).toBe(keys.size);
    expect(confirmed.size).toBe(summary.figures.load_payments_confirmed);

    const rows = await direct.query<{ id: string; status: string; idempotency_key: string }>(
      'SELECT id, status, idempotency_key FROM payments WHERE idempotency_key = ANY($1::text[])',
      [[...keys]],
    );
    expect(rows.rows.map((r) => r.id).sort()).toEqual([...created].sort());
    expect(
      rows.rows
        .filter((r) => r.status === 'succeeded')
        .map((r) => r.id)
        .sort(),
    ).toEqual([...confirmed].sort());
    // Late provider events reached the real API (a capture again, a payment_failed after it) and
    // changed nothing: the statuses above are still succeeded, and each failure was recorded once
    // as ignored.
    const failures = completions.filter(
      (o) => o.op === 'confirm' && o.ids!.providerEventType === 'payment_failed',
    );
    expect(failures.length).toBeGreaterThan(0);
    const ignored = await direct.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM provider_events WHERE type = 'payment_failed' AND outcome = 'ignored_succeeded' AND id = ANY($1::text[])",
      [failures.map((f) => f.ids!.providerEventId!)],
    );
    expect(ignored.rows[0]!.n).toBe(new Set(failures.map((f) => f.ids!.providerEventId)).size);
    // Double confirms emitted one event each: exactly one outbox row per confirmed payment.
    const outbox = await direct.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE event_id = ANY($1::uuid[])',
      [[...confirmed].map((id) => eventIdFor('PURCHASE_CONFIRMED', id))],
    );
    expect(outbox.rows[0]!.n).toBe(confirmed.size);
    // Repeat purchases really happened: some pair paid twice.
    const pairs = completions
      .filter((o) => o.op === 'confirm')
      .map((o) => `${o.ids!.studentId}/${o.ids!.courseId}/${o.ids!.paymentId}`);
    const byPair = new Map<string, Set<string>>();
    for (const p of pairs) {
      const [s, c, id] = p.split('/');
      byPair.set(`${s}/${c}`, (byPair.get(`${s}/${c}`) ?? new Set()).add(id!));
    }
    expect([...byPair.values()].some((ids) => ids.size > 1)).toBe(true);
  });
});
