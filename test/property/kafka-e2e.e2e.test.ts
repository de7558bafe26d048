// Property 3 (issue 4): end to end through Kafka. The whole system runs (API, relay, four workers,
// each a process) on the shared test stack. Each generated run pays for a first wave of students and
// lets their flows complete, reads their real envelopes back from the topics, pays for a second wave,
// then floods the topics straight from a kafkajs producer (bypassing API and relay): every envelope
// of the first wave and every PURCHASE_CONFIRMED of the second, k times each, shuffled within a
// reorder window (effects before causes), with generated bad messages mixed in. The second wave's
// originals race through the relay meanwhile. The stack must converge and the real checker pass:
// no duplicate, nothing lost, every event processed or dead-lettered with a reason.
//
// The topics and consumer groups are the system's own, shared with the other e2e files: the checker
// judges EVERY message and row on the stack (all of them correct flows), and this run's payments
// through its history (nothing-lost needs its acknowledged confirmations).
// Replay a failure with the command it prints, or directly:
// PAYPROOF_PROPERTY_SEED=s PAYPROOF_PROPERTY_PATH=p npx vitest run <this file>
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runChecker } from '../../harness/checker/run-checker.ts';
import { providerEvent, signedWebhook } from '../../harness/lib/provider.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import {
  type BadKind,
  badKinds,
  badMessage,
  createFloodProducer,
  type FloodMessage,
  planFlood,
  readEnvelopes,
  runFlood,
} from '../../harness/load/flood.ts';
import { seededRandom } from '../../harness/load/rng.ts';
import { History, readHistory } from '../../harness/run/history.ts';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import { type DomainEvent, type PaymentView, parseEvent, topics } from '../../system/contracts/index.ts';
import { parseFaults } from '../../system/lib/faults.ts';
import { authFor, courseIds, directPool, newStudents, startTestSystem } from '../support/system.ts';
import { coverage, describeCoverage } from './sim/floor.ts';
import { record } from './sim/report-out.ts';

const stack = inject('stack');
/** Planted bugs (PAYPROOF_FAULTS) for the system's processes: the property must then fail. */
const faults = [...parseFaults(process.env)];
const numRuns = Number(process.env.PAYPROOF_KAFKA_RUNS ?? 4);
const seed = process.env.PAYPROOF_PROPERTY_SEED ? Number(process.env.PAYPROOF_PROPERTY_SEED) : undefined;
const path = process.env.PAYPROOF_PROPERTY_PATH;
const dir = mkdtempSync(join(tmpdir(), 'payproof-kafka-e2e-'));

/**
 * Invariants that must be decided (true), not merely "not false", for a run to count. The others may
 * be 'unknown' when a run does not exercise them (trainer capacity is never contended on this stack,
 * nobody caches a dashboard, no answer is lost, no Idempotency-Key is reused).
 */
const mustHold = [
  'converged',
  'no-duplicate-purchases',
  'no-duplicate-allocations',
  'no-duplicate-sessions',
  'nothing-lost',
  'causal-closure',
  'outbox-drained',
  'events-processed',
  'event-identity',
];

let system: RunningSystem;
let pool: pg.Pool;
let redis: Redis;
/** Stale dashboards of the known bug's shape met (reported, tolerated). */
let courses: string[];

beforeAll(async () => {
  system = await startTestSystem(stack, faults.length ? { faults } : {});
  pool = directPool(stack);
  redis = new Redis(stack.direct.redisUrl);
  courses = await courseIds(pool);
});

afterAll(async () => {
  await system?.stop();
  await pool?.end();
  redis?.disconnect();
});

interface Run {
  /** Students of each wave. */
  readonly students: number;
  /** Payments per student: 1, or 2 (the second for the same course when `samePair`: already done). */
  readonly payments: number;
  readonly samePair: boolean;
  /** Copies of each envelope (the original included). */
  readonly duplication: number;
  /** 1 keeps the order; w lets a copy move by less than w positions. */
  readonly reorderWindow: number;
  readonly bad: Readonly<Record<BadKind, number>>;
  readonly seed: number;
}

const runArb: fc.Arbitrary<Run> = fc.record({
  students: fc.integer({ min: 2, max: 5 }),
  payments: fc.integer({ min: 1, max: 2 }),
  samePair: fc.boolean(),
  duplication: fc.integer({ min: 2, max: 5 }),
  reorderWindow: fc.integer({ min: 1, max: 40 }),
  bad: fc.record({
    malformed_json: fc.nat(2),
    unknown_event_type: fc.nat(2),
    schema_violation: fc.nat(2),
    oversized: fc.nat(1),
    wrong_topic: fc.nat(2),
  }),
  seed: fc.integer(),
});

/** An API call recorded in the history as invoke + ok / fail / info. */
async function call(
  history: History,
  op: 'create' | 'confirm',
  url: string,
  body: unknown,
  ids: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const index = history.invoke(op, 'kafka-e2e', ids);
  try {
    const res = await fetch(`${system.apiUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    const type = res.status < 400 ? 'ok' : res.status >= 500 ? 'info' : 'fail';
    history.complete(index, type, op, 'kafka-e2e', {
      ids: { ...ids, ...(typeof json.id === 'string' ? { paymentId: json.id } : {}) },
      status: res.status,
      value: json,
      ...(type === 'ok' ? {} : { error: (json.error as { code?: string } | undefined)?.code ?? 'error' }),
    });
    return { status: res.status, body: json };
  } catch (err) {
    history.complete(index, 'info', op, 'kafka-e2e', { ids, error: (err as Error).message });
    throw err;
  }
}

/** Creates and confirms a payment; returns its id. */
async function pay(history: History, studentId: string, courseId: string): Promise<string> {
  const ids = { studentId, courseId };
  const created = await call(history, 'create', '/payments', ids, ids, await authFor(studentId));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const paymentId = created.body.id as string;
  const providerPaymentId = `pp_${randomUUID()}`;
  // The fake provider captures it and delivers the signed event.
  const event = providerEvent(created.body as unknown as PaymentView, { providerPaymentId });
  const w = signedWebhook(event);
  const confirmed = await call(
    history,
    'confirm',
    w.path,
    w.json,
    {
      ...ids,
      paymentId,
      providerPaymentId,
      providerEventId: event.id,
      providerEventType: event.type,
      capturedCents: String(event.data.amountCents),
    },
    w.headers,
  );
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return paymentId;
}

/** Pays `payments` times per student; returns the distinct student/course pairs. */
async function payWave(history: History, students: readonly string[], r: Run, offset: number) {
  const pairs = new Set<string>();
  for (const [i, s] of students.entries()) {
    for (let k = 0; k < r.payments; k++) {
      const course = courses[(offset + i + (r.samePair ? 0 : k)) % courses.length]!;
      await pay(history, s, course);
      pairs.add(`${s}/${course}`);
    }
  }
  return pairs;
}

/**
 * Every flow of these students visibly complete: a purchase, an allocation and sessions per pair,
 * every event published. (Not the inbox: whether every event was processed is the checker's call.)
 */
async function waitForMine(students: readonly string[], pairs: number) {
  await waitFor(
    `${pairs} flows of ${students.length} students to complete`,
    async () => {
      const r = await pool.query<{
        purchases: number;
        allocations: number;
        scheduled: number;
        unpublished: number;
      }>(
        `SELECT (SELECT count(*)::int FROM student_course_purchases WHERE student_id = ANY($1::uuid[])) AS purchases,
                (SELECT count(*)::int FROM trainer_allocations WHERE student_id = ANY($1::uuid[])) AS allocations,
                (SELECT count(DISTINCT allocation_id)::int FROM tutoring_sessions WHERE student_id = ANY($1::uuid[])) AS scheduled,
                (SELECT count(*)::int FROM outbox WHERE message_key = ANY($1::text[]) AND published_at IS NULL) AS unpublished`,
        [students],
      );
      const s = r.rows[0]!;
      return s.purchases >= pairs && s.allocations >= pairs && s.scheduled >= pairs && s.unpublished === 0;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

/** Copies placed before the first copy of their cause: deliveries out of causal order. */
function outOfCausalOrder(messages: readonly FloodMessage[]): number {
  const first = new Map<string, number>();
  messages.forEach((m, i) => {
    if (!first.has(m.eventId)) first.set(m.eventId, i);
  });
  let n = 0;
  messages.forEach((m, i) => {
    const parsed = m.bad ? undefined : parseEvent(m.value);
    const cause = parsed?.ok ? parsed.event.causationId : null;
    const at = cause ? first.get(cause) : undefined;
    if (at !== undefined && at > i) n++;
  });
  return n;
}

const runs: Record<string, unknown>[] = [];

/** Appends a run's history to the run folder's history.jsonl (`npm run property`), under its own indexes. */
function shareHistory(file: string) {
  const shared = process.env.PAYPROOF_PROPERTY_HISTORY;
  if (!shared) return;
  const base = 2_000_000_000 + runs.length * 1_000_000;
  const ops = readHistory(file).map((op) =>
    JSON.stringify({ ...op, index: base + op.index, process: `kafka-run${runs.length}-${op.process}` }),
  );
  appendFileSync(shared, `${ops.join('\n')}\n`);
}

const property = fc.asyncProperty(runArb, async (r) => {
  const t0 = performance.now();
  const history = new History(join(dir, `history-${runs.length}.jsonl`));
  const students = await newStudents(pool, 2 * r.students);
  const early = students.slice(0, r.students);
  const late = students.slice(r.students);

  // Wave 1: flows complete; their real envelopes are read back from the topics.
  const earlyPairs = await payWave(history, early, r, 0);
  await waitForMine(early, earlyPairs.size);
  const mine = new Set(early);
  const read = await Promise.all(
    Object.values(topics).map((t) => readEnvelopes(stack.direct.kafkaBrokers, t, { timeoutMs: 20_000 })),
  );
  // One flow's events next to each other (cause first), so that the reorder window can put an
  // effect before its cause.
  const order = {
    PURCHASE_CONFIRMED: 0,
    PURCHASE_CREATED: 1,
    TRAINER_ALLOCATED: 2,
    PAYMENT_REFUND_REQUESTED: 3,
  };
  const envelopes = read
    .flat()
    .filter((e) => mine.has(e.payload.studentId))
    .sort(
      (a, b) => a.correlationId.localeCompare(b.correlationId) || order[a.eventType] - order[b.eventType],
    );
  const emitted = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE message_key = ANY($1::text[])',
    [early],
  );
  expect(envelopes.length, 'every event of wave 1 read back from the topics').toBe(emitted.rows[0]!.n);

  // Wave 2: confirmed now; their PURCHASE_CONFIRMED is flooded while the relay publishes the originals.
  const latePairs = await payWave(history, late, r, 1);
  const lateConfirmed = await pool.query<{ envelope: unknown }>(
    "SELECT envelope FROM outbox WHERE message_key = ANY($1::text[]) AND event_type = 'PURCHASE_CONFIRMED'",
    [late],
  );
  const lateEnvelopes = lateConfirmed.rows.map((x) => x.envelope as DomainEvent);

  // The flood: k copies of each, shuffled within the window, bad messages at seeded places.
  const messages: FloodMessage[] = planFlood({
    envelopes: [...envelopes, ...lateEnvelopes],
    duplication: r.duplication,
    reorderWindow: r.reorderWindow,
    seed: r.seed,
  });
  const random = seededRandom(r.seed ^ 0x5bd1e995);
  for (const kind of badKinds)
    for (let i = 0; i < r.bad[kind]; i++) {
      // Fresh ids: a bad message must never share an id with another run's (copies must be identical).
      const base = envelopes[Math.floor(random() * envelopes.length)]!;
      const m = { ...badMessage(kind, base, randomUUID()), copy: 0, origin: -1 };
      messages.splice(Math.floor(random() * (messages.length + 1)), 0, m);
    }
  const producer = await createFloodProducer(stack.direct.kafkaBrokers);
  const flood = await runFlood({
    producer,
    messages,
    // About three seconds of injection, racing the second wave's originals.
    ratePerS: Math.max(10, Math.ceil(messages.length / 3)),
    maxDurationMs: 30_000,
    history,
    process: 'kafka-e2e-flood',
  }).finally(() => producer.disconnect());
  expect(flood).toMatchObject({ planned: messages.length, produced: messages.length, indeterminate: 0 });
  await history.close();

  // Convergence, then every invariant over the whole stack and this run's history.
  const reordered = outOfCausalOrder(messages);
  const out = await runChecker({
    endpoints: stack,
    historyPath: history.path,
    convergence: { timeoutMs: 90_000 },
    extraExercised: { outOfOrderDeliveries: reordered },
  });
  shareHistory(history.path);
  const failed = out.invariants.filter((i) => i.valid === false);
  const byName = new Map(out.invariants.map((i) => [i.name, i]));
  const summary = {
    run: runs.length,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    messages: messages.length,
    duplicates: flood.duplicates,
    bad: flood.bad,
    outOfCausalOrder: reordered,
    payments: early.length * r.payments + late.length * r.payments,
    failed: failed.map((f) => f.name),
    unknown: out.invariants.filter((i) => i.valid === 'unknown').map((i) => `${i.name}: ${i.unknownReason}`),
  };
  runs.push(summary);
  console.log(`[kafka-e2e] ${JSON.stringify(summary)}`);
  if (failed.length > 0)
    throw new Error(
      `invariants violated: ${JSON.stringify(failed.map((f) => ({ name: f.name, examples: f.examples.slice(0, 2) })))}`,
    );
  for (const name of mustHold) expect(byName.get(name)?.valid, name).toBe(true);
  // This run's payments were all judged: each acknowledged confirmation is checked by nothing-lost.
  expect(byName.get('nothing-lost')!.checked).toBeGreaterThanOrEqual(summary.payments);

  // And directly, for this run's students: one purchase and one allocation per pair, nothing more.
  const rows = await pool.query<{ purchases: number; allocations: number; live: number }>(
    `SELECT (SELECT count(*)::int FROM student_course_purchases WHERE student_id = ANY($1::uuid[])) AS purchases,
            (SELECT count(*)::int FROM trainer_allocations WHERE student_id = ANY($1::uuid[])) AS allocations,
            (SELECT count(*)::int FROM trainer_allocations WHERE student_id = ANY($1::uuid[])
               AND status IN ('approved', 'active')) AS live`,
    [students],
  );
  const pairs = earlyPairs.size + latePairs.size;
  expect(rows.rows[0]).toEqual({ purchases: pairs, allocations: pairs, live: pairs });
});

describe(`end to end through Kafka${faults.length ? ` with planted ${faults.join(',')}` : ''}`, () => {
  it('duplicated, reordered and bad messages produced straight into the topics: the stack converges and every invariant holds', async () => {
    const t0 = performance.now();
    const out = await fc.check(property, {
      numRuns,
      ...(seed !== undefined ? { seed } : {}),
      ...(path ? { path } : {}),
      // A failing run ends in minutes: shrinking is time-boxed.
      interruptAfterTimeLimit: 150_000,
      markInterruptAsFailure: false,
    });
    const s = (performance.now() - t0) / 1000;
    const cov = coverage(numRuns, out, path !== undefined);
    const replay = `npm run property -- --kafka --seed ${out.seed}${out.counterexamplePath ? ` --path ${out.counterexamplePath}` : ''}${faults.length ? ` --faults ${faults.join(',')}` : ''}`;
    console.log(
      `[kafka-e2e] ${describeCoverage(cov)}: ${out.numRuns} runs in ${s.toFixed(1)} s, seed ${out.seed}`,
    );
    if (out.failed) console.log(`[kafka-e2e] ${String(out.errorInstance)}\n[kafka-e2e] replay: ${replay}`);
    record('kafka', {
      failed: out.failed,
      numRuns: out.numRuns,
      coverage: cov,
      seed: out.seed,
      path: out.counterexamplePath,
      seconds: s,
      runs,
      counterexample: out.failed ? fc.stringify(out.counterexample) : null,
      error: out.failed ? String(out.errorInstance).slice(0, 4000) : null,
      replay,
    });
    expect(
      out.failed,
      `${fc.defaultReportMessage(out)}\n${String(out.errorInstance)}\nreplay: ${replay}`,
    ).toBe(false);
    expect(out.numRuns, `cut short: ${describeCoverage(cov)}`).toBeGreaterThanOrEqual(cov.floor);
  }, 240_000);
});
