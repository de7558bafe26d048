// Test helpers for the whole system: start it on the shared test stack, drive the API, wait for
// the flow to complete (by polling the database), create isolated students.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { deliverWebhook, providerEvent } from '../../harness/lib/provider.ts';
import { TokenBook } from '../../harness/lib/tokens.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import type { Endpoints } from '../../harness/stack/stack.ts';
import { type RunningSystem, type SystemOptions, startSystem } from '../../harness/system/launcher.ts';
import { seed } from '../../harness/system/seed.ts';
import type { PaymentView } from '../../system/contracts/index.ts';

export async function startTestSystem(
  endpoints: Endpoints,
  opts: Partial<SystemOptions> = {},
): Promise<RunningSystem> {
  await seed(endpoints.direct.databaseUrl);
  const runDir = mkdtempSync(join(tmpdir(), 'payproof-e2e-'));
  return startSystem({
    endpoints,
    runDir,
    apiPort: 'free',
    env: { LOG_LEVEL: 'warn', TOPUP_INTERVAL_MS: '500' },
    ...opts,
  });
}

/** Fresh students so a test's rows never mix with another test's. */
export async function newStudents(pool: pg.Pool, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await pool.query(
    "INSERT INTO students (id, name) SELECT id, 'test student' FROM unnest($1::uuid[]) AS id",
    [ids],
  );
  return ids;
}

export async function courseIds(pool: pg.Pool): Promise<string[]> {
  return (await pool.query<{ id: string }>('SELECT id FROM courses ORDER BY id')).rows.map((r) => r.id);
}

export async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const tokens = new TokenBook();

/** `Authorization` header of a student (the dev issuer's token). */
export async function authFor(studentId: string): Promise<Record<string, string>> {
  return { authorization: await tokens.bearerFor(studentId) };
}

/** Creates a payment as the student (the course's price) and has the fake provider capture it; returns it. */
export async function pay(baseUrl: string, studentId: string, courseId: string): Promise<PaymentView> {
  const created = await post(baseUrl, '/payments', { courseId }, await authFor(studentId));
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const confirmed = await deliverWebhook(baseUrl, providerEvent(created.body as unknown as PaymentView));
  if (confirmed.status !== 200)
    throw new Error(`webhook: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return confirmed.body as unknown as PaymentView;
}

export interface FlowState {
  readonly purchases: number;
  readonly allocations: number;
  readonly sessions: number;
  readonly processed: number;
}

/** Counts, for a set of students, every row the flow creates. */
export async function flowState(pool: pg.Pool, studentIds: readonly string[]): Promise<FlowState> {
  const r = await pool.query<FlowState>(
    `SELECT (SELECT count(*)::int FROM student_course_purchases WHERE student_id = ANY($1)) AS purchases,
            (SELECT count(*)::int FROM trainer_allocations WHERE student_id = ANY($1)) AS allocations,
            (SELECT count(*)::int FROM tutoring_sessions WHERE student_id = ANY($1)) AS sessions,
            (SELECT count(*)::int FROM processed_events pe JOIN outbox o ON o.event_id = pe.event_id
              WHERE o.message_key = ANY($2::text[])) AS processed`,
    [studentIds, studentIds],
  );
  return r.rows[0]!;
}

/** Waits until every student's flow is complete: purchase, allocation and its sessions, all events processed. */
export async function waitForFlows(
  pool: pg.Pool,
  studentIds: readonly string[],
  perStudent: number,
  timeoutMs = 60_000,
): Promise<FlowState> {
  return waitFor(
    `${studentIds.length * perStudent} flows to complete`,
    async () => {
      const s = await flowState(pool, studentIds);
      const events = await pool.query<{ n: number; unpublished: number }>(
        'SELECT count(*)::int AS n, count(*) FILTER (WHERE published_at IS NULL)::int AS unpublished FROM outbox WHERE message_key = ANY($1::text[])',
        [studentIds],
      );
      const e = events.rows[0]!;
      // Each flow: 3 events; PURCHASE_CREATED and TRAINER_ALLOCATED each consumed by 2 groups → 5 inbox rows.
      const done =
        s.purchases >= studentIds.length * perStudent &&
        s.allocations >= studentIds.length * perStudent &&
        e.unpublished === 0 &&
        s.processed >= e.n + (e.n * 2) / 3;
      return done ? s : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export function directPool(endpoints: Endpoints): pg.Pool {
  return new pg.Pool({ connectionString: endpoints.direct.databaseUrl, max: 4 });
}
