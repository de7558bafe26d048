// Every request of the payment workload lands in history.jsonl as invoke → ok / fail / info, with
// the ids and response fields the checker needs. The API here is a tiny in-memory stand-in served
// by node:http (the real API is tested elsewhere); it answers the first delivery of some provider
// events too late (timeouts) or with a 503 on purpose, so the fake provider must deliver them
// again, and refuses one student's dashboard (a definite failure).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorkload } from '../../harness/load/engine.ts';
import type { LoadProfile } from '../../harness/load/profile.ts';
import { checkNames } from '../../harness/load/workload.ts';
import { History, type HistoryOp, readHistory } from '../../harness/run/history.ts';
import type { PaymentView } from '../../system/contracts/index.ts';

let server: Server;
let baseUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'payproof-load-history-'));
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const payments = new Map<string, Mutable<PaymentView> & { seq: number }>();
const keys = new Map<string, { body: string; view: PaymentView }>();
/** Deliveries seen per provider event id. */
const deliveries = new Map<string, number>();

function send(res: import('node:http').ServerResponse, status: number, body: unknown, delayMs = 0) {
  const t = setTimeout(() => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }, delayMs);
  res.on('close', () => clearTimeout(t));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'POST' && url === '/payments') {
        const key = req.headers['idempotency-key'] as string;
        const prior = keys.get(key);
        if (prior)
          return prior.body === raw
            ? send(res, 201, prior.view)
            : send(res, 422, { error: { code: 'idempotency_key_reused', message: '' } });
        const b = JSON.parse(raw) as { studentId: string; courseId: string };
        const view = {
          id: randomUUID(),
          studentId: b.studentId,
          courseId: b.courseId,
          amountCents: 4900,
          currency: 'EUR',
          status: 'pending' as const,
          providerPaymentId: null,
          createdAt: new Date().toISOString(),
          confirmedAt: null,
        };
        payments.set(view.id, { ...view, seq: payments.size });
        keys.set(key, { body: raw, view });
        return send(res, 201, view);
      }
      if (req.method === 'POST' && url === '/webhooks/provider') {
        const { id, type, data } = JSON.parse(raw) as {
          id: string;
          type: string;
          data: { paymentId: string; providerPaymentId: string };
        };
        const p = payments.get(data.paymentId);
        if (!p) return send(res, 404, { error: { code: 'payment_not_found', message: '' } });
        const delivery = (deliveries.get(id) ?? 0) + 1;
        deliveries.set(id, delivery);
        // The first delivery of every fifth payment's capture fails with a 503 (nothing changes).
        if (type === 'payment_succeeded' && delivery === 1 && p.seq % 5 === 4)
          return send(res, 503, { error: { code: 'database_unavailable', message: '' } });
        // A failure after the capture changes nothing (as the real API's outcome ignored_succeeded).
        if (type === 'payment_failed') {
          const { seq: _seq, ...unchanged } = p;
          return send(res, 200, unchanged);
        }
        const { providerPaymentId } = data;
        if (p.status === 'succeeded' && p.providerPaymentId !== providerPaymentId) {
          return send(res, 409, { error: { code: 'provider_payment_id_conflict', message: '' } });
        }
        if (p.status !== 'succeeded') {
          p.status = 'succeeded';
          p.providerPaymentId = providerPaymentId;
          p.confirmedAt = new Date().toISOString();
        }
        const { seq, ...view } = p;
        // Every third payment is confirmed at its first delivery but answered after the client's deadline.
        return send(res, 200, view, seq % 3 === 2 && delivery === 1 ? 5_000 : 0);
      }
      const dash = /^\/students\/([^/]+)\/dashboard$/.exec(url);
      if (req.method === 'GET' && dash) {
        if (dash[1] === 's2')
          return send(res, 404, { error: { code: 'not_found', message: 'no such student' } });
        return send(res, 200, { studentId: dash[1], purchases: [], allocations: [], upcomingSessions: [] });
      }
      send(res, 404, { error: { code: 'not_found', message: '' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const profile: LoadProfile = {
  name: 'history-test',
  description: 'every risky path, a few iterations',
  scenario: { executor: 'per-vu-iterations', vus: 4, iterations: 3, maxDuration: '10s', gracefulStop: '5s' },
  workload: {
    idempotentRetry: 1,
    concurrentRetry: 0.5,
    doubleConfirm: 0.5,
    dashboardRead: 1,
    repeatPurchase: 0.3,
    lateProviderEvents: 0.5,
  },
  // Far from both the on-time answers (immediate) and the late ones (5 s), so a loaded machine
  // cannot turn one into the other.
  http: { timeout: '1500ms' },
  thresholds: { checks: ['rate>0.999'] },
};

describe('the payment workload records every operation for the checker', () => {
  it('pairs each invoke with exactly one ok / fail / info carrying ids and response fields', async () => {
    const path = join(dir, 'history.jsonl');
    const history = new History(path);
    const summary = await runWorkload({
      baseUrl,
      profile,
      history,
      fixtures: { studentIds: ['s1', 's2', 's3'], courseIds: ['c1', 'c2'] },
      seed: 7,
      log: () => undefined,
    });
    await history.close();
    const ops = readHistory(path);

    const invokes = new Map<number, HistoryOp>();
    const completions = new Map<number, HistoryOp>();
    for (const op of ops) {
      if (op.type === 'invoke') {
        expect(invokes.has(op.index)).toBe(false);
        invokes.set(op.index, op);
      } else {
        expect(completions.has(op.index), `second completion of ${op.index}`).toBe(false);
        const inv = invokes.get(op.index);
        expect(inv, `completion ${op.index} without invoke`).toBeDefined();
        expect([op.op, op.process]).toEqual([inv!.op, inv!.process]);
        expect(op.timeNs).toBeGreaterThanOrEqual(inv!.timeNs);
        completions.set(op.index, op);
      }
    }
    expect([...invokes.keys()].sort()).toEqual([...completions.keys()].sort());
    const done = [...completions.values()];

    // Creates: every one keyed, every ok one names its payment, retries reuse key and payment.
    const creates = done.filter((o) => o.op === 'create');
    expect(creates.length).toBeGreaterThanOrEqual(24); // 12 iterations, each with a retry
    for (const c of creates) {
      expect(c.ids).toMatchObject({
        studentId: expect.any(String),
        courseId: expect.any(String),
        idempotencyKey: expect.any(String),
      });
      expect(c.type).toBe('ok');
      expect(c.status).toBe(201);
      const v = c.value as { intent: string; response: PaymentView };
      expect(c.ids!.paymentId).toBe(v.response.id);
      // The price is the server's: the client sends none.
      expect(v.response.amountCents).toBe(4900);
      expect(['fresh', 'repeat']).toContain(v.intent);
    }
    const byKey = Map.groupBy(creates, (c) => c.ids!.idempotencyKey!);
    for (const [, attempts] of byKey) {
      expect(attempts.map((a) => a.ids!.attempt).sort()).toEqual(['1', '2']);
      expect(new Set(attempts.map((a) => a.ids!.paymentId)).size).toBe(1);
    }
    // Concurrent retries run as a second process of the VU.
    expect(creates.some((c) => String(c.process).endsWith('b'))).toBe(true);

    // Provider deliveries: ok with the succeeded view, info 'timeout' when answered too late, or a
    // 503; the provider delivers an unanswered or 5xx event again (same event id, next attempt)
    // until it is answered, so every event's last delivery is ok.
    const confirms = done.filter((o) => o.op === 'confirm');
    expect(confirms.length).toBeGreaterThanOrEqual(12);
    for (const c of confirms) {
      expect(c.ids).toMatchObject({
        paymentId: expect.any(String),
        providerPaymentId: expect.stringMatching(/^pi_/),
        providerEventId: expect.stringMatching(/^evt_/),
        providerEventType: expect.stringMatching(/^payment_(succeeded|failed)$/),
        attempt: expect.stringMatching(/^[123]$/),
      });
      if (c.type === 'ok')
        expect(c.value).toMatchObject({
          response: { status: 'succeeded', providerPaymentId: c.ids!.providerPaymentId },
        });
      // A 5xx is indeterminate too (the system may have done it): info with its status.
      else
        expect([c.type, c.error, c.status]).toSatisfy(
          (x: unknown[]) =>
            JSON.stringify(x) === JSON.stringify(['info', 'timeout', undefined]) ||
            JSON.stringify(x) === JSON.stringify(['info', 'database_unavailable', 503]),
        );
    }
    const unanswered = confirms.filter((c) => c.type !== 'ok');
    expect(unanswered.some((c) => c.type === 'info')).toBe(true);
    expect(unanswered.some((c) => c.status === 503)).toBe(true);
    // Each delivery of one process is retried with the same event id and the next attempt number.
    const byDelivery = Map.groupBy(
      confirms,
      (c) => `${c.process}/${c.ids!.providerEventId}/${c.ids!.late ?? ''}`,
    );
    for (const [, attempts] of byDelivery) {
      const sorted = attempts.sort((a, b) => a.index - b.index);
      expect(sorted.map((a) => a.ids!.attempt)).toEqual(sorted.map((_, i) => String(i + 1)));
      expect(sorted.at(-1)!.type).toBe('ok');
      for (const a of sorted.slice(0, -1)) expect(a.type).not.toBe('ok');
    }
    // Double confirms: the same capture event delivered by two processes at once.
    const byEvent = Map.groupBy(
      confirms.filter((c) => c.ids!.providerEventType === 'payment_succeeded'),
      (c) => c.ids!.providerEventId!,
    );
    expect([...byEvent.values()].some((g) => new Set(g.map((c) => c.process)).size === 2)).toBe(true);
    // Late provider events: the capture again, and a payment_failed of a confirmed payment.
    const failures = confirms.filter((c) => c.ids!.providerEventType === 'payment_failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.ids!.capturedCents === undefined)).toBe(true);
    expect(summary.checks.find((c) => c.name === checkNames.lateFailure)).toMatchObject({ fails: 0 });
    expect(summary.checks.find((c) => c.name === checkNames.lateRedelivery)).toMatchObject({ fails: 0 });

    // Dashboards: s2's is refused with a definite 404 → fail with the API's error code.
    const dashboards = done.filter((o) => o.op === 'dashboard');
    expect(dashboards.length).toBe(12);
    for (const d of dashboards) {
      if (d.ids!.studentId === 's2') expect([d.type, d.status, d.error]).toEqual(['fail', 404, 'not_found']);
      else expect(d).toMatchObject({ type: 'ok', status: 200, value: { response: { purchases: 0 } } });
    }

    // The same story in the metrics: failed checks, failed requests, indeterminate confirms.
    const check = (name: string) => summary.checks.find((c) => c.name === name);
    expect(check(checkNames.createStatus)).toMatchObject({ fails: 0 });
    expect(check(checkNames.retrySame)).toMatchObject({ fails: 0 });
    // The provider delivered again until answered: every capture ended confirmed.
    expect(check(checkNames.confirmStatus)).toMatchObject({ fails: 0 });
    expect(check(checkNames.dashboardStatus)!.fails).toBe(dashboards.filter((d) => d.type === 'fail').length);
    expect(summary.metrics['http_req_indeterminate{op:confirm}']).toMatchObject({
      type: 'counter',
      values: { count: confirms.filter((c) => c.type === 'info').length },
    });
    expect(summary.criteria).toEqual([expect.objectContaining({ name: 'checks rate', pass: false })]);
  });
});
