// The schema migrations on a fresh, empty database: they apply, a second run applies nothing, and
// every idempotency guard of DESIGN.md is a database constraint that rejects a duplicate row
// (unique_violation, 23505, naming the constraint) while letting legitimate neighbours in.
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, migrationsDir } from '../../harness/stack/migrate.ts';
import { postgresUrl } from '../../harness/stack/postgres.ts';

const stack = inject('stack');
const database = `migrations_${randomUUID().replaceAll('-', '')}`;
const url = postgresUrl(stack.ports.postgres, database);
const admin = () =>
  new pg.Client({
    connectionString: postgresUrl(stack.ports.postgres, 'postgres'),
    connectionTimeoutMillis: 5_000,
  });

let db: pg.Client;
let firstRun: string[];
let secondRun: string[];

beforeAll(async () => {
  const c = admin();
  await c.connect();
  await c.query(`CREATE DATABASE "${database}"`);
  await c.end();
  firstRun = await migrate(url);
  secondRun = await migrate(url);
  db = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  const c = admin();
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await c.end();
});

const id = () => randomUUID();

/** Runs one statement and returns the error it raised (or fails the test when it succeeded). */
async function rejection(sql: string, params: unknown[]): Promise<{ code?: string; constraint?: string }> {
  try {
    await db.query(sql, params);
  } catch (err) {
    return err as { code?: string; constraint?: string };
  }
  throw new Error(`expected a unique violation, but this succeeded: ${sql}`);
}

async function expectUniqueViolation(constraint: string, sql: string, params: unknown[]) {
  const err = await rejection(sql, params);
  expect({ code: err.code, constraint: err.constraint }).toEqual({ code: '23505', constraint });
}

async function student(): Promise<string> {
  const s = id();
  await db.query('INSERT INTO students (id, name) VALUES ($1, $2)', [s, 'student']);
  return s;
}

async function course(): Promise<string> {
  const c = id();
  await db.query('INSERT INTO courses (id, title) VALUES ($1, $2)', [c, 'course']);
  return c;
}

async function trainer(): Promise<string> {
  const t = id();
  await db.query('INSERT INTO trainers (id, name, capacity) VALUES ($1, $2, 10)', [t, 'trainer']);
  return t;
}

const insertPayment =
  'INSERT INTO payments (id, student_id, course_id, amount_cents, status, provider_payment_id, idempotency_key, confirmed_at) ' +
  "VALUES ($1, $2, $3, 4900, 'succeeded', $4, $5, now())";

async function payment(s: string, c: string): Promise<string> {
  const p = id();
  await db.query(insertPayment, [p, s, c, `pi_${p}`, `key-${p}`]);
  return p;
}

const insertPurchase =
  'INSERT INTO student_course_purchases (id, payment_id, student_id, course_id, purchase_tier, is_active) VALUES ($1, $2, $3, $4, 1, $5)';

async function purchase(s: string, c: string): Promise<string> {
  const pu = id();
  await db.query(insertPurchase, [pu, await payment(s, c), s, c, true]);
  return pu;
}

const insertAllocation =
  'INSERT INTO trainer_allocations (id, purchase_id, student_id, course_id, trainer_id, status, waitlist_reason, session_count, start_date) ' +
  "VALUES ($1, $2, $3, $4, $5, $6, $7, 30, '2030-01-07')";

function allocationParams(
  pu: string,
  s: string,
  c: string,
  t: string,
  status: 'approved' | 'active' | 'waitlisted',
) {
  return status === 'waitlisted'
    ? [id(), pu, s, c, null, status, 'no trainer free']
    : [id(), pu, s, c, t, status, null];
}

describe('migrations on a fresh empty database', () => {
  it('apply every migration file once, and a second run applies nothing', async () => {
    const files = readdirSync(migrationsDir)
      .filter((f) => /^\d+_.+\.(sql|ts|js)$/.test(f))
      .map((f) => f.replace(/\.(sql|ts|js)$/, ''))
      .sort();
    expect(firstRun).toEqual(files);
    expect(secondRun).toEqual([]);
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'courses',
        'outbox',
        'payments',
        'pgmigrations',
        'processed_events',
        'student_course_purchases',
        'students',
        'trainer_allocations',
        'trainers',
        'tutoring_sessions',
      ]),
    );
  });
});

describe('every idempotency guard rejects a duplicate row with 23505 and its constraint name', () => {
  it('payments: provider_payment_id is unique', async () => {
    const [s, c] = [await student(), await course()];
    const p = await payment(s, c);
    await expectUniqueViolation('payments_provider_payment_id_key', insertPayment, [
      id(),
      s,
      c,
      `pi_${p}`,
      `key-${id()}`,
    ]);
  });

  it('payments: idempotency_key is unique per student (another student may use the same key)', async () => {
    const [s, c] = [await student(), await course()];
    const p = await payment(s, c);
    await expectUniqueViolation('payments_student_idempotency_key', insertPayment, [
      id(),
      s,
      c,
      `pi_${id()}`,
      `key-${p}`,
    ]);
    await db.query(insertPayment, [id(), await student(), c, `pi_${id()}`, `key-${p}`]);
  });

  it('refund_requests: one per capture (provider_payment_id)', async () => {
    const [s, c] = [await student(), await course()];
    const p = await payment(s, c);
    const insertRefund =
      "INSERT INTO refund_requests (id, payment_id, provider_payment_id, student_id, course_id, amount_cents, currency, reason) VALUES ($1, $2, $3, $4, $5, 4900, 'EUR', 'course_already_owned')";
    await db.query(insertRefund, [id(), p, `pi_${p}`, s, c]);
    await expectUniqueViolation('refund_requests_provider_payment_id_key', insertRefund, [
      id(),
      p,
      `pi_${p}`,
      s,
      c,
    ]);
  });

  it('student_course_purchases: one ACTIVE purchase per (student, course); an inactive duplicate is allowed', async () => {
    const [s, c] = [await student(), await course()];
    await purchase(s, c);
    await expectUniqueViolation('student_course_purchases_one_active', insertPurchase, [
      id(),
      await payment(s, c),
      s,
      c,
      true,
    ]);
    const inactive = await db.query(insertPurchase, [id(), await payment(s, c), s, c, false]);
    expect(inactive.rowCount).toBe(1);
    const count = await db.query(
      'SELECT count(*)::int AS n FROM student_course_purchases WHERE student_id = $1 AND course_id = $2',
      [s, c],
    );
    expect(count.rows[0].n).toBe(2);
  });

  it('trainer_allocations: one live (approved/active) allocation per (student, course); a waitlisted one beside it is allowed, two waitlisted are not', async () => {
    const [s, c, t] = [await student(), await course(), await trainer()];
    const pu = await purchase(s, c);
    await db.query(insertAllocation, allocationParams(pu, s, c, t, 'approved'));
    await expectUniqueViolation(
      'trainer_allocations_one_live',
      insertAllocation,
      allocationParams(pu, s, c, t, 'active'),
    );
    await expectUniqueViolation(
      'trainer_allocations_one_live',
      insertAllocation,
      allocationParams(pu, s, c, t, 'approved'),
    );
    const waitlisted = await db.query(insertAllocation, allocationParams(pu, s, c, t, 'waitlisted'));
    expect(waitlisted.rowCount).toBe(1);
    await expectUniqueViolation(
      'trainer_allocations_one_waitlisted',
      insertAllocation,
      allocationParams(pu, s, c, t, 'waitlisted'),
    );
  });

  it('tutoring_sessions: one session per (allocation, date, time); another time the same day is allowed', async () => {
    const [s, c, t] = [await student(), await course(), await trainer()];
    const pu = await purchase(s, c);
    const params = allocationParams(pu, s, c, t, 'approved');
    await db.query(insertAllocation, params);
    const allocation = params[0];
    const insertSession =
      'INSERT INTO tutoring_sessions (allocation_id, trainer_id, student_id, seq, scheduled_date, scheduled_time) VALUES ($1, $2, $3, $4, $5, $6)';
    await db.query(insertSession, [allocation, t, s, 1, '2030-01-07', '10:00']);
    await expectUniqueViolation(
      'tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key',
      insertSession,
      [allocation, t, s, 2, '2030-01-07', '10:00'],
    );
    const otherSlot = await db.query(insertSession, [allocation, t, s, 2, '2030-01-07', '11:00']);
    expect(otherSlot.rowCount).toBe(1);
  });

  it('processed_events: (consumer, event_id) is the key; the same event id under another consumer is allowed', async () => {
    const eventId = id();
    const insert = 'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2, $3)';
    await db.query(insert, ['allocation-worker', eventId, 'PURCHASE_CREATED']);
    await expectUniqueViolation('processed_events_pkey', insert, [
      'allocation-worker',
      eventId,
      'PURCHASE_CREATED',
    ]);
    const other = await db.query(insert, ['cache-worker', eventId, 'PURCHASE_CREATED']);
    expect(other.rowCount).toBe(1);
  });

  it('outbox: event_id is unique', async () => {
    const eventId = id();
    const insert =
      "INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, 'PURCHASE_CONFIRMED', 'payments.purchase-confirmed.v1', $2, '{}'::jsonb)";
    await db.query(insert, [eventId, 'k']);
    await expectUniqueViolation('outbox_event_id_key', insert, [eventId, 'k']);
  });
});
