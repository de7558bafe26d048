// The run page in a real browser (Debian's chromium driven by playwright-core), opened from disk
// as a person would: it must not attempt a single network request, must not log a console error,
// and must look right; the screenshot lands in the (temporary copy of the) run folder. Set
// PAYPROOF_KEEP_REPORT=1 to keep that folder and look at screenshot.png.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalizeRun } from '../../harness/report/run-folder.ts';
import { fixtureRunName, makeVerifyFixture } from '../support/verify-fixture.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const fixture = join(import.meta.dirname, '..', 'fixtures', 'report-run');
const runName = '20261126-140312-chaos-partition-kafka';

let root: string;
let profile: string;
let runDir: string;
let context: BrowserContext;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'payproof-report-browser-'));
  // A fresh, empty profile: nothing cached, no extension, no earlier state.
  profile = mkdtempSync(join(tmpdir(), 'payproof-chromium-profile-'));
  runDir = join(root, runName);
  cpSync(fixture, runDir, { recursive: true });
  finalizeRun(runDir);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    // Without the background-networking flags Chromium phones home at start-up (component
    // updates, safe browsing, sync) and this machine's closed network refuses it loudly.
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1366, height: 900 },
    deviceScaleFactor: 1,
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  if (process.env.PAYPROOF_KEEP_REPORT) console.log(`report kept in ${runDir}`);
  else rmSync(root, { recursive: true, force: true });
});

/** Opens a file from disk and records every request, console error and page error on the way. */
async function open(path: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  return { page, requests, errors };
}

describe('run page in Chromium, opened from disk', () => {
  it('makes no network request, logs no error, and saves a full-page screenshot into the run folder', async () => {
    const pagePath = join(runDir, 'index.html');
    const { page, requests, errors } = await open(pagePath);
    // Hovering a chart and opening the history must not fetch anything either.
    await page.hover('svg.chart[data-chart="lag"]');
    await page.click('details#history > summary');
    expect(await page.locator('details#history').getAttribute('open')).not.toBeNull();
    await page.click('details#history > summary');

    expect(await page.locator('.badge').textContent()).toBe('FAIL');
    expect(await page.locator('#verdict-reason').textContent()).toMatch(/no-duplicate-purchases violated/);
    expect(await page.locator('svg.chart').count()).toBe(7);
    // Charts lay out at the page's width, and the page does not scroll sideways on a laptop screen.
    // Expressions as strings: the test is type-checked without the DOM library.
    const widths = await page.evaluate<{ doc: number; view: number; chart: number }>(`({
      doc: document.documentElement.scrollWidth,
      view: window.innerWidth,
      chart: document.querySelector('svg.chart').getBoundingClientRect().width,
    })`);
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    expect(widths.chart).toBeGreaterThan(900);

    // From the top, so the sticky navigation sits where a reader first sees it.
    await page.evaluate('window.scrollTo(0, 0)');
    const shot = join(runDir, 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(50_000);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

    // Printable: the sticky navigation goes, the content stays.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav.toc').isVisible()).toBe(false);
    expect(await page.locator('#criteria').isVisible()).toBe(true);
    await page.close();

    expect(requests).toEqual([pathToFileURL(pagePath).href]);
    expect(errors).toEqual([]);
  });

  it('the index opens from disk without requests and links to the run page', async () => {
    const indexPath = join(root, 'index.html');
    expect(existsSync(join(root, 'latest', 'index.html'))).toBe(true);
    const { page, requests, errors } = await open(indexPath);
    await page.click(`tr[data-run="${runName}"] a`);
    await page.waitForURL(/chaos-partition-kafka\/index\.html$/);
    expect(await page.locator('.badge').textContent()).toBe('FAIL');
    await page.close();
    expect(requests).toEqual([pathToFileURL(indexPath).href, pathToFileURL(join(runDir, 'index.html')).href]);
    expect(errors).toEqual([]);
  });
});

describe('verify page in Chromium', () => {
  it('shows the totals and the step table, links each step to its page, and requests nothing else', async () => {
    const verifyRoot = mkdtempSync(join(tmpdir(), 'payproof-verify-browser-'));
    try {
      const verifyDir = makeVerifyFixture(verifyRoot);
      const pagePath = join(verifyDir, 'index.html');
      const { page, requests, errors } = await open(pagePath);
      expect(await page.locator('.badge').textContent()).toBe('FAIL');
      expect(await page.locator('#totals .tile').count()).toBe(4);
      expect(await page.locator('#totals .tile').first().textContent()).toMatch(/Steps passed\s*1\s*\/ 3/);
      expect(await page.locator('table.steps tr.step').count()).toBe(3);
      expect(await page.locator('table.steps th').allTextContents()).toEqual([
        'step',
        'verdict',
        'wall s',
        'confirms during',
        'p95 during ms',
        'recover s',
        'events processed',
        'dups delivered',
        'dups absorbed',
      ]);
      // The failing step's reason and failed criteria are visible on the page, under its row.
      const detail = page.locator('tr[data-step-detail="chaos:partition-kafka"]');
      expect(await detail.isVisible()).toBe(true);
      expect(await detail.textContent()).toContain('✗ no-duplicate-purchases: 2 violations');
      // None of the single-run sections that are empty for verify.
      const text = (await page.locator('main').textContent()) ?? '';
      for (const absent of ['No fault was injected', 'No time series', 'Invariants', 'Criteria met'])
        expect(text).not.toContain(absent);
      expect(await page.locator('svg.chart').count()).toBe(0);
      await page.screenshot({ path: join(verifyDir, 'screenshot.png'), fullPage: true });

      await page.click('tr[data-step="chaos:partition-kafka"] a');
      await page.waitForURL(/chaos-partition-kafka\/index\.html$/);
      expect(await page.locator('.badge').textContent()).toBe('FAIL');
      await page.close();
      expect(requests).toEqual([
        pathToFileURL(pagePath).href,
        pathToFileURL(join(verifyRoot, fixtureRunName, 'index.html')).href,
      ]);
      expect(errors).toEqual([]);
    } finally {
      if (process.env.PAYPROOF_KEEP_REPORT) console.log(`verify report kept in ${verifyRoot}`);
      else rmSync(verifyRoot, { recursive: true, force: true });
    }
  });
});
