// reports/index.html: every run folder, newest first, with its verdict and key figures, and the
// `reports/latest` symlink. Reads only each folder's result.json, so it stays cheap however many
// load runs with large histories the folder holds.
import {
  existsSync,
  lstatSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../run/result.ts';
import { esc, formatDuration, formatNumber, formatTime } from './html.ts';
import { files, loadResultOnly } from './run-data.ts';
import { css } from './styles.ts';

export const latestLink = 'latest';
/** `20261126-140312-<name>`: the prefix createRunFolder gives every run folder. */
const stampPrefix = /^(\d{8})-(\d{6})(?:-|$)/;

export interface RunEntry {
  readonly name: string;
  readonly dir: string;
  /** null: no result.json, the run is incomplete. */
  readonly result: RunResult | null;
  /** Milliseconds since the epoch, for ordering: startedAt, else the folder's stamp, else mtime. */
  readonly sortKey: number;
  readonly hasPage: boolean;
}

/** Run folders under reportsRoot, newest first. */
export function listRuns(reportsRoot: string): RunEntry[] {
  if (!existsSync(reportsRoot)) return [];
  const out: RunEntry[] = [];
  for (const d of readdirSync(reportsRoot, { withFileTypes: true })) {
    // `latest` is a symlink, not a directory entry of its own; dot folders are scratch space.
    if (!d.isDirectory() || d.name.startsWith('.')) continue;
    const dir = join(reportsRoot, d.name);
    const known = [files.result, files.history, files.samples].some((f) => existsSync(join(dir, f)));
    if (!known && !stampPrefix.test(d.name)) continue;
    const result = loadResultOnly(dir);
    out.push({
      name: d.name,
      dir,
      result,
      sortKey: sortKeyOf(d.name, dir, result),
      hasPage: existsSync(join(dir, files.page)),
    });
  }
  return out.sort((a, b) => b.sortKey - a.sortKey || b.name.localeCompare(a.name));
}

function sortKeyOf(name: string, dir: string, r: RunResult | null): number {
  const m = stampPrefix.exec(name);
  if (m) {
    const [d, t] = [m[1]!, m[2]!];
    const ms = Date.UTC(
      +d.slice(0, 4),
      +d.slice(4, 6) - 1,
      +d.slice(6, 8),
      +t.slice(0, 2),
      +t.slice(2, 4),
      +t.slice(4, 6),
    );
    if (Number.isFinite(ms)) return ms;
  }
  const started = r ? Date.parse(r.startedAt) : Number.NaN;
  return Number.isFinite(started) ? started : statSync(dir).mtimeMs;
}

/**
 * Writes reportsRoot/index.html and points reportsRoot/latest at the newest run that has a
 * result.json (the newest run of all while none has: a run in progress is still worth opening).
 */
export function renderIndex(reportsRoot: string): { index: string; latest: string | null } {
  const runs = listRuns(reportsRoot);
  const index = join(reportsRoot, files.page);
  writeFileSync(index, indexHtml(runs));
  const newest = runs.find((r) => r.result) ?? runs[0];
  const latest = newest ? pointLatest(reportsRoot, newest.name) : null;
  return { index, latest };
}

/** Replaces the symlink atomically (rename over it), relative so the folder can be moved. */
function pointLatest(reportsRoot: string, target: string): string {
  const link = join(reportsRoot, latestLink);
  const tmp = join(reportsRoot, `.${latestLink}-${process.pid}-${Date.now()}`);
  symlinkSync(target, tmp, 'dir');
  try {
    const st = lstatSync(link, { throwIfNoEntry: false });
    // Never clobber a real directory someone called `latest`.
    if (st && !st.isSymbolicLink()) throw new Error(`${link} exists and is not a symlink`);
    renameSync(tmp, link);
  } finally {
    rmSync(tmp, { force: true });
  }
  return link;
}

export function indexHtml(runs: readonly RunEntry[]): string {
  const counts = { PASS: 0, FAIL: 0, UNKNOWN: 0, INCOMPLETE: 0 };
  for (const r of runs) counts[r.result?.verdict ?? 'INCOMPLETE']++;
  const rows = runs.map(row).join('\n');
  const summary = (Object.entries(counts) as [keyof typeof counts, number][])
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `<span class="pill ${v}">${n} ${v}</span>`)
    .join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>payproof runs</title>
<style>${css}
.index-head { padding: 26px 0 14px; }
.index-head h1 { font-size: 22px; font-weight: 600; margin-bottom: 6px; }
td.reason { color: var(--muted); font-size: 12.5px; max-width: 380px; }
td.when { white-space: nowrap; }
table.runs td:first-child a { font-weight: 600; }
table.runs .desc code { font-size: 11.5px; color: var(--muted); }
</style>
</head>
<body>
<main class="wrap">
<div class="index-head"><h1>payproof runs</h1><p class="muted">${runs.length} run folder(s), newest first. ${summary}</p></div>
<section class="card">
${
  runs.length
    ? `<table class="data runs"><thead><tr><th>run</th><th>started</th><th class="num">duration</th><th>verdict</th><th class="num">confirm p95</th><th class="num">throughput</th><th class="num">invariants failed</th><th>reason</th></tr></thead><tbody>
${rows}
</tbody></table>`
    : '<p class="muted">No run yet. Runs write their folders here (<code>npm run chaos -- &lt;scenario&gt;</code>, <code>npm run load</code>, <code>npm run verify</code>).</p>'
}
</section>
<footer>Rebuild every page and this index with <code>npm run report</code>.</footer>
</main>
</body>
</html>
`;
}

function row(e: RunEntry): string {
  const r = e.result;
  const verdict = r?.verdict ?? 'INCOMPLETE';
  const href = `${encodeURIComponent(e.name)}/index.html`;
  const title = esc(r?.scenario ?? e.name);
  const name = `${e.hasPage ? `<a href="${esc(href)}">${title}</a>` : title}<div class="desc"><code>${esc(e.name)}</code></div>`;
  if (!r)
    return `<tr class="run" data-run="${esc(e.name)}"><td>${name}</td><td>${esc(formatTime(new Date(e.sortKey).toISOString()))}</td><td class="num">—</td><td><span class="pill INCOMPLETE">incomplete</span></td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="reason">no result.json</td></tr>`;
  const failed = r.invariants.filter((i) => i.valid === false).length;
  const unknown = r.invariants.filter((i) => i.valid === 'unknown').length;
  return `<tr class="run${verdict === 'FAIL' ? ' row-fail' : ''}" data-run="${esc(e.name)}"><td>${name}</td><td class="when">${esc(formatTime(r.startedAt || new Date(e.sortKey).toISOString()))}</td><td class="num">${esc(formatDuration(r.durationS))}</td><td><span class="pill ${esc(verdict)}">${esc(verdict)}</span></td><td class="num">${figure(r, ['confirm_p95_ms', 'confirmP95Ms', 'p95_ms'], 'ms')}</td><td class="num">${figure(r, ['throughput_rps', 'throughputRps'], 'req/s')}</td><td class="num">${r.invariants.length ? `${failed ? `<b class="t-fail">${failed}</b>` : '0'} / ${r.invariants.length}${unknown ? ` <span class="muted">(${unknown} unknown)</span>` : ''}` : '—'}</td><td class="reason">${esc(r.reason)}</td></tr>`;
}

function figure(r: RunResult, keys: readonly string[], unit: string): string {
  for (const k of keys) {
    const v = r.figures[k];
    if (typeof v === 'number') return `${esc(formatNumber(v))} <span class="muted">${esc(unit)}</span>`;
  }
  return '<span class="muted">—</span>';
}
