// The markdown summary for CI pages ($GITHUB_STEP_SUMMARY): a single run's verdict with what
// failed or stayed unknown, verify's step table, appended only when the variable is set.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendStepSummary, stepSummaryMarkdown } from '../../harness/report/step-summary.ts';
import type { RunResult } from '../../harness/run/result.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const fixture = JSON.parse(
  readFileSync(join(repoRoot, 'test/fixtures/report-run/result.json'), 'utf8'),
) as RunResult;
const tmp = mkdtempSync(join(tmpdir(), 'payproof-summary-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('step summary of one run', () => {
  const md = stepSummaryMarkdown(fixture, 'reports/x/index.html');
  it('heads with the verdict and the reason', () => {
    expect(
      md.startsWith(
        '### ❌ FAIL: `chaos:partition-kafka`\n\ninvariant no-duplicate-purchases violated (2 violations)\n',
      ),
    ).toBe(true);
  });
  it('lists every unmet criterion, violated and unknown invariant, and nothing that held', () => {
    const failedC = fixture.criteria.filter((c) => !c.pass);
    const broken = fixture.invariants.filter((i) => i.valid !== true);
    const rows = md.split('\n').filter((l) => l.startsWith('| ❌') || l.startsWith('| ⚠️'));
    expect(rows).toHaveLength(failedC.length + broken.length);
    expect(md).toContain('| ❌ http_req_duration{op:confirm} p(95) [during] | `p(95)<100` | 131.7 ms |');
    expect(md).toContain('| ❌ invariant no-duplicate-purchases |');
    expect(md).toMatch(/\| ⚠️ invariant \S+ \| exercised \| unknown: /);
    expect(md).toContain(`Replay: \`${fixture.replay}\``);
    expect(md).toContain('Report: `reports/x/index.html`');
  });
});

describe('step summary of verify', () => {
  it('is one table of the steps with the totals', () => {
    const r = {
      ...fixture,
      scenario: 'verify',
      verdict: 'FAIL',
      reason: '1 of 2 steps did not pass: chaos:kill-worker (FAIL)',
      criteria: [
        { name: 'property', threshold: 'PASS (exit 0)', measured: 0, pass: true },
        { name: 'chaos:kill-worker', threshold: 'PASS (exit 0)', measured: 1, pass: false },
      ],
      invariants: [],
      figures: {
        'property.verdict': 'PASS',
        'property.seconds': 61,
        'chaos:kill-worker.verdict': 'FAIL',
        'chaos:kill-worker.seconds': 58,
        'chaos:kill-worker.reason': 'invariant nothing-lost violated (3 violations)',
        'chaos:kill-worker.failed': '✗ nothing-lost: 3 violations',
        'chaos:kill-worker.events_processed': 29711,
      },
    } as RunResult;
    const md = stepSummaryMarkdown(r);
    expect(md).toContain('2 steps: 1 PASS, 1 FAIL, 0 UNKNOWN');
    expect(md).toContain('| property | ✅ PASS | 61 | – | – | – | – | – / – |  |');
    expect(md).toContain(
      '| chaos:kill-worker | ❌ FAIL | 58 | – | – | – | 29,711 | – / – | invariant nothing-lost violated (3 violations); ✗ nothing-lost: 3 violations |',
    );
  });
});

describe('appendStepSummary', () => {
  it('appends to $GITHUB_STEP_SUMMARY when set, and writes nothing otherwise', () => {
    const path = join(tmp, 'summary.md');
    expect(appendStepSummary(fixture, undefined, {})).toBeUndefined();
    expect(appendStepSummary(fixture, undefined, { GITHUB_STEP_SUMMARY: path })).toBe(path);
    appendStepSummary(fixture, undefined, { GITHUB_STEP_SUMMARY: path });
    expect(readFileSync(path, 'utf8').match(/^### /gm)).toHaveLength(2);
  });
});
