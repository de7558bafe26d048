// Issue 15: with the Redis Streams fallback, work keeps flowing while Kafka is down. This criterion
// measures it from the database alone (harness/bench/lib/e2e.ts): for every payment confirmed while
// the faults were on, confirm → purchase → allocation → first session, from the rows' own
// timestamps, after convergence. Without a fallback those payments wait for the heal (their latency
// is the rest of the fault plus the drain); with it, a few seconds (the breaker's delay, then the
// ordinary pipeline through the streams). Also what went through the fallback, from the outbox.
import pg from 'pg';
import { e2eLatency } from '../bench/lib/e2e.ts';
import type { Criterion } from '../run/result.ts';

/** What a scenario asks of the flow during its faults. */
export interface FlowDuringFault {
  /** confirm → first session p95 (ms) of the payments confirmed while a fault was on. */
  readonly p95Ms?: number;
  /**
   * The same for the payments confirmed from `settledAfterS` after the first injection on: the
   * flow once the breaker has moved the relay (the first seconds of the fault wait for the breaker).
   */
  readonly settledAfterS?: number;
  readonly settledP95Ms?: number;
  /**
   * At least this share (%) of the payments confirmed while the fault was on reached their first
   * session BEFORE the last heal. Without a fallback it is 0 (nothing moves until Kafka is back),
   * whatever the machine's speed; with one, most do. The bound that proves the flow went on when
   * the latency depends on the CPU the rest of the machine leaves the workers (docs/chaos.md).
   */
  readonly beforeHealPct?: number;
}

/** What a scenario asks of the relay's transports (the system's own counters: its breaker is under test). */
export interface TransportExpectation {
  /** Breaker moves at most (a flapping Kafka must not make it oscillate). */
  readonly maxSwitches?: number;
  /** Events that must have gone through the fallback (0: the fallback must not have been used). */
  readonly minStreamPublished?: number;
}

export function transportCriteria(
  want: TransportExpectation,
  got: { readonly transportSwitches: number; readonly streamPublished: number },
): Criterion[] {
  const out: Criterion[] = [];
  if (want.maxSwitches !== undefined)
    out.push({
      name: "the relay's transport switches (its payproof_transport_switches_total)",
      threshold: `<=${want.maxSwitches}`,
      measured: got.transportSwitches,
      pass: got.transportSwitches <= want.maxSwitches,
      phase: 'run',
    });
  if (want.minStreamPublished !== undefined)
    out.push({
      name: 'events published to the Redis Streams fallback (payproof_transport_events_total)',
      threshold: `>=${want.minStreamPublished}`,
      measured: got.streamPublished,
      pass: got.streamPublished >= want.minStreamPublished,
      phase: 'during',
    });
  return out;
}

export interface FlowJudgement {
  readonly criteria: Criterion[];
  readonly figures: Record<string, number | null>;
}

/**
 * Judges the payments confirmed between the first injection and the last heal (wall clock:
 * `wallAtS0Ms` is the wall time of the samples' t = 0).
 */
export async function judgeFlowDuringFault(
  databaseUrl: string,
  window: { readonly startS: number; readonly endS: number },
  wallAtS0Ms: number,
  want: FlowDuringFault,
): Promise<FlowJudgement> {
  const from = new Date(wallAtS0Ms + window.startS * 1000);
  const to = new Date(wallAtS0Ms + window.endS * 1000);
  const e2e = await e2eLatency(databaseUrl, { confirmedFrom: from, confirmedTo: to });
  const figures: Record<string, number | null> = {
    flow_during_fault_confirmed: e2e.confirmed,
    flow_during_fault_with_sessions: e2e.withSessions,
    flow_during_fault_p50_ms: round(e2e.total.p50),
    flow_during_fault_p95_ms: round(e2e.total.p95),
    flow_during_fault_max_ms: round(e2e.total.max),
    ...(await fallbackFigures(databaseUrl)),
  };
  const p95 = round(e2e.total.p95);
  const settled =
    want.settledAfterS !== undefined
      ? await e2eLatency(databaseUrl, {
          confirmedFrom: new Date(from.getTime() + want.settledAfterS * 1000),
          confirmedTo: to,
        })
      : undefined;
  if (settled) {
    figures.flow_settled_confirmed = settled.confirmed;
    figures.flow_settled_p50_ms = round(settled.total.p50);
    figures.flow_settled_p95_ms = round(settled.total.p95);
    figures.flow_settled_max_ms = round(settled.total.max);
    // Which hop the time goes to: confirm → purchase (relay + purchase worker), purchase →
    // allocation, allocation → first session.
    for (const [hop, p] of Object.entries(settled.hops)) {
      figures[`flow_settled_${hop}_p50_ms`] = round(p.p50);
      figures[`flow_settled_${hop}_p95_ms`] = round(p.p95);
    }
  }
  const settledP95 = settled ? round(settled.total.p95) : null;
  const beforeHeal = await sessionsBeforeHeal(databaseUrl, from, to);
  figures.flow_during_fault_sessions_before_heal = beforeHeal.before;
  figures.flow_during_fault_sessions_before_heal_pct =
    beforeHeal.confirmed > 0 ? Math.round((1000 * beforeHeal.before) / beforeHeal.confirmed) / 10 : null;
  const beforeHealPct = figures.flow_during_fault_sessions_before_heal_pct;
  return {
    figures,
    criteria: [
      ...(want.beforeHealPct !== undefined
        ? [
            {
              name: 'payments confirmed during the fault whose first session was created before the heal (%)',
              threshold: `>=${want.beforeHealPct}`,
              measured: beforeHealPct,
              pass: beforeHealPct !== null && beforeHealPct >= want.beforeHealPct,
              phase: 'during' as const,
              unit: '%',
            },
          ]
        : []),
      ...(settled && want.settledP95Ms !== undefined
        ? [
            {
              name: `confirm → sessions p95 of the payments confirmed from ${want.settledAfterS} s into the fault on (ms)`,
              threshold: `<=${want.settledP95Ms}`,
              measured: settledP95,
              pass: settledP95 !== null && settled.confirmed > 0 && settledP95 <= want.settledP95Ms,
              phase: 'during' as const,
              unit: 'ms',
            },
          ]
        : []),
      ...(want.p95Ms !== undefined
        ? [
            {
              name: 'confirm → sessions p95 of the payments confirmed during the fault (ms)',
              threshold: `<=${want.p95Ms}`,
              measured: p95,
              // Nothing confirmed during the fault proves nothing: fails as not measurable.
              pass: p95 !== null && e2e.confirmed > 0 && p95 <= want.p95Ms,
              phase: 'during' as const,
              unit: 'ms',
            },
          ]
        : []),
    ],
  };
}

/** Of the payments confirmed in [from, to), how many had a session created before `to` (the heal). */
async function sessionsBeforeHeal(
  databaseUrl: string,
  from: Date,
  to: Date,
): Promise<{ confirmed: number; before: number }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ confirmed: number; before: number }>(
      `SELECT count(*)::int AS confirmed,
              count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM student_course_purchases c
                  JOIN trainer_allocations a ON a.purchase_id = c.id
                  JOIN tutoring_sessions s ON s.allocation_id = a.id
                 WHERE c.payment_id = p.id AND s.created_at < $2))::int AS before
         FROM payments p
        WHERE p.status = 'succeeded' AND p.confirmed_at >= $1 AND p.confirmed_at < $2`,
      [from, to],
    );
    return r.rows[0]!;
  } finally {
    await c.end();
  }
}

/** Rows that went through the fallback, and of those, the ones Kafka holds too (after convergence). */
export async function fallbackFigures(databaseUrl: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ via: number; in_kafka: number; rows: number }>(
      `SELECT count(*)::int AS rows,
              count(*) FILTER (WHERE stream_published_at IS NOT NULL)::int AS via,
              count(*) FILTER (WHERE stream_published_at IS NOT NULL AND published_at IS NOT NULL)::int AS in_kafka
         FROM outbox`,
    );
    const row = r.rows[0]!;
    return {
      outbox_rows: row.rows,
      fallback_rows: row.via,
      fallback_rows_marked_in_kafka: row.in_kafka,
    };
  } finally {
    await c.end();
  }
}

function round(x: number | null): number | null {
  return x === null ? null : Math.round(x);
}
