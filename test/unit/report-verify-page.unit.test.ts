// verify's page is a summary of its steps: totals at the top, the step table with the terminal's
// columns and a link to each step's page, a failing step's reason and failed criteria inline,
// and none of the single-run sections that would be empty for it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRunName, makeVerifyFixture } from '../support/verify-fixture.ts';

let root: string;
let html: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'payproof-verify-page-'));
  html = readFileSync(join(makeVerifyFixture(root), 'index.html'), 'utf8');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('verify page', () => {
  it('shows the totals at the top', () => {
    const totals = html.slice(html.indexOf('id="totals"'), html.indexOf('id="steps"'));
    expect(totals).toMatch(/Steps passed<\/div><div class="v">1<small> \/ 3<\/small>/);
    expect(totals).toMatch(/Failed<\/div><div class="v">1<\/div><div class="sub">chaos:partition-kafka/);
    expect(totals).toMatch(/Unknown<\/div><div class="v">1<\/div><div class="sub">load:short/);
  });

  it("has the terminal's columns, one row per step, each linked to the step's own page", () => {
    for (const h of [
      'step',
      'verdict',
      'wall s',
      'confirms during',
      'p95 during ms',
      'recover s',
      'events processed',
      'dups delivered',
      'dups absorbed',
    ])
      expect(html).toContain(`>${h}</th>`);
    expect(html.match(/<tr class="step[^"]*" data-step=/g)).toHaveLength(3);
    expect(html).toContain(`<a href="../${fixtureRunName}/index.html">chaos:partition-kafka</a>`);
    expect(html).toMatch(/<a href="\.\.\/\d{8}-\d{6}-property\/index\.html">property<\/a>/);
    // A crashed step has no folder: no link, and its exit code as the verdict.
    expect(html).toContain('<td><span>load:short</span></td><td><span class="pill UNKNOWN">exit 137</span>');
    expect(html).toContain(
      '<td class="num">3,495</td><td class="num">132</td><td class="num">1.9</td><td class="num">36,015</td><td class="num">248</td><td class="num">464</td>',
    );
  });

  it("puts a failing step's reason and failed criteria right under it", () => {
    const from = html.indexOf('data-step-detail="chaos:partition-kafka"');
    const detail = html.slice(from, html.indexOf('</tr>', from));
    expect(detail).toContain('<p class="why">invariant no-duplicate-purchases violated (2 violations)</p>');
    expect(detail).toContain('<code>✗ no-duplicate-purchases: 2 violations</code>');
    expect(html).toContain('no result.json (exit 137); see load_short.log');
  });

  it('has none of the empty single-run sections', () => {
    for (const text of [
      'Invariants',
      'No fault was injected',
      'No time series',
      'Criteria met',
      'id="history"',
      '<svg',
    ])
      expect(html).not.toContain(text);
  });
});
