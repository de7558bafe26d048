// Pending payments for confirm-only measurements, inserted with plain SQL (as the API's create
// would leave them), each for its own (student, course) pair so that every confirmation goes the
// whole way through the pipeline (purchase → allocation → sessions). Ids are md5-derived from a tag,
// so the same ids can be computed here and inside a pgbench script (`md5(...)::uuid`).
import { createHash } from 'node:crypto';
import pg from 'pg';

/** The uuid PostgreSQL's `md5(text)::uuid` gives. */
export function md5Uuid(text: string): string {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Payment k of a tag: `md5('bench-payment:<tag>:<k>')::uuid`, k from 1. */
export const paymentId = (tag: string, k: number) => md5Uuid(`bench-payment:${tag}:${k}`);

/** Bench courses keep the default price (migrations/1700000000003): payments ask for it, the provider captures it. */
export const benchPriceCents = 4900;

export interface PendingPayments {
  readonly tag: string;
  /** ids[k - 1] is payment k. */
  readonly ids: readonly string[];
  readonly students: number;
}

const batch = 50_000;

/**
 * Inserts `count` pending payments for `tag` over `courseIds`: students first, then courses
 * (student s buys course c at most once), one student row per `courseIds.length` payments.
 */
export async function insertPendingPayments(
  databaseUrl: string,
  tag: string,
  count: number,
  courseIds: readonly string[],
): Promise<PendingPayments> {
  if (courseIds.length === 0) throw new Error('insertPendingPayments: no courses');
  const students = Math.ceil(count / courseIds.length);
  const c = new pg.Client({ connectionString: databaseUrl, statement_timeout: 300_000 });
  await c.connect();
  try {
    for (let from = 1; from <= students; from += batch) {
      const to = Math.min(students, from + batch - 1);
      await c.query(
        `INSERT INTO students (id, name)
         SELECT md5('bench-student:' || $1::text || ':' || s)::uuid, 'bench ' || $1::text || ' #' || s
           FROM generate_series($2::int, $3::int) AS s
         ON CONFLICT DO NOTHING`,
        [tag, from, to],
      );
    }
    for (let from = 1; from <= count; from += batch) {
      const to = Math.min(count, from + batch - 1);
      // Payment k: student ((k - 1) % students) + 1, course floor((k - 1) / students) + 1.
      await c.query(
        `INSERT INTO payments (id, student_id, course_id, amount_cents, currency)
         SELECT md5('bench-payment:' || $1::text || ':' || k)::uuid,
                md5('bench-student:' || $1::text || ':' || (((k - 1) % $4::int) + 1))::uuid,
                ($5::uuid[])[((k - 1) / $4::int) + 1],
                $6::bigint, 'EUR'
           FROM generate_series($2::int, $3::int) AS k
         ON CONFLICT DO NOTHING`,
        [tag, from, to, students, courseIds, benchPriceCents],
      );
    }
  } finally {
    await c.end();
  }
  const ids = Array.from({ length: count }, (_, i) => paymentId(tag, i + 1));
  return { tag, ids, students };
}

/** Payments of these ids that are confirmed (succeeded). */
export async function countSucceeded(databaseUrl: string, ids: readonly string[]): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM payments WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
      [ids],
    );
    return r.rows[0]?.n ?? 0;
  } finally {
    await c.end();
  }
}
