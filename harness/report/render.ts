// The run page: reports/<run>/index.html, rendered only from the run folder's files (result.json,
// samples.jsonl, history.jsonl), so a report can be rebuilt from data at any time. One
// self-contained HTML file: inline CSS, charts as SVG generated here, no script, no URL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Criterion, FaultInterval, InvariantResult, RunResult } from '../run/result.ts';
import { buildPanels, type Panel } from './charts.ts';
import { historySection } from './history-summary.ts';
import { esc, formatDuration, formatNumber, formatTime, humanize, show, withUnit } from './html.ts';
import { files, loadRun, type RunData } from './run-data.ts';
import { css } from './styles.ts';
import { faultMark, faultTints, timeChart } from './svg-chart.ts';
import { verifySections } from './verify-page.ts';
import { isVerify } from './verify-steps.ts';

/** Renders runDir/index.html from the folder's files; returns the page's path. */
export function renderRunPage(runDir: string): string {
  const path = join(runDir, files.page);
  writeFileSync(path, runPageHtml(loadRun(runDir)));
  return path;
}

export function runPageHtml(run: RunData): string {
  const r = run.result;
  const verdict = r?.verdict ?? 'INCOMPLETE';
  const title = r?.scenario ?? run.name;
  const verify = r !== null && isVerify(r);
  const body = [
    verdictHeader(run),
    toc(run),
    '<main class="wrap">',
    run.problems.length
      ? `<div class="notice"><b>This run folder is not complete.</b><ul>${run.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul></div>`
      : '',
    // The main job's page: totals and the step table, none of a single run's sections.
    ...(verify ? verifySections(run, r) : []),
    r && verify ? environmentSection(r) : '',
    verify ? '' : singleRun(run, r),
    `<footer>Rendered from ${esc(files.result)}, ${esc(files.samples)} and ${esc(files.history)} of <code>${esc(run.name)}</code> by payproof. Rebuild with <code>npm run report -- reports/${esc(run.name)}</code>.</footer>`,
    '</main>',
  ].join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${esc(verdict)} · ${esc(title)} · payproof</title>
<style>${css}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The sections of one run (property, chaos, load): tiles, criteria, invariants, charts, figures... */
function singleRun(run: RunData, r: RunResult | null): string {
  return [
    r ? summaryTiles(run, r) : '',
    r ? criteriaSection(r.criteria) : '',
    r ? invariantsSection(r.invariants) : '',
    chartsSection(run),
    r ? figuresSection(r) : '',
    r ? exercisedSection(r) : '',
    r ? environmentSection(r) : '',
    `<details class="card" id="history"><summary>History <span class="muted">(${formatNumber(run.history?.length ?? 0)} operations)</span></summary>${historySection(run.history)}</details>`,
  ].join('\n');
}

function verdictHeader(run: RunData): string {
  const r = run.result;
  const verdict = r?.verdict ?? 'INCOMPLETE';
  const reason = r ? r.reason : 'No result.json: the run was interrupted or is still running.';
  const meta = r
    ? [
        `started ${formatTime(r.startedAt)}`,
        `duration ${formatDuration(r.durationS)}`,
        `seed ${r.seed ?? 'none'}`,
        `<code>${esc(run.name)}</code>`,
      ]
    : [`<code>${esc(run.name)}</code>`];
  return `<header class="verdict v-${esc(verdict)}"><div class="wrap">
<div class="badge" data-verdict="${esc(verdict)}">${esc(verdict)}</div>
<div><h1>${esc(r?.scenario ?? run.name)}</h1>
<p class="reason" id="verdict-reason">${esc(reason)}</p>
<p class="meta">${meta.map((m) => `<span>${m.startsWith('<code>') ? m : esc(m)}</span>`).join('')}</p></div>
</div></header>`;
}

function toc(run: RunData): string {
  const links: [string, string][] =
    run.result && isVerify(run.result)
      ? [
          ['totals', 'Totals'],
          ['steps', 'Steps'],
          ['environment', 'Environment & replay'],
        ]
      : run.result
        ? [
            ['criteria', 'Criteria'],
            ['invariants', 'Invariants'],
            ['timeline', 'Timeline'],
            ['figures', 'Per-phase figures'],
            ['exercised', 'Exercised'],
            ['environment', 'Environment & replay'],
            ['history', 'History'],
          ]
        : [
            ['timeline', 'Timeline'],
            ['history', 'History'],
          ];
  return `<nav class="toc"><div class="wrap">${links.map(([id, t]) => `<a href="#${id}">${t}</a>`).join('')}</div></nav>`;
}

function summaryTiles(run: RunData, r: RunResult): string {
  const cPass = r.criteria.filter((c) => c.pass).length;
  const iValid = r.invariants.filter((i) => i.valid === true).length;
  const iFail = r.invariants.filter((i) => i.valid === false).length;
  const iUnknown = r.invariants.length - iValid - iFail;
  const ops = run.history?.filter((o) => o.type !== 'invoke') ?? [];
  const fails = ops.filter((o) => o.type === 'fail').length;
  const infos = ops.filter((o) => o.type === 'info').length;
  const tile = (cls: string, k: string, v: string, sub = '') =>
    `<div class="tile ${cls}"><div class="k">${esc(k)}</div><div class="v">${v}</div>${sub ? `<div class="sub">${sub}</div>` : ''}</div>`;
  return `<div class="tiles">
${tile(cPass < r.criteria.length ? 'bad' : 'good', 'Criteria met', `${cPass}<small> / ${r.criteria.length}</small>`, r.criteria.length - cPass ? `${r.criteria.length - cPass} not met` : 'all met')}
${tile(iFail ? 'bad' : iUnknown ? 'warn' : 'good', 'Invariants valid', `${iValid}<small> / ${r.invariants.length}</small>`, [iFail ? `${iFail} violated` : '', iUnknown ? `${iUnknown} unknown` : ''].filter(Boolean).join(', ') || 'all hold')}
${tile('', 'Faults injected', String(r.faults.length), r.faults.length ? esc(r.faults.map((f) => f.label).join(' · ')) : 'none')}
${tile(fails ? 'warn' : '', 'Client operations', formatNumber(ops.length), run.history ? `${formatNumber(fails)} failed, ${formatNumber(infos)} unknown outcome` : 'no history.jsonl')}
${tile(r.plantedFaults.length ? 'warn' : '', 'Planted bugs', String(r.plantedFaults.length), r.plantedFaults.length ? esc(r.plantedFaults.join(', ')) : 'none: the real system')}
</div>`;
}

function criteriaSection(criteria: readonly Criterion[]): string {
  const failed = criteria.filter((c) => !c.pass).length;
  const rows = criteria
    .map((c) => {
      const v = c.pass ? 'PASS' : 'FAIL';
      return `<tr class="criterion${c.pass ? '' : ' row-fail'}" data-result="${v}"><td><code>${esc(c.name)}</code></td><td><code>${esc(c.threshold)}</code></td><td class="num">${c.measured === null ? '<span class="muted">not measured</span>' : esc(withUnit(c.measured, c.unit))}</td><td><span class="phase">${esc(c.phase ?? 'run')}</span></td><td><span class="pill ${v}">${v}</span></td></tr>`;
    })
    .join('');
  return `<section class="card" id="criteria"><h2>Criteria <span class="count">${criteria.length} thresholds${failed ? `, ${failed} not met` : ''}</span></h2>
${criteria.length ? `<table class="data"><thead><tr><th>criterion</th><th>threshold</th><th class="num">measured</th><th>phase</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">This run declared no thresholds.</p>'}
</section>`;
}

const validLabel = (v: InvariantResult['valid']) => (v === true ? 'PASS' : v === false ? 'FAIL' : 'UNKNOWN');

function invariantsSection(invariants: readonly InvariantResult[]): string {
  const rows = invariants
    .map((i) => {
      const v = validLabel(i.valid);
      const shown = String(i.valid);
      const head = `<tr class="invariant${i.valid === false ? ' row-fail' : i.valid === 'unknown' ? ' row-unknown' : ''}" data-result="${v}"><td><code>${esc(i.name)}</code><div class="desc">${esc(i.description)}</div></td><td><span class="pill ${v}">${esc(shown)}</span></td><td class="num">${formatNumber(i.checked)}</td><td class="num">${i.violations ? `<b>${formatNumber(i.violations)}</b>` : '0'}</td></tr>`;
      if (i.valid === true) return head;
      const why = i.unknownReason ? `<p class="why">${esc(i.unknownReason)}</p>` : '';
      return `${head}<tr class="${i.valid === false ? 'row-fail' : 'row-unknown'}"><td colspan="4" class="detail">${why}${examplesTable(i)}</td></tr>`;
    })
    .join('');
  const failed = invariants.filter((i) => i.valid === false).length;
  const unknown = invariants.filter((i) => i.valid === 'unknown').length;
  return `<section class="card" id="invariants"><h2>Invariants <span class="count">${invariants.length} checked${failed ? `, ${failed} violated` : ''}${unknown ? `, ${unknown} unknown` : ''}</span></h2>
${invariants.length ? `<table class="data"><thead><tr><th>invariant</th><th>valid</th><th class="num">checked</th><th class="num">violations</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">No invariant was checked in this run.</p>'}
</section>`;
}

/** Preferred column order for counterexamples: ids first, then what was expected and found. */
const exampleOrder = ['ids', 'id', 'expected', 'found', 'actual'];

function examplesTable(inv: InvariantResult, max = 5): string {
  if (inv.examples.length === 0)
    return inv.valid === false ? '<p class="why">No counterexample recorded.</p>' : '';
  const shown = inv.examples.slice(0, max);
  const keys = [...new Set(shown.flatMap((e) => Object.keys(e)))].sort((a, b) => rank(a) - rank(b));
  const rows = shown
    .map(
      (e) =>
        `<tr class="example">${keys.map((k) => `<td>${k in e ? esc(cellOf(e[k])) : ''}</td>`).join('')}</tr>`,
    )
    .join('');
  const more =
    inv.examples.length > max || inv.violations > inv.examples.length
      ? `<div class="more">${shown.length} of ${formatNumber(Math.max(inv.violations, inv.examples.length))} shown</div>`
      : '';
  return `<div class="examples"><table><thead><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>${more}</div>`;
}

function rank(key: string): number {
  const i = exampleOrder.indexOf(key);
  if (i >= 0) return i;
  return /id$|Id$|ids$/.test(key) ? 0.5 : exampleOrder.length;
}

function cellOf(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v))
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${show(x)}`)
      .join('  ');
  return show(v);
}

function chartsSection(run: RunData): string {
  const r = run.result;
  const faults = r?.faults ?? [];
  const panels = buildPanels(run.samples, run.history);
  const hasData = panels.some((p) => p.series.some((s) => s.points.length > 0));
  const legend = faults.length
    ? faultLegend(faults)
    : '<p class="muted">No fault was injected in this run.</p>';
  if (!hasData)
    return `<section class="card charts" id="timeline"><h2>Timeline</h2>${legend}<p class="muted">No time series recorded for this run (${esc(files.samples)} absent or empty).</p></section>`;
  // The run's own span decides the axis; history bins (wider than a sample) only when nothing else can.
  const span = (list: readonly Panel[], end: boolean) =>
    list.flatMap((p) =>
      p.series.map((s) => (end ? s.points[s.points.length - 1]?.[0] : s.points[0]?.[0]) ?? 0),
    );
  const sampled = panels.filter((p) => p.id !== 'history');
  const xMax = Math.max(
    r?.durationS ?? 0,
    ...faults.map((f) => f.endS ?? f.startS),
    ...span(sampled, true),
    ...(run.samples.length === 0 ? span(panels, true) : []),
  );
  const xMin = Math.min(0, ...span(sampled, false));
  const xDomain = [xMin, xMax > xMin ? xMax : xMin + 1] as const;
  const drawn = panels.filter((p) => p.series.some((s) => s.points.length > 0));
  const last = drawn[drawn.length - 1];
  const xTitle =
    xMax - xMin > 180 ? 'minutes:seconds since the run started' : 'seconds since the run started';
  const figures = panels
    .map((p) => panelFigure(p, xDomain, faults, p === last ? xTitle : undefined))
    .join('\n');
  return `<section class="card charts" id="timeline"><h2>Timeline <span class="count">one shared time axis; shaded: fault intervals</span></h2>
${legend}
${figures}
</section>`;
}

function faultLegend(faults: readonly FaultInterval[]): string {
  const rows = faults
    .map(
      (f, i) =>
        `<tr><td><span class="mark" style="color:${faultTints[i % faultTints.length]}">${faultMark(i)}</span></td><td><b>${esc(f.label)}</b></td><td>${esc(f.kind)}</td><td><code>${esc(f.target)}</code></td><td class="num">${formatNumber(f.startS)} s</td><td class="num">${f.endS === null ? '<b class="t-fail">never healed</b>' : `${formatNumber(f.endS)} s`}</td><td class="num">${f.endS === null ? '—' : formatDuration(f.endS - f.startS)}</td></tr>`,
    )
    .join('');
  return `<table class="data compact faults-legend"><thead><tr><th></th><th>fault</th><th>kind</th><th>target</th><th class="num">from</th><th class="num">to</th><th class="num">lasted</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function panelFigure(
  p: Panel,
  xDomain: readonly [number, number],
  faults: readonly FaultInterval[],
  xTitle: string | undefined,
): string {
  const series = p.series.filter((s) => s.points.length > 0);
  const caption = `<span class="title">${esc(p.title)}</span><span class="unit">${esc(p.unit)}</span>${p.note ? `<span class="note">${esc(p.note)}</span>` : ''}`;
  if (series.length === 0)
    return `<figure class="panel empty" data-panel="${esc(p.id)}"><figcaption>${caption}</figcaption><div class="not-recorded">not recorded in ${esc(files.samples)}</div></figure>`;
  const legend = series
    .map((s) => {
      let max = Number.NEGATIVE_INFINITY;
      for (const pt of s.points) max = Math.max(max, pt[1]);
      return `<span><i class="sw" style="background:${s.color}"></i>${esc(s.label)} <b>max ${esc(formatNumber(max))}</b></span>`;
    })
    .join('');
  const svg = timeChart({
    id: p.id,
    title: `${p.title} (${p.unit})`,
    series,
    xDomain,
    faults,
    ...(xTitle ? { xTitle } : {}),
  });
  return `<figure class="panel" data-panel="${esc(p.id)}"><figcaption>${caption}<span class="legend">${legend}</span></figcaption>${svg}</figure>`;
}

const phaseKey = /^(before|during|after)[._](.+)$/;
const recoveryKey = /recover/i;

function figuresSection(r: RunResult): string {
  const phased = new Map<string, Partial<Record<'before' | 'during' | 'after', number | string | null>>>();
  const other: [string, number | string | null][] = [];
  for (const [k, v] of Object.entries(r.figures)) {
    const m = phaseKey.exec(k);
    if (m) {
      const row = phased.get(m[2]!) ?? {};
      row[m[1] as 'before' | 'during' | 'after'] = v;
      phased.set(m[2]!, row);
    } else other.push([k, v]);
  }
  const recovery = other.filter(([k]) => recoveryKey.test(k));
  const rest = other.filter(([k]) => !recoveryKey.test(k));
  const cell = (v: number | string | null | undefined, key: string) =>
    v === undefined
      ? '<span class="muted">—</span>'
      : esc(typeof v === 'number' ? withUnit(v, unitFromKey(key)) : show(v));
  const phaseTable = phased.size
    ? `<table class="data"><thead><tr><th>figure</th><th class="num">before</th><th class="num">during</th><th class="num">after</th></tr></thead><tbody>${[
        ...phased,
      ]
        .map(
          ([k, row]) =>
            `<tr><td><code>${esc(k)}</code></td><td class="num">${cell(row.before, k)}</td><td class="num">${cell(row.during, k)}</td><td class="num">${cell(row.after, k)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="muted">No per-phase figures recorded (figures named <code>before.&lt;metric&gt;</code>, <code>during.&lt;metric&gt;</code>, <code>after.&lt;metric&gt;</code>).</p>';
  const kv = (list: [string, number | string | null][]) =>
    `<div class="grid-kv">${list.map(([k, v]) => `<div class="kv"><div class="k">${esc(humanize(k.replace(unitSuffix, '')))}</div><div class="v">${cell(v, k)}</div></div>`).join('')}</div>`;
  return `<section class="card" id="figures"><h2>Per-phase figures</h2>
${phaseTable}
${recovery.length ? `<h4>Recovery</h4>${kv(recovery)}` : ''}
${rest.length ? `<h4>Other figures</h4>${kv(rest)}` : ''}
</section>`;
}

const unitSuffix = /(_ms|Ms|_s|S|_rps|Rps|_pct|Pct|_mb|Mb|MB)$/;

/** Unit of a figure from its name's suffix (`confirm_p95_ms`, `recoveryS`, `api_rss_mb`). */
function unitFromKey(key: string): string | undefined {
  if (/(_ms|Ms)$/.test(key)) return 'ms';
  if (/(_s|S)$/.test(key)) return 's';
  if (/(_rps|Rps)$/.test(key)) return 'req/s';
  if (/(_pct|Pct)$/.test(key)) return '%';
  if (/(_mb|Mb|MB)$/.test(key)) return 'MB';
  return undefined;
}

/** Known counters first, in the order a reader checks them. */
const exercisedOrder = [
  'paymentsCreated',
  'paymentsConfirmed',
  'duplicatesDelivered',
  'outOfOrderDeliveries',
  'idempotencyHits',
  'domainConflicts',
  'retriesAfterTransientError',
  'rebalances',
  'restarts',
  'deadLettered',
  'cacheReads',
];

function exercisedSection(r: RunResult): string {
  const entries = Object.entries(r.exercised).filter((e): e is [string, number] => typeof e[1] === 'number');
  const pos = (k: string) => {
    const i = exercisedOrder.indexOf(k);
    return i < 0 ? exercisedOrder.length : i;
  };
  entries.sort((a, b) => pos(a[0]) - pos(b[0]) || a[0].localeCompare(b[0]));
  const body = entries.length
    ? `<div class="grid-kv">${entries.map(([k, v]) => `<div class="kv${v === 0 ? ' zero' : ''}" data-key="${esc(k)}"><div class="k">${esc(humanize(k))}</div><div class="v">${formatNumber(v)}</div></div>`).join('')}</div>`
    : '<p class="muted">The run recorded nothing about what it exercised.</p>';
  return `<section class="card" id="exercised"><h2>What the run exercised <span class="count">a risky path never taken leaves its invariant unproven</span></h2>${body}</section>`;
}

function environmentSection(r: RunResult): string {
  const env = Object.entries(r.environment);
  const envTable = env.length
    ? `<table class="data compact env"><tbody>${env.map(([k, v]) => `<tr><td>${esc(k)}</td><td><code>${esc(v)}</code></td></tr>`).join('')}</tbody></table>`
    : '<p class="muted">No environment recorded.</p>';
  const planted = r.plantedFaults.length
    ? `<div class="chips">${r.plantedFaults.map((p) => `<span class="chip">${esc(p)}</span>`).join('')}</div>`
    : '<p class="muted">None: this run tested the system as shipped.</p>';
  return `<section class="card" id="environment"><h2>Environment &amp; replay</h2>
<div class="two-col"><div>${envTable}</div><div>
<h4 style="margin-top:0">Seed</h4><p><code>${esc(r.seed ?? 'none')}</code></p>
<h4>Planted bugs (<code>PAYPROOF_FAULTS</code>)</h4>${planted}
<h4>Replay this run</h4>${r.replay ? `<pre class="replay"><code>${esc(r.replay)}</code></pre>` : '<p class="muted">No replay command recorded.</p>'}
</div></div>
</section>`;
}
