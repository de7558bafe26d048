// The k6-style end-of-test summary that load and chaos print, and the --summary-export JSON, from
// one fixed LoadSummary: the exact text (k6's layout: thresholds with ✓/✗, checks, trends with
// avg/min/med/max/p(90)/p(95)), and k6's export shape.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatSummary, type LoadSummary } from '../../harness/load/summary.ts';
import { summaryExport } from '../../harness/load/summary-export.ts';

const trend = (
  avg: number,
  min: number,
  med: number,
  max: number,
  p90: number,
  p95: number,
  p99: number,
) => ({
  type: 'trend' as const,
  values: { count: 1000, avg, min, med, max, 'p(90)': p90, 'p(95)': p95, 'p(99)': p99, 'p(99.9)': max },
});

const summary: LoadSummary = {
  profile: 'short',
  description: '1000 VUs thinking ~10 s, 30 s',
  executor: 'constant-vus',
  seed: 42,
  startedAt: '2026-11-30T09:00:00.000Z',
  durationS: 30.5,
  iterations: {
    expected: null,
    started: 3000,
    completed: 3000,
    interrupted: 0,
    dropped: 0,
    errors: 0,
    firstError: null,
  },
  vus: { max: 1000, peakActive: 1000 },
  metrics: {
    'http_req_duration{op:confirm}': trend(12.5, 2.1, 8.4, 310, 20.2, 41.7, 88.9),
    http_req_failed: { type: 'rate', values: { rate: 0.0005, passes: 3, fails: 5997 } },
    http_reqs: { type: 'counter', values: { count: 6000, rate: 196.72 } },
    checks: { type: 'rate', values: { rate: 0.9995, passes: 5997, fails: 3 } },
    vus: { type: 'gauge', values: { value: 0, min: 0, max: 1000 } },
  },
  checks: [
    { name: 'confirm: status 200', passes: 2997, fails: 3 },
    { name: 'create: status 201', passes: 3000, fails: 0 },
  ],
  criteria: [
    {
      name: 'http_req_duration{op:confirm} p(95)',
      threshold: 'p(95)<100',
      measured: 41.7,
      pass: true,
      phase: 'run',
      unit: 'ms',
    },
    {
      name: 'http_req_duration{op:confirm} p(99)',
      threshold: 'p(99)<80',
      measured: 88.9,
      pass: false,
      phase: 'run',
      unit: 'ms',
    },
    {
      name: 'checks rate',
      threshold: 'rate>0.999',
      measured: 0.9995,
      pass: true,
      phase: 'run',
      unit: 'ratio',
    },
  ],
  phases: [],
  cpu: {
    trustworthy: true,
    busyShare: 0,
    busySeconds: 0,
    sampledSeconds: 30,
    meanPct: 41,
    maxPct: 77,
    busyFraction: 0.9,
    maxBusyShare: 0.2,
  },
  eventLoopDelayP99Ms: 12,
  latencyTrustworthy: true,
  warnings: [],
  abortedBy: null,
  pass: false,
  figures: {},
  samples: [],
};

describe('formatSummary', () => {
  it("prints k6's layout: header, thresholds with ✓/✗, checks, HTTP and EXECUTION trends, the end line", () => {
    expect(formatSummary(summary).split('\n')).toEqual([
      '',
      '  payproof load · profile short · constant-vus · 30.5s · seed 42',
      '  1000 VUs thinking ~10 s, 30 s',
      '',
      '  █ THRESHOLDS',
      '',
      '    http_req_duration{op:confirm}',
      "    ✓ 'p(95)<100' p(95)=41.7ms",
      "    ✗ 'p(99)<80' p(99)=88.9ms",
      '',
      '    checks',
      "    ✓ 'rate>0.999' rate=99.95%",
      '',
      '  █ TOTAL RESULTS',
      '',
      '    checks_total..............................: 6000',
      '    checks_succeeded..........................: 99.95%  5997 out of 6000',
      '    ✗ confirm: status 200',
      '      ↳  99.90% — ✓ 2997 / ✗ 3',
      '    ✓ create: status 201',
      '',
      '    HTTP',
      '    http_req_duration{op:confirm}.................: avg=12.5ms min=2.1ms med=8.4ms max=310ms p(90)=20.2ms p(95)=41.7ms p(99)=88.9ms p(99.9)=310ms',
      '    http_req_failed...............................: 0.05%  3 out of 6000',
      '    http_reqs.....................................: 6000  197/s',
      '',
      '    EXECUTION',
      '    vus...........................................: 0  min=0 max=1000',
      '',
      '    load generator CPU........................: mean 41% max 77% of a core, busy (>90%) 0.00% of 30s; event loop delay p99 12ms',
      '',
      '  ✗ some thresholds were not met',
      '',
    ]);
  });

  it('marks latency lines untrustworthy when the generator was CPU-bound, and says why', () => {
    const text = formatSummary({
      ...summary,
      latencyTrustworthy: false,
      warnings: ['the load generator used more than 90%'],
    });
    expect(text).toContain('  ⚠ the load generator used more than 90%');
    expect(text).toMatch(
      /http_req_duration\{op:confirm\}\.+: avg=.* ⚠ untrustworthy \(load generator CPU-bound\)/,
    );
    expect(text).toContain('latency figures NOT trustworthy');
  });
});

describe('summaryExport (k6 --summary-export shape)', () => {
  const e = summaryExport(summary, { stdout: false, stderr: true });
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('has the root group with the checks, keyed by name, ids the MD5 of their path', () => {
    expect(e.root_group).toEqual({
      name: '',
      path: '',
      id: 'd41d8cd98f00b204e9800998ecf8427e',
      groups: {},
      checks: {
        'confirm: status 200': {
          name: 'confirm: status 200',
          path: '::confirm: status 200',
          id: md5('::confirm: status 200'),
          passes: 2997,
          fails: 3,
        },
        'create: status 201': {
          name: 'create: status 201',
          path: '::create: status 201',
          id: md5('::create: status 201'),
          passes: 3000,
          fails: 0,
        },
      },
    });
  });

  it('flattens each metric as k6 does, thresholds true when they failed', () => {
    expect(e.metrics['http_req_duration{op:confirm}']).toEqual({
      avg: 12.5,
      min: 2.1,
      med: 8.4,
      max: 310,
      'p(90)': 20.2,
      'p(95)': 41.7,
      'p(99)': 88.9,
      thresholds: { 'p(95)<100': false, 'p(99)<80': true },
    });
    expect(e.metrics.http_reqs).toEqual({ count: 6000, rate: 196.72 });
    expect(e.metrics.http_req_failed).toEqual({ passes: 3, fails: 5997, value: 0.0005 });
    expect(e.metrics.checks).toEqual({
      passes: 5997,
      fails: 3,
      value: 0.9995,
      thresholds: { 'rate>0.999': false },
    });
    expect(e.metrics.vus).toEqual({ value: 0, min: 0, max: 1000 });
    expect(e.state).toEqual({ isStdOutTTY: false, isStdErrTTY: true, testRunDurationMs: 30_500 });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
});
