// What runners call to produce a run folder, and how the report copes with folders that are
// incomplete or malformed (an interrupted run must still render, and never read as green).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { junitXml } from '../../harness/report/junit.ts';
import { runPageHtml } from '../../harness/report/render.ts';
import { loadRun } from '../../harness/report/run-data.ts';
import {
  appendSample,
  createRunFolder,
  finalizeRun,
  SampleWriter,
  safeName,
  writeResult,
} from '../../harness/report/run-folder.ts';
import { niceTicks, timeChart } from '../../harness/report/svg-chart.ts';
import type { HistoryOp } from '../../harness/run/history.ts';
import { decideVerdict, type RunResult } from '../../harness/run/result.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'payproof-runs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('createRunFolder', () => {
  it('names the folder <UTC stamp>-<safe name> and never reuses one', () => {
    const at = new Date('2026-11-26T14:03:12.345Z');
    const a = createRunFolder('chaos:partition-kafka', root, at);
    const b = createRunFolder('chaos:partition-kafka', root, at);
    expect(basename(a)).toBe('20261126-140312-chaos-partition-kafka');
    expect(basename(b)).toBe('20261126-140312-chaos-partition-kafka-2');
    expect(existsSync(a) && existsSync(b)).toBe(true);
    expect(safeName('../../etc/passwd')).toBe('etc-passwd');
    expect(safeName('')).toBe('run');
  });
});

describe('samples', () => {
  it('SampleWriter stamps t in seconds since it was created and drops non-finite values', () => {
    const dir = createRunFolder('load', root);
    let nowMs = 1_000;
    const w = new SampleWriter(dir, () => nowMs);
    nowMs = 1_500;
    w.write({ throughput_rps: 10, confirm_p95_ms: Number.NaN });
    nowMs = 2_750;
    w.write({ throughput_rps: 12, outbox_backlog: Number.POSITIVE_INFINITY });
    appendSample(dir, { t: 3, dlq_total: 1 });
    const lines = readFileSync(join(dir, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { throughput_rps: 10, t: 0.5 },
      { throughput_rps: 12, t: 1.75 },
      { t: 3, dlq_total: 1 },
    ]);
    expect(() => appendSample(dir, { t: Number.NaN })).toThrow(/finite t/);
  });
});

const passing = (): RunResult => {
  const criteria = [{ name: 'checks rate', threshold: 'rate>0.999', measured: 1, pass: true, unit: 'ratio' }];
  const invariants = [
    {
      name: 'no-lost-payments',
      description: 'none lost',
      valid: true as const,
      violations: 0,
      examples: [],
      checked: 10,
    },
  ];
  return {
    schemaVersion: 1,
    ...decideVerdict(criteria, invariants),
    scenario: 'property',
    seed: 7,
    startedAt: '2026-11-26T10:00:00.000Z',
    durationS: 3,
    criteria,
    invariants,
    exercised: { paymentsCreated: 10 },
    plantedFaults: [],
    faults: [],
    figures: {},
    environment: { node: 'v24' },
    replay: 'npm run property -- --seed 7',
  };
};

describe('finalizeRun', () => {
  it('writes the page, junit.xml, the index and latest for a run with no samples and no history', () => {
    const dir = createRunFolder('property', root);
    writeResult(dir, passing());
    const out = finalizeRun(dir);
    expect(out.index).toBe(join(root, 'index.html'));
    const page = readFileSync(out.page, 'utf8');
    expect(page).toContain('data-verdict="PASS"');
    expect(page).toContain('No time series recorded for this run');
    expect(page).toContain('No history.jsonl in this run folder.');
    expect(page).not.toContain('This run folder is not complete');
    expect(readFileSync(out.junit, 'utf8')).toMatch(/tests="3" failures="0" errors="0" skipped="0"/);
  });
});

describe('malformed or incomplete run folders', () => {
  it('renders a result.json with wrong types as UNKNOWN and says what was wrong', () => {
    const dir = createRunFolder('odd', root);
    writeFileSync(
      join(dir, 'result.json'),
      JSON.stringify({
        verdict: 'MAYBE',
        criteria: 'none',
        invariants: [{ name: 'x', valid: 'perhaps', examples: [1, 'two'] }, null],
        faults: [{ label: 'f', startS: 5, endS: null }],
        figures: { nested: { a: 1 } },
      }),
    );
    writeFileSync(
      join(dir, 'samples.jsonl'),
      '{"t":1,"errors":2}\n{"t":2,"errors":"x"}\nnot json\n{"t":3,"errors":0}\n',
    );
    const run = loadRun(dir);
    expect(run.result!.verdict).toBe('UNKNOWN');
    expect(run.result!.invariants).toHaveLength(1);
    expect(run.result!.invariants[0]!.valid).toBe('unknown');
    expect(run.samples.map((s) => s.t)).toEqual([1, 2, 3]);
    const html = runPageHtml(run);
    expect(html).toContain('data-verdict="UNKNOWN"');
    expect(html).toContain('read as UNKNOWN');
    expect(html).toContain('1 unreadable line(s) skipped');
    // A fault never healed runs to the end of the axis, and says so.
    expect(html).toContain('never healed');
    expect(html.match(/class="fault-band"/g)?.length).toBeGreaterThan(0);
  });

  it('a long history renders exactly as if it were held whole, keeping details only where shown', () => {
    const dir = createRunFolder('load', root);
    writeResult(dir, passing());
    const ops: HistoryOp[] = [];
    for (let i = 0; i < 1500; i++) {
      const ids = { studentId: `s-${i % 40}`, paymentId: `p-${i}` };
      ops.push({ index: i, type: 'invoke', op: 'create', timeNs: i * 5e6, process: i % 9, ids });
      const type = i % 97 === 0 ? 'info' : i % 31 === 0 ? 'fail' : 'ok';
      ops.push({
        index: i,
        type,
        op: i % 3 === 0 ? 'dashboard' : 'create',
        timeNs: i * 5e6 + 2e6,
        process: i % 9,
        ids,
        ...(type === 'info' ? { error: 'timeout' } : { status: type === 'ok' ? 201 : 409 }),
        value: { response: { id: `p-${i}` } },
      });
    }
    writeFileSync(join(dir, 'history.jsonl'), `${ops.map((o) => JSON.stringify(o)).join('\n')}\n`);
    const run = loadRun(dir);
    expect(run.history).toHaveLength(ops.length);
    expect(run.history!.map((o) => [o.index, o.type, o.op, o.timeNs, o.process])).toEqual(
      ops.map((o) => [o.index, o.type, o.op, o.timeNs, o.process]),
    );
    // Shown verbatim: the first and last 200 and every info; the rest without their details.
    expect(run.history!.slice(0, 200)).toEqual(ops.slice(0, 200));
    expect(run.history!.slice(-200)).toEqual(ops.slice(-200));
    const infos = ops.filter((o) => o.type === 'info');
    expect(infos.length).toBeGreaterThan(10);
    expect(run.history!.filter((o) => o.type === 'info')).toEqual(infos);
    expect(run.history![1000]!.ids).toBeUndefined();
    expect(runPageHtml(run)).toBe(runPageHtml({ ...run, history: ops }));
  });

  it('an interrupted run (no result.json) is an <error> in junit.xml, never green', () => {
    const dir = createRunFolder('interrupted', root);
    const xml = junitXml(dir);
    expect(xml).toMatch(/errors="1"/);
    expect(xml).toContain('<error type="incomplete" message="no result.json: the run did not finish"/>');
  });
});

describe('charts', () => {
  it('ticks are round numbers covering the range', () => {
    expect(niceTicks(0, 283.9, 4)).toEqual([0, 100, 200, 300]);
    expect(niceTicks(0, 3, 4)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0, 0.1, 4)).toEqual([0, 0.025, 0.05, 0.075, 0.1]);
  });

  it('a long series is thinned to a bounded number of points, keeping its peak', () => {
    const points = Array.from({ length: 20_000 }, (_, i) => [i / 10, i === 12_345 ? 999 : i % 7] as const);
    const svg = timeChart({
      id: 'x',
      title: 'x',
      series: [{ key: 'k', label: 'k', color: '#000', points }],
      xDomain: [0, 2000],
      faults: [],
    });
    const n = Number(/data-points="(\d+)"/.exec(svg)![1]);
    expect(n).toBeLessThanOrEqual(2 * 960);
    expect(n).toBeGreaterThan(500);
    // The peak (999) sits on the top tick (1000): its y is near the top of the plot.
    const ys = [...svg.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.min(...ys)).toBeLessThan(22);
  });
});
