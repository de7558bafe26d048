// The engine's timing against a stand-in HTTP endpoint (node:http, answers after a set delay): an
// open-model executor must start iterations on schedule however slow the responses are, and the
// latency it reports must include the whole wait (no coordinated omission).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeCpu } from '../../harness/load/cpu.ts';
import { runWorkload } from '../../harness/load/engine.ts';
import type { Recorder } from '../../harness/load/operation.ts';
import { recordedRequest } from '../../harness/load/operation.ts';
import type { LoadProfile, Scenario } from '../../harness/load/profile.ts';
import type { LoadSummary, MetricSummary } from '../../harness/load/summary.ts';
import { formatSummary } from '../../harness/load/summary.ts';
import { History, readHistory } from '../../harness/run/history.ts';
import type { Sample } from '../../harness/run/result.ts';

let server: Server;
let baseUrl: string;
/** Response delay in ms, changed by tests to simulate a fault. */
let delayMs = 200;
const dir = mkdtempSync(join(tmpdir(), 'payproof-load-engine-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    const wait = req.url?.startsWith('/hang') ? 3_000 : delayMs;
    const t = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }, wait);
    res.on('close', () => clearTimeout(t));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function oneRequest(path = '/slow') {
  return (rec: Recorder) =>
    async ({ vu, signal }: { vu: number; signal: AbortSignal }) => {
      await recordedRequest(rec, {
        op: 'dashboard',
        process: vu,
        method: 'GET',
        path,
        ids: { studentId: 's' },
        signal,
      });
    };
}

async function run(
  scenario: Scenario,
  extra: Partial<LoadProfile> & {
    timeline?: { label: string; startS: number; endS: number | null }[];
    onStart?: () => void;
    path?: string;
  } = {},
): Promise<{ summary: LoadSummary; samples: Sample[]; historyPath: string }> {
  const historyPath = join(dir, `h-${Math.random().toString(36).slice(2)}.jsonl`);
  const history = new History(historyPath);
  const samples: Sample[] = [];
  const { timeline, onStart, path, ...profileExtra } = extra;
  const summary = await runWorkload({
    baseUrl,
    profile: {
      name: 'test',
      description: 'engine timing',
      scenario,
      thresholds: {},
      http: { timeout: '5s' },
      ...profileExtra,
    },
    history,
    fixtures: { studentIds: ['s'], courseIds: ['c'] },
    iteration: oneRequest(path),
    skipProbe: true,
    seed: 1,
    onSample: (s) => samples.push(s),
    log: () => undefined,
    ...(timeline ? { timeline } : {}),
    ...(onStart ? { onStart } : {}),
  });
  await history.close();
  return { summary, samples, historyPath };
}

function trend(s: LoadSummary | { metrics: Readonly<Record<string, MetricSummary>> }, key: string) {
  const m = s.metrics[key];
  if (m?.type !== 'trend') throw new Error(`${key} is not a trend with samples`);
  return m.values;
}

describe('open-model executors start iterations on schedule, whatever the response time', () => {
  it('constant-arrival-rate 100/s for 2 s against 200 ms responses: 200 iterations, latency >= 200 ms', async () => {
    delayMs = 200;
    const { summary, samples } = await run({
      executor: 'constant-arrival-rate',
      rate: 100,
      timeUnit: '1s',
      duration: '2s',
      preAllocatedVUs: 10,
      maxVUs: 100,
      gracefulStop: '2s',
    });
    expect(summary.iterations).toMatchObject({
      expected: 200,
      started: 200,
      completed: 200,
      dropped: 0,
      interrupted: 0,
    });
    const d = trend(summary, 'http_req_duration{op:dashboard}');
    expect(d.count).toBe(200);
    expect(d.min).toBeGreaterThanOrEqual(199);
    expect(d.med).toBeGreaterThanOrEqual(199);
    expect(d.med).toBeLessThan(400);
    // Little's law: 100/s × 0.2 s ≈ 20 VUs busy; a closed model with 10 VUs would have halved the rate.
    expect(summary.vus.peakActive).toBeGreaterThanOrEqual(15);
    expect(summary.vus.peakActive).toBeLessThan(100);
    expect(trend(summary, 'iteration_start_lag')['p(99)']).toBeLessThan(100);
    expect(summary.durationS).toBeGreaterThan(2);
    expect(summary.durationS).toBeLessThan(3);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples[0]).toMatchObject({
      t: expect.any(Number),
      throughput_rps: expect.any(Number),
      in_flight: expect.any(Number),
    });
  });

  it('a stalled generator starts the backlog late and reports the lateness instead of skipping it', async () => {
    delayMs = 200;
    const stall = setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // Busy: the event loop cannot run the scheduler for 300 ms.
      }
    }, 1_000);
    const { summary } = await run({
      executor: 'constant-arrival-rate',
      rate: 100,
      duration: '2s',
      preAllocatedVUs: 50,
      maxVUs: 200,
      gracefulStop: '2s',
    });
    clearTimeout(stall);
    expect(summary.iterations).toMatchObject({ started: 200, dropped: 0 });
    expect(trend(summary, 'iteration_start_lag').max).toBeGreaterThanOrEqual(250);
    // Iteration time counts from the scheduled start, so the stall shows up in it too.
    expect(trend(summary, 'iteration_duration').max).toBeGreaterThanOrEqual(450);
  });

  it('when every allowed VU is busy, due iterations are dropped and counted, never silently delayed', async () => {
    delayMs = 200;
    const { summary } = await run(
      {
        executor: 'constant-arrival-rate',
        rate: 100,
        duration: '2s',
        preAllocatedVUs: 5,
        maxVUs: 5,
        gracefulStop: '2s',
      },
      { thresholds: { dropped_iterations: ['count==0'] } },
    );
    const { started, dropped } = summary.iterations;
    expect(started + dropped).toBe(200);
    // 5 VUs × 2 s / 0.2 s ≈ 50 iterations; the rest were due while all 5 were busy.
    expect(started).toBeGreaterThan(35);
    expect(started).toBeLessThan(70);
    expect(summary.criteria).toEqual([
      expect.objectContaining({ name: 'dropped_iterations count', pass: false, measured: dropped }),
    ]);
    expect(summary.pass).toBe(false);
    expect(summary.warnings.join('\n')).toMatch(/dropped/);
  });

  it('ramping-arrival-rate follows its stages: 0 → 100/s over 1 s then 100/s for 1 s is 150 iterations', async () => {
    delayMs = 50;
    const { summary } = await run({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [
        { target: 100, duration: '1s' },
        { target: 100, duration: '1s' },
      ],
      preAllocatedVUs: 5,
      maxVUs: 50,
      gracefulStop: '1s',
    });
    expect(summary.iterations).toMatchObject({ expected: 150, started: 150, dropped: 0 });
  });
});

describe('closed-model executors', () => {
  it('constant-vus loops each VU back to back for the duration', async () => {
    delayMs = 200;
    const { summary } = await run({ executor: 'constant-vus', vus: 4, duration: '1s', gracefulStop: '1s' });
    // 4 VUs × 1 s / 0.2 s = 20, give or take the last round.
    expect(summary.iterations.completed).toBeGreaterThanOrEqual(16);
    expect(summary.iterations.completed).toBeLessThanOrEqual(24);
    expect(summary.iterations.expected).toBeNull();
    expect(summary.vus).toEqual({ max: 4, peakActive: 4 });
  });

  it('startSpread staggers the VUs of constant-vus instead of firing them all at once', async () => {
    delayMs = 50;
    const { historyPath } = await run({
      executor: 'constant-vus',
      vus: 10,
      duration: '1s',
      startSpread: '500ms',
    });
    const firsts = new Map<string | number, number>();
    for (const o of readHistory(historyPath))
      if (o.type === 'invoke' && !firsts.has(o.process)) firsts.set(o.process, o.timeNs / 1e6);
    const starts = [...firsts.values()].sort((a, b) => a - b);
    expect(starts).toHaveLength(10);
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(400);
  });

  it('per-vu-iterations fires every VU at once and stops after their iterations', async () => {
    delayMs = 100;
    const { summary } = await run({
      executor: 'per-vu-iterations',
      vus: 10,
      iterations: 2,
      maxDuration: '5s',
    });
    expect(summary.iterations).toMatchObject({ expected: 20, started: 20, completed: 20 });
    expect(summary.vus.peakActive).toBe(10);
    expect(summary.durationS).toBeLessThan(1);
  });

  it('gracefulStop ends by interrupting: the open requests are recorded info, never fail', async () => {
    const { summary, historyPath } = await run(
      { executor: 'constant-vus', vus: 2, duration: '200ms', gracefulStop: '200ms' },
      { path: '/hang' },
    );
    expect(summary.iterations).toMatchObject({ started: 2, completed: 0, interrupted: 2 });
    expect(summary.durationS).toBeLessThan(1.5);
    const ops = readHistory(historyPath);
    expect(ops.filter((o) => o.type === 'invoke')).toHaveLength(2);
    expect(ops.filter((o) => o.type !== 'invoke').map((o) => [o.type, o.error])).toEqual([
      ['info', 'interrupted'],
      ['info', 'interrupted'],
    ]);
  });
});

describe('phases and the summary', () => {
  it('judges thresholds per phase of the fault timeline, from the same run', async () => {
    delayMs = 50;
    const timers: NodeJS.Timeout[] = [];
    const { summary } = await run(
      {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '3s',
        preAllocatedVUs: 10,
        maxVUs: 100,
        gracefulStop: '2s',
      },
      {
        thresholds: { 'http_req_duration{op:dashboard}': ['p(95)<300'] },
        phaseThresholds: { during: { 'http_req_duration{op:dashboard}': ['p(50)>=400'] } },
        timeline: [{ label: 'slow-api', startS: 1, endS: 2 }],
        onStart: () => {
          timers.push(setTimeout(() => (delayMs = 500), 1_000));
          timers.push(setTimeout(() => (delayMs = 50), 2_000));
        },
      },
    );
    timers.forEach(clearTimeout);
    expect(summary.phases.map((p) => [p.phase, p.fromS, p.labels])).toEqual([
      ['before', 0, []],
      ['during', 1, ['slow-api']],
      ['after', 2, []],
    ]);
    const during = trend(summary.phases[1]!, 'http_req_duration{op:dashboard}');
    expect(during.med).toBeGreaterThanOrEqual(450);
    expect(trend(summary.phases[0]!, 'http_req_duration{op:dashboard}')['p(95)']).toBeLessThan(300);
    const byPhase = Object.fromEntries(summary.criteria.map((c) => [c.phase, c.pass]));
    expect(byPhase).toEqual({ run: false, before: true, during: true, after: true });
    expect(summary.figures.during_confirm_p95_ms).toBeNull();
    expect(summary.figures.dashboard_p95_ms).toEqual(expect.any(Number));
    const text = formatSummary(summary);
    expect(text).toMatch(/█ THRESHOLDS/);
    expect(text).toMatch(/✗ 'p\(95\)<300'/);
    expect(text).toMatch(/█ PHASE DURING 1\.0s–2\.0s \(slow-api\)/);
    expect(text).toMatch(/http_req_duration\{op:dashboard\}\.+: avg=/);
  });

  it('abortOnFail stops scheduling as soon as the threshold fails, and the run does not pass', async () => {
    delayMs = 200;
    const { summary } = await run(
      {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '8s',
        preAllocatedVUs: 20,
        maxVUs: 50,
        gracefulStop: '1s',
      },
      { thresholds: { http_req_duration: [{ threshold: 'p(95)<100', abortOnFail: true }] } },
    );
    expect(summary.abortedBy).toBe('http_req_duration p(95) p(95)<100');
    expect(summary.durationS).toBeLessThan(4);
    expect(summary.iterations.started).toBeLessThan(200);
    expect(summary.pass).toBe(false);
    expect(formatSummary(summary)).toMatch(/aborted early/);
  });

  it('says latency is untrustworthy when the generator was CPU-bound for over 20% of the run', () => {
    expect(judgeCpu([0.5, 0.95, 0.5, 0.5, 0.5])).toMatchObject({
      trustworthy: true,
      busySeconds: 1,
      busyShare: 0.2,
    });
    const j = judgeCpu([0.95, 0.99, 0.5, 0.5, 0.5]);
    expect(j).toMatchObject({ trustworthy: false, busySeconds: 2, busyShare: 0.4, maxPct: 99 });
    expect(judgeCpu([])).toMatchObject({ trustworthy: true, sampledSeconds: 0 });
    expect(judgeCpu([0.8, 0.85], { busyFraction: 0.7, maxBusyShare: 0.5 }).trustworthy).toBe(false);
  });
});
