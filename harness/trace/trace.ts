// A payment's whole trace, every hop with its time, from three sources that do not depend on each
// other: the database (the payment, its outbox rows with created/published times, each consumer's
// inbox row, the rows the flow created), the topics (each copy's broker timestamp, dead letters)
// and the processes' logs (each worker's "event processed" line with its processing and end-to-end
// times, dead-letter and retry lines). Everything is matched by the correlation id (the payment id)
// and the event ids found under it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { allTopics } from '../../system/contracts/topics.ts';
import { readTopics } from '../checker/read-topics.ts';

export interface Hop {
  /** Unix ms. */
  readonly atMs: number;
  readonly what: string;
  /** Where the hop was read: `database outbox.published_at`, `kafka <topic>/<p>@<offset>`, `log <file>`. */
  readonly source: string;
}

export interface Trace {
  readonly paymentId: string;
  readonly found: boolean;
  readonly summary: string;
  readonly hops: readonly Hop[];
}

export interface TraceOptions {
  readonly paymentId: string;
  /** Direct database URL (bypasses every proxy). */
  readonly databaseUrl: string;
  /** Direct Kafka bootstrap; undefined skips the topics. */
  readonly kafkaBrokers?: string;
  /** Folder of the processes' logs (`<runDir>/logs`); undefined skips the logs. */
  readonly logsDir?: string;
  readonly topicsTimeoutMs?: number;
}

const ms = (d: Date | string | null | undefined) => (d ? new Date(d).getTime() : undefined);
const short = (id: string) => id.slice(0, 8);

export async function tracePayment(o: TraceOptions): Promise<Trace> {
  const hops: Hop[] = [];
  const add = (atMs: number | undefined, what: string, source: string) => {
    if (atMs !== undefined && Number.isFinite(atMs)) hops.push({ atMs, what, source });
  };
  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  let summary = '';
  const eventIds = new Set<string>();
  try {
    const pay = await db.query(
      `SELECT id, student_id, course_id, status, amount_cents, created_at, confirmed_at FROM payments WHERE id = $1`,
      [o.paymentId],
    );
    const p = pay.rows[0];
    if (!p) return { paymentId: o.paymentId, found: false, summary: 'no such payment', hops: [] };
    summary = `payment ${p.id}: ${p.status}, student ${p.student_id}, course ${p.course_id}, ${p.amount_cents} cents`;
    add(ms(p.created_at), 'payment created (POST /payments)', 'database payments.created_at');
    add(
      ms(p.confirmed_at),
      'payment confirmed (one statement: payment + outbox row)',
      'database payments.confirmed_at',
    );
    const outbox = await db.query(
      `SELECT event_id, event_type, topic, created_at, published_at, publish_attempts
         FROM outbox WHERE envelope->>'correlationId' = $1 ORDER BY id`,
      [o.paymentId],
    );
    for (const r of outbox.rows) {
      eventIds.add(r.event_id);
      add(
        ms(r.created_at),
        `outbox row ${r.event_type} ${short(r.event_id)} written`,
        'database outbox.created_at',
      );
      add(
        ms(r.published_at),
        `${r.event_type} ${short(r.event_id)} published to ${r.topic} (attempts ${r.publish_attempts})`,
        'database outbox.published_at',
      );
      if (!r.published_at) summary += `; ${r.event_type} NOT PUBLISHED yet`;
    }
    const inbox = await db.query(
      `SELECT consumer, event_id, event_type, processed_at FROM processed_events WHERE event_id = ANY($1::uuid[])`,
      [[...eventIds]],
    );
    for (const r of inbox.rows)
      add(
        ms(r.processed_at),
        `${r.consumer} recorded ${r.event_type} ${short(r.event_id)} in its inbox`,
        'database processed_events.processed_at',
      );
    const rows = await db.query(
      `SELECT 'purchase' AS kind, p.id::text AS id, p.created_at, NULL::text AS detail
         FROM student_course_purchases p WHERE p.payment_id = $1
       UNION ALL
       SELECT 'allocation', a.id::text, a.created_at,
              a.status || coalesce(' trainer ' || a.trainer_id, '') || coalesce(' (' || a.waitlist_reason || ')', '')
         FROM trainer_allocations a JOIN student_course_purchases p ON p.id = a.purchase_id WHERE p.payment_id = $1
       UNION ALL
       SELECT 'sessions', count(*)::text, min(s.created_at), min(s.scheduled_date)::text || ' .. ' || max(s.scheduled_date)::text
         FROM tutoring_sessions s JOIN trainer_allocations a ON a.id = s.allocation_id
         JOIN student_course_purchases p ON p.id = a.purchase_id WHERE p.payment_id = $1 HAVING count(*) > 0`,
      [o.paymentId],
    );
    const table: Record<string, string> = {
      purchase: 'student_course_purchases',
      allocation: 'trainer_allocations',
      sessions: 'tutoring_sessions',
    };
    for (const r of rows.rows)
      add(
        ms(r.created_at),
        r.kind === 'sessions'
          ? `${r.id} sessions created (${r.detail})`
          : `${r.kind} ${short(r.id)} created${r.detail ? `: ${r.detail}` : ''}`,
        `database ${table[r.kind]}.created_at`,
      );
  } finally {
    await db.end();
  }

  if (o.kafkaBrokers) {
    try {
      const messages = await readTopics({
        brokers: o.kafkaBrokers,
        topics: allTopics(),
        timeoutMs: o.topicsTimeoutMs ?? 20_000,
      });
      for (const m of messages) {
        const corr = (m.json as { correlationId?: unknown } | undefined)?.correlationId;
        if (corr !== o.paymentId && !(m.eventId && eventIds.has(m.eventId))) continue;
        add(
          m.timestampMs,
          m.topic.endsWith('.dlq')
            ? `dead-lettered ${short(m.eventId ?? '?')}: ${m.headers['x-dlq-reason'] ?? '?'} ${m.headers['x-dlq-detail'] ?? ''}`.trim()
            : `${m.event?.eventType ?? 'message'} ${short(m.eventId ?? '?')} appended to the topic`,
          `kafka ${m.topic}/${m.partition}@${m.offset}`,
        );
      }
    } catch (err) {
      summary += `; topics not read (${(err as Error).message})`;
    }
  }

  if (o.logsDir && existsSync(o.logsDir)) {
    const needles = [o.paymentId, ...eventIds];
    for (const file of readdirSync(o.logsDir).filter((f) => f.endsWith('.log'))) {
      for (const line of readFileSync(join(o.logsDir, file), 'utf8').split('\n')) {
        if (!needles.some((n) => line.includes(n))) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const extra = [
          entry.route ? `${entry.method} ${entry.route} → ${entry.status} in ${entry.ms} ms` : '',
          entry.outcome ? String(entry.outcome) : '',
          entry.processingMs !== undefined ? `chunk ${entry.processingMs} ms` : '',
          entry.e2eMs !== undefined ? `e2e ${entry.e2eMs} ms` : '',
          entry.reason ? String(entry.reason) : '',
        ]
          .filter(Boolean)
          .join(', ');
        add(
          Number(entry.time),
          `${entry.instance ?? entry.service}: ${entry.msg}${entry.eventType ? ` ${entry.eventType}` : ''}${
            entry.eventId ? ` ${short(String(entry.eventId))}` : ''
          }${extra ? ` (${extra})` : ''}`,
          `log ${file}`,
        );
      }
    }
  }
  hops.sort((a, b) => a.atMs - b.atMs);
  return { paymentId: o.paymentId, found: true, summary, hops };
}

/** The trace as lines: time of day (UTC), offset from the first hop, what, where it was read. */
export function formatTrace(t: Trace): string[] {
  if (!t.found) return [`payment ${t.paymentId}: not found`];
  const t0 = t.hops[0]?.atMs ?? 0;
  const w = Math.max(0, ...t.hops.map((h) => h.what.length));
  return [
    t.summary,
    ...t.hops.map(
      (h) =>
        `${new Date(h.atMs).toISOString().slice(11, 23)}  ${`+${h.atMs - t0} ms`.padStart(10)}  ${h.what.padEnd(w)}  ${h.source}`,
    ),
  ];
}
