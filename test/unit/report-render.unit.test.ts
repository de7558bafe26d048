// The run page, junit.xml and the index, rendered from the fixture run folder (a FAIL run of
// chaos:partition-kafka with two faults, two violated invariants and one unknown).
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esc } from '../../harness/report/html.ts';
import { renderIndex } from '../../harness/report/index-page.ts';
import { renderRunPage } from '../../harness/report/render.ts';
import { createRunFolder, finalizeRun } from '../../harness/report/run-folder.ts';
import type { RunResult } from '../../harness/run/result.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'report-run');
const runName = '20261126-140312-chaos-partition-kafka';
const result = JSON.parse(readFileSync(join(fixture, 'result.json'), 'utf8')) as RunResult;
const samples = readFileSync(join(fixture, 'samples.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, number>);

let root: string;
let runDir: string;
let html: string;
let junit: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'payproof-report-'));
  runDir = join(root, runName);
  cpSync(fixture, runDir, { recursive: true });
  finalizeRun(runDir);
  html = readFileSync(join(runDir, 'index.html'), 'utf8');
  junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The `<tag ...>...</tag>` blocks of `html` whose opening tag matches `open` (no nesting of the same tag). */
function blocks(src: string, tag: string, open: RegExp): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}\\b[^>]*>[\\s\\S]*?</${tag}>`, 'g');
  for (const m of src.matchAll(re)) if (open.test(m[0].slice(0, m[0].indexOf('>') + 1))) out.push(m[0]);
  return out;
}

describe('run page', () => {
  it('puts the verdict and its one-line reason at the top', () => {
    const head = html.slice(0, html.indexOf('<main'));
    expect(head).toContain('data-verdict="FAIL"');
    expect(head).toContain('class="verdict v-FAIL"');
    expect(head).toContain(esc(result.reason));
    expect(result.reason).toMatch(/no-duplicate-purchases/);
  });

  it('has one criteria row per criterion, each marked PASS or FAIL as result.json says', () => {
    const rows = [...html.matchAll(/<tr class="criterion[^"]*" data-result="(PASS|FAIL)">([\s\S]*?)<\/tr>/g)];
    expect(rows).toHaveLength(result.criteria.length);
    rows.forEach((row, i) => {
      const c = result.criteria[i]!;
      expect(row[1]).toBe(c.pass ? 'PASS' : 'FAIL');
      expect(row[2]).toContain(esc(c.threshold));
      expect(row[2]).toContain(`<span class="phase">${c.phase ?? 'run'}</span>`);
      expect(row[2]).toContain(`<span class="pill ${row[1]}">${row[1]}</span>`);
    });
    expect(rows.filter((r) => r[1] === 'FAIL').length).toBe(result.criteria.filter((c) => !c.pass).length);
    // The measured value carries its unit.
    expect(html).toContain('131.7 ms');
  });

  it('shows every invariant, and the counterexample rows of the violated ones', () => {
    const rows = [...html.matchAll(/<tr class="invariant[^"]*" data-result="(PASS|FAIL|UNKNOWN)">/g)];
    expect(rows).toHaveLength(result.invariants.length);
    const failing = result.invariants.filter((i) => i.valid === false);
    expect(failing.length).toBeGreaterThanOrEqual(2);
    for (const inv of failing) {
      const start = html.indexOf(`<code>${esc(inv.name)}</code>`);
      expect(start).toBeGreaterThan(0);
      // From this invariant's row to the next invariant's row: its detail row with the examples.
      const detail = html.slice(start, html.indexOf('<tr class="invariant', start));
      const examples = detail.match(/<tr class="example">/g) ?? [];
      expect(examples).toHaveLength(Math.min(5, inv.examples.length));
      for (const e of inv.examples) {
        expect(detail).toContain(esc(String(e.expected)));
        expect(detail).toContain(esc(String(e.found)));
      }
      expect(detail).toMatch(/<th>ids<\/th><th>expected<\/th><th>found<\/th>/);
    }
    const unknown = result.invariants.find((i) => i.valid === 'unknown')!;
    expect(html).toContain(esc(unknown.unknownReason!));
  });

  it('draws the charts on one time axis with data points and one labelled band per fault on every chart', () => {
    const charts = blocks(html, 'svg', /class="chart"/);
    // throughput, latency, errors, lag, outbox, dead-letter, and the history-derived chart
    expect(charts.length).toBe(7);
    const faults = result.faults;
    expect(faults).toHaveLength(2);
    for (const svg of charts) {
      expect(svg.match(/class="fault-band"/g)).toHaveLength(faults.length);
      for (const f of faults) expect(svg).toContain(esc(f.label));
      const paths = [
        ...svg.matchAll(/<path class="series" data-series="([^"]+)" data-points="(\d+)" d="([^"]+)"/g),
      ];
      expect(paths.length).toBeGreaterThan(0);
      for (const [, , n, d] of paths) {
        expect(Number(n)).toBeGreaterThan(1);
        // Every point is a drawn vertex: one M per segment, one L per further point.
        expect((d!.match(/[ML]/g) ?? []).length).toBe(Number(n));
      }
    }
    const series = (key: string) => {
      const m = new RegExp(`data-series="${key}" data-points="(\\d+)"`).exec(html);
      return m ? Number(m[1]) : 0;
    };
    expect(series('throughput_rps')).toBe(samples.filter((s) => 'throughput_rps' in s).length);
    expect(series('throughput_rps')).toBe(120);
    for (const k of ['confirm_p50_ms', 'confirm_p95_ms', 'confirm_p99_ms'])
      expect(series(k)).toBe(samples.filter((s) => k in s).length);
    const lag = charts.find((c) => c.includes('data-chart="lag"'))!;
    expect(lag.match(/<path class="series"/g)).toHaveLength(4);
    // The cache worker's scrape gap (6 missing samples) is drawn as a gap: two segments.
    const cache = /data-series="lag_cache-worker"[^>]*d="([^"]+)"/.exec(lag)![1]!;
    expect(cache.match(/M/g)).toHaveLength(2);
    // One shared x axis: every chart ends its ticks at the same last label.
    const lastTicks = charts.map((c) => {
      const m = [
        ...c.matchAll(/<text class="tick" x="([^"]+)" y="[^"]+" text-anchor="middle">([^<]+)<\/text>/g),
      ].at(-1);
      return `${m?.[1]} ${m?.[2]}`;
    });
    expect(new Set(lastTicks)).toEqual(new Set([lastTicks[0]]));
    expect(lastTicks[0]).toMatch(/ 120 s$/);
  });

  it('shows per-phase figures, what was exercised, environment, seed, planted faults and the replay command', () => {
    expect(html).toMatch(
      /<th class="num">before<\/th><th class="num">during<\/th><th class="num">after<\/th>/,
    );
    expect(html).toContain('<code>confirm_p95_ms</code>');
    expect(html).toContain('time to recover');
    expect(html).toContain('data-key="duplicatesDelivered"');
    expect(html).toMatch(/class="kv zero" data-key="cacheReads"/);
    expect(html).toContain(esc(result.environment.kafka!));
    expect(html).toContain(String(result.seed));
    for (const p of result.plantedFaults) expect(html).toContain(`<span class="chip">${esc(p)}</span>`);
    expect(html).toContain(`<pre class="replay"><code>${esc(result.replay)}</code></pre>`);
  });

  it('summarises the history in a collapsed section: counts by op × type and every info op', () => {
    const details = blocks(html, 'details', /id="history"/)[0]!;
    expect(details.startsWith('<details class="card" id="history">')).toBe(true);
    expect(details).toMatch(
      /<td><code>confirm<\/code><\/td><td class="num">46<\/td><td class="num">40<\/td><td class="num t-fail">2<\/td><td class="num t-info">3<\/td>/,
    );
    expect(details).toContain('3 operation(s) ended as <code>info</code>');
    expect(details).toContain('First 200 operations');
    expect(details).toContain('Last 13 operations');
  });

  it('is self-contained and escapes what the data says', () => {
    for (const bad of ['http://', 'https://', 'src=', '<link', '@import', '<script', '<iframe', 'url(h'])
      expect(html.toLowerCase()).not.toContain(bad);
    // No event handler attribute in any tag (the data's markup only ever appears escaped).
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
    // Every link stays on the page (the table of contents).
    expect([...html.matchAll(/href="([^"]*)"/g)].every((m) => m[1]!.startsWith('#'))).toBe(true);
    expect([...html.matchAll(/url\(([^)]*)\)/g)].every((m) => m[1]!.startsWith('#'))).toBe(true);
    // The fixture plants markup in a counterexample and in a history error.
    expect(html).toContain('&lt;svg onload=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/@media print/);
  });
});

/**
 * A small XML well-formedness check: every `<` starts a declaration, a start/end/empty tag with
 * double-quoted attributes; text and attribute values contain only known entities; tags nest and
 * close; one root element.
 */
function checkWellFormed(xml: string): { root: string; elements: { name: string; attrs: string }[] } {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const cleanText = (t: string, where: string) => {
    if (/[<&]/.test(t.replace(entity, ''))) throw new Error(`bad character in ${where}: ${t.slice(0, 80)}`);
  };
  let s = xml.replace(/^<\?xml[^?]*\?>/, '');
  const stack: string[] = [];
  const elements: { name: string; attrs: string }[] = [];
  let root = '';
  const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"]*")*)\s*(\/?)>/;
  while (s.length) {
    const lt = s.indexOf('<');
    const text = lt < 0 ? s : s.slice(0, lt);
    cleanText(text, 'text');
    if (stack.length === 0 && text.trim()) throw new Error('text outside the root element');
    if (lt < 0) break;
    s = s.slice(lt);
    const m = tag.exec(s);
    if (!m) throw new Error(`malformed tag at: ${s.slice(0, 80)}`);
    const [all, close, name, attrs, selfClose] = m;
    for (const a of attrs!.matchAll(/="([^"]*)"/g)) cleanText(a[1]!, `attribute of <${name}>`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) {
        if (root) throw new Error('two root elements');
        root = name!;
      }
      elements.push({ name: name!, attrs: attrs! });
      if (!selfClose) stack.push(name!);
    }
    s = s.slice(all.length);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  return { root, elements };
}

describe('junit.xml', () => {
  it('is well-formed: a verdict testcase, then one per criterion and per invariant', () => {
    const { root: rootName, elements } = checkWellFormed(junit);
    expect(rootName).toBe('testsuites');
    const cases = elements.filter((e) => e.name === 'testcase');
    expect(cases).toHaveLength(1 + result.criteria.length + result.invariants.length);
    expect(cases[0]!.attrs).toContain(`name="verdict" time="${result.durationS.toFixed(3)}"`);
    // The FAIL verdict is a failure of its own; an unknown invariant is an error, never skipped.
    const failures =
      1 +
      result.criteria.filter((c) => !c.pass).length +
      result.invariants.filter((i) => i.valid === false).length;
    const errors = result.invariants.filter((i) => i.valid === 'unknown').length;
    expect(errors).toBeGreaterThan(0);
    expect(elements.filter((e) => e.name === 'failure')).toHaveLength(failures);
    expect(elements.filter((e) => e.name === 'error')).toHaveLength(errors);
    expect(elements.filter((e) => e.name === 'skipped')).toHaveLength(0);
    const suite = elements.find((e) => e.name === 'testsuite')!;
    expect(suite.attrs).toContain(`tests="${cases.length}"`);
    expect(suite.attrs).toContain(`failures="${failures}"`);
    expect(suite.attrs).toContain(`errors="${errors}"`);
    expect(junit).toContain('name="no-duplicate-purchases"');
    // The planted markup is escaped, so it parses.
    expect(junit).toContain('&lt;svg onload=alert(1)&gt;');
  });

  it('the well-formedness check itself rejects broken XML', () => {
    expect(() => checkWellFormed('<a><b></a></b>')).toThrow();
    expect(() => checkWellFormed('<a>x & y</a>')).toThrow();
    expect(() => checkWellFormed('<a x="<"/>')).toThrow();
    expect(() => checkWellFormed('<a/><b/>')).toThrow();
    expect(checkWellFormed('<?xml version="1.0"?>\n<a k="&amp;"><b/>t&lt;</a>\n').root).toBe('a');
  });
});

describe('reports index', () => {
  it('lists the run with a link to its page, and latest points at it', () => {
    const index = readFileSync(join(root, 'index.html'), 'utf8');
    expect(index).toContain(`href="${runName}/index.html"`);
    expect(index).toContain('<span class="pill FAIL">FAIL</span>');
    expect(index).toMatch(/62\.4 <span class="muted">ms<\/span>/);
    expect(readlinkSync(join(root, 'latest'))).toBe(runName);
    for (const bad of ['http://', 'https://', 'src=', '<link', '@import', '<script'])
      expect(index).not.toContain(bad);
  });

  it('lists a run without result.json as incomplete, newest first, and keeps latest on a finished run', () => {
    const later = createRunFolder('chaos:kill-worker', root, new Date('2026-11-26T15:00:00Z'));
    writeFileSync(join(later, 'samples.jsonl'), '{"t":0.5,"throughput_rps":10}\n{"t":1.5,"throughput_rps":');
    renderRunPage(later);
    const { latest } = renderIndex(root);
    const index = readFileSync(join(root, 'index.html'), 'utf8');
    const rows = [...index.matchAll(/<tr class="run[^"]*" data-run="([^"]+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(['20261126-150000-chaos-kill-worker', runName]);
    expect(index).toContain('<span class="pill INCOMPLETE">incomplete</span>');
    expect(readlinkSync(latest!)).toBe(runName);
    const page = readFileSync(join(later, 'index.html'), 'utf8');
    expect(page).toContain('data-verdict="INCOMPLETE"');
    expect(page).toContain('result.json is missing');
    expect(page).toContain('1 unreadable line(s) skipped');
  });
});
