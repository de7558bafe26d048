// npm run trace's engine on a real system: one payment's trace holds every hop (confirmation,
// outbox row, publish, the topic append, each group's inbox commit and its "event processed" log
// line carrying the correlation id, purchase, allocation, sessions), in causal order.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import { formatTrace, tracePayment } from '../../harness/trace/trace.ts';
import { courseIds, directPool, newStudents, pay, startTestSystem, waitForFlows } from '../support/system.ts';

const stack = inject('stack');
const runDir = mkdtempSync(join(tmpdir(), 'payproof-trace-'));
let system: RunningSystem;
let pool: pg.Pool;

beforeAll(async () => {
  system = await startTestSystem(stack, { runDir, env: { LOG_LEVEL: 'info', TOPUP_INTERVAL_MS: '500' } });
  pool = directPool(stack);
});

afterAll(async () => {
  await system?.stop();
  await pool?.end();
});

describe('npm run trace', () => {
  it("prints one payment's every hop, in causal order, from the database, the topics and the logs", async () => {
    const [student] = await newStudents(pool, 1);
    const [course] = await courseIds(pool);
    const payment = await pay(system.apiUrl, student!, course!);
    await waitForFlows(pool, [student!], 1);
    // The per-event log lines are written after the commit the database shows: give them a moment.
    await new Promise((r) => setTimeout(r, 1_000));
    const trace = await tracePayment({
      paymentId: payment.id,
      databaseUrl: stack.direct.databaseUrl,
      kafkaBrokers: stack.direct.kafkaBrokers,
      logsDir: join(runDir, 'logs'),
    });
    console.log(formatTrace(trace).join('\n'));
    const at = (re: RegExp) => {
      const h = trace.hops.find((x) => re.test(`${x.what} ${x.source}`));
      expect(h, `a hop matching ${re}`).toBeDefined();
      return h!.atMs;
    };
    const confirmed = at(/payment confirmed/);
    const published = at(/PURCHASE_CONFIRMED \S+ published/);
    const appended = at(/PURCHASE_CONFIRMED \S+ appended.*kafka payments\.purchase-confirmed/);
    const purchased = at(/purchase-worker recorded PURCHASE_CONFIRMED/);
    expect(published).toBeGreaterThanOrEqual(confirmed);
    expect(purchased).toBeGreaterThanOrEqual(confirmed);
    expect(appended).toBeGreaterThanOrEqual(confirmed - 50);
    at(/allocation-worker recorded PURCHASE_CREATED/);
    at(/cache-worker recorded PURCHASE_CREATED/);
    at(/session-worker recorded TRAINER_ALLOCATED/);
    at(/cache-worker recorded TRAINER_ALLOCATED/);
    at(/sessions created/);
    for (const w of ['purchase-worker', 'allocation-worker', 'session-worker', 'cache-worker'])
      at(new RegExp(`${w}#1: event processed .*e2e \\d+ ms.*log`));
    const logged = trace.hops.filter((h) => h.source.startsWith('log '));
    expect(logged.length).toBeGreaterThanOrEqual(8);
    at(/api#1: request .*log api-1\.log/);
    at(/relay#1: event published PURCHASE_CONFIRMED/);
  });

  it('says so when the payment does not exist', async () => {
    const t = await tracePayment({
      paymentId: '00000000-0000-4000-8000-000000000000',
      databaseUrl: stack.direct.databaseUrl,
    });
    expect(t.found).toBe(false);
  });
});
