// The page of the main job (reports/<stamp>-verify/index.html): the totals at the top, then the
// step table with the terminal's columns, each step linked to its own run page, a step that did
// not pass followed by its reason and its failed criteria and invariants. Nothing of the
// single-run page that a verify run cannot have (charts, invariants, faults, history).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunResult } from '../run/result.ts';
import { esc, formatDuration, formatNumber } from './html.ts';
import type { RunData } from './run-data.ts';
import { stepTotals, type VerifyStep, verifySteps } from './verify-steps.ts';

export function verifySections(run: RunData, r: RunResult): string[] {
  const steps = verifySteps(r);
  return [totals(r, steps), stepTable(run, steps), notRun(r)];
}

function totals(r: RunResult, steps: readonly VerifyStep[]): string {
  const t = stepTotals(steps);
  const tile = (cls: string, k: string, v: string, sub = '') =>
    `<div class="tile ${cls}"><div class="k">${esc(k)}</div><div class="v">${v}</div>${sub ? `<div class="sub">${sub}</div>` : ''}</div>`;
  const wall = steps.reduce((a, s) => a + (s.seconds ?? 0), 0);
  return `<div class="tiles" id="totals">
${tile(t.PASS === steps.length && steps.length > 0 ? 'good' : '', 'Steps passed', `${t.PASS}<small> / ${steps.length}</small>`)}
${tile(
  t.FAIL ? 'bad' : 'good',
  'Failed',
  String(t.FAIL),
  t.FAIL
    ? esc(
        steps
          .filter((s) => s.verdict === 'FAIL')
          .map((s) => s.name)
          .join(' · '),
      )
    : 'none',
)}
${tile(
  t.UNKNOWN ? 'warn' : 'good',
  'Unknown',
  String(t.UNKNOWN),
  t.UNKNOWN
    ? esc(
        steps
          .filter((s) => s.verdict !== 'PASS' && s.verdict !== 'FAIL')
          .map((s) => s.name)
          .join(' · '),
      )
    : 'none',
)}
${tile('', 'Wall time', esc(formatDuration(r.durationS)), `steps ${esc(formatDuration(wall))}`)}
</div>`;
}

const cell = (x: number | null, digits = 0) =>
  x === null ? '<span class="muted">–</span>' : esc(digits ? x.toFixed(digits) : formatNumber(Math.round(x)));

function stepTable(run: RunData, steps: readonly VerifyStep[]): string {
  const rows = steps
    .map((s) => {
      const v = s.verdict === 'PASS' || s.verdict === 'FAIL' ? s.verdict : 'UNKNOWN';
      // Relative, so the reports folder can be moved or published as a whole.
      const page = s.report ? join(relative(run.dir, s.report), 'index.html') : null;
      const name = page
        ? `<a href="${esc(page)}"${existsSync(join(run.dir, page)) ? '' : ' class="missing" title="not found next to this page"'}>${esc(s.name)}</a>`
        : `<span>${esc(s.name)}</span>`;
      const head = `<tr class="step${s.pass ? '' : v === 'FAIL' ? ' row-fail' : ' row-unknown'}" data-step="${esc(s.name)}" data-result="${v}"><td>${name}</td><td><span class="pill ${v}">${esc(s.verdict)}</span></td><td class="num">${cell(s.seconds)}</td><td class="num">${cell(s.confirmsDuring)}</td><td class="num">${cell(s.p95DuringMs)}</td><td class="num">${cell(s.recoverS, 1)}</td><td class="num">${cell(s.eventsProcessed)}</td><td class="num">${cell(s.duplicatesDelivered)}</td><td class="num">${cell(s.duplicatesAbsorbed)}</td></tr>`;
      if (s.pass) return head;
      const failed = s.failed.length
        ? `<ul class="failed">${s.failed.map((f) => `<li><code>${esc(f)}</code></li>`).join('')}</ul>`
        : '';
      return `${head}<tr class="${v === 'FAIL' ? 'row-fail' : 'row-unknown'} step-detail" data-step-detail="${esc(s.name)}"><td colspan="9" class="detail"><p class="why">${esc(s.reason ?? 'no reason recorded')}</p>${failed}</td></tr>`;
    })
    .join('');
  return `<section class="card" id="steps"><h2>Steps <span class="count">${steps.length} run, each on a fresh stack; a name opens its report</span></h2>
${steps.length ? `<table class="data steps"><thead><tr><th>step</th><th>verdict</th><th class="num">wall s</th><th class="num">confirms during</th><th class="num">p95 during ms</th><th class="num">recover s</th><th class="num">events processed</th><th class="num">dups delivered</th><th class="num">dups absorbed</th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">No step ran.</p>'}
</section>`;
}

function notRun(r: RunResult): string {
  const skipped = r.criteria.filter((c) => c.threshold !== 'PASS (exit 0)');
  return skipped.length
    ? `<div class="notice">${skipped.map((c) => `<b>${esc(c.name)}</b>`).join('<br>')}</div>`
    : '';
}
