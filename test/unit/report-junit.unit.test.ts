// junit.xml for PASS, FAIL and UNKNOWN runs and for verify: UNKNOWN is an <error> (never
// <skipped>, which most CI dashboards show green), times are the run's and the checks' own, and
// verify is one suite with one testcase per step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { junitXml } from '../../harness/report/junit.ts';
import { createRunFolder, writeResult } from '../../harness/report/run-folder.ts';
import type { Criterion, InvariantResult, RunResult, Verdict } from '../../harness/run/result.ts';

const root = mkdtempSync(join(tmpdir(), 'payproof-junit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const criterion = (pass: boolean): Criterion => ({
  name: 'http_req_duration{op:confirm} p(95)',
  threshold: 'p(95)<100',
  measured: pass ? 42 : 180,
  pass,
  phase: 'run',
  unit: 'ms',
});
const invariant = (valid: InvariantResult['valid'], durationS = 0.25): InvariantResult => ({
  name: 'no-duplicate-purchases',
  description: 'no two purchases for one intent',
  valid,
  violations: valid === false ? 2 : 0,
  examples: valid === false ? [{ studentId: 's1' }] : [],
  checked: 100,
  durationS,
  ...(valid === 'unknown' ? { unknownReason: 'no duplicate was ever delivered' } : {}),
});

function folder(
  verdict: Verdict,
  criteria: Criterion[],
  invariants: InvariantResult[],
  extra: Partial<RunResult> = {},
) {
  const dir = createRunFolder(`junit-${verdict}`, root);
  writeResult(dir, {
    schemaVersion: 1,
    verdict,
    reason: `${verdict} because`,
    scenario: 'chaos:kill-worker',
    seed: 7,
    startedAt: '2026-11-30T09:00:00.000Z',
    durationS: 93.5,
    criteria,
    invariants,
    exercised: {},
    plantedFaults: [],
    faults: [],
    figures: {},
    environment: {},
    replay: 'npm run chaos -- kill-worker --seed 7',
    ...extra,
  });
  return junitXml(dir);
}

const count = (xml: string, tag: string) => xml.match(new RegExp(`<${tag}\\b`, 'g'))?.length ?? 0;

describe('junit.xml of one run', () => {
  it('PASS: no failure, no error; the verdict case carries the run time, invariants their check time', () => {
    const xml = folder('PASS', [criterion(true)], [invariant(true, 1.5)]);
    expect(xml).toContain(
      '<testsuites name="payproof" tests="3" failures="0" errors="0" skipped="0" time="93.500">',
    );
    expect(xml).toContain('<testcase classname="payproof.chaos:kill-worker" name="verdict" time="93.500">');
    expect(xml).toContain('name="no-duplicate-purchases" time="1.500"');
    expect(count(xml, 'failure') + count(xml, 'error') + count(xml, 'skipped')).toBe(0);
  });

  it('FAIL: the verdict, the unmet threshold and the violated invariant are failures', () => {
    const xml = folder('FAIL', [criterion(false)], [invariant(false)]);
    expect(xml).toMatch(/tests="3" failures="3" errors="0" skipped="0"/);
    expect(xml).toContain('<failure type="FAIL" message="FAIL: FAIL because"/>');
    expect(xml).toContain(
      '<failure type="threshold" message="threshold p(95)&lt;100 not met: measured 180 ms">',
    );
    expect(xml).toContain(
      '<failure type="invariant" message="2 violation(s): no two purchases for one intent">',
    );
    expect(count(xml, 'error')).toBe(0);
  });

  it('UNKNOWN: an error, never skipped, for the verdict and for the unexercised invariant', () => {
    const xml = folder('UNKNOWN', [criterion(true)], [invariant('unknown')]);
    expect(xml).toMatch(/tests="3" failures="0" errors="2" skipped="0"/);
    expect(xml).toContain('<error type="UNKNOWN" message="UNKNOWN: UNKNOWN because"/>');
    expect(xml).toContain('<error type="unknown" message="UNKNOWN: no duplicate was ever delivered"/>');
    expect(count(xml, 'skipped')).toBe(0);
  });

  it('PASS with an invariant the scenario may leave unexercised: skipped (not counted), the run stays green', () => {
    const xml = folder('PASS', [criterion(true)], [invariant('unknown')], {
      reason:
        '1 criteria and 0 invariants hold; not exercised by this scenario (reported, not counted): no-duplicate-purchases',
    });
    expect(xml).toMatch(/tests="3" failures="0" errors="0" skipped="1"/);
    expect(xml).toContain(
      '<skipped type="unknown" message="not exercised by this scenario (reported, not counted): no duplicate was ever delivered"/>',
    );
  });

  it('UNKNOWN with nothing unknown inside (an interrupted run) is still an error', () => {
    const xml = folder('UNKNOWN', [], [], { reason: 'interrupted (Ctrl-C): faults healed, nothing checked' });
    expect(xml).toMatch(/tests="1" failures="0" errors="1"/);
  });
});

describe('junit.xml of verify', () => {
  const step = (
    name: string,
    verdict: string,
    code: number,
    seconds: number,
  ): [Criterion, Record<string, string | number>] => [
    {
      name,
      threshold: 'PASS (exit 0)',
      measured: code,
      pass: code === 0 && verdict === 'PASS',
      unit: 'exit code',
    },
    {
      [`${name}.verdict`]: verdict,
      [`${name}.seconds`]: seconds,
      [`${name}.reason`]: `${verdict} reason`,
      [`${name}.failed`]: verdict === 'PASS' ? '' : '✗ checks rate rate>0.999: measured 0.98',
      [`${name}.report`]: `/r/${name}`,
    },
  ];
  it('is one suite, one testcase per step with its wall time: FAIL a failure, UNKNOWN and crashes errors', () => {
    const steps = [
      step('property', 'PASS', 0, 61),
      step('chaos:kill-worker', 'FAIL', 1, 48),
      step('chaos:restart-kafka', 'UNKNOWN', 2, 55),
      step('load:short', 'exit 137', 137, 12),
    ];
    const xml = folder(
      'FAIL',
      steps.map(([c]) => c),
      [],
      { scenario: 'verify', durationS: 176, figures: Object.assign({}, ...steps.map(([, f]) => f)) },
    );
    expect(count(xml, 'testsuite')).toBe(1);
    expect(xml).toMatch(
      /<testsuite name="payproof.verify" tests="4" failures="1" errors="2" skipped="0" time="176.000"/,
    );
    expect(xml).toContain('<testcase classname="payproof.verify" name="property" time="61.000"><system-out>');
    expect(xml).toContain(
      'name="chaos:kill-worker" time="48.000"><failure type="FAIL" message="FAIL: FAIL reason"/>',
    );
    expect(xml).toContain('name="chaos:restart-kafka" time="55.000"><error type="UNKNOWN"');
    expect(xml).toContain(
      'name="load:short" time="12.000"><error type="UNKNOWN" message="exit 137: exit 137 reason"/>',
    );
    expect(xml).toContain('✗ checks rate rate&gt;0.999: measured 0.98');
    // The steps' own criteria are in their own folders' junit.xml, not repeated here.
    expect(count(xml, 'testcase')).toBe(4);
  });
});
