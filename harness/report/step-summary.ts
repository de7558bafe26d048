// The markdown summary a CI page shows (GitHub Actions' $GITHUB_STEP_SUMMARY): the verdict and its
// reason, what failed or stayed unknown, and where the report is. verify writes one table of its
// steps (its steps' own processes run without the variable, so the page is not written 22 times).
import { appendFileSync } from 'node:fs';
import type { RunResult } from '../run/result.ts';
import { formatNumber, withUnit } from './html.ts';
import { isVerify, stepTotals, verifySteps } from './verify-steps.ts';

const mark: Record<string, string> = { PASS: '✅', FAIL: '❌', UNKNOWN: '⚠️' };

/** Markdown for one run folder's result (verify: the step table). */
export function stepSummaryMarkdown(r: RunResult, page?: string): string {
  const lines = [`### ${mark[r.verdict] ?? '⚠️'} ${r.verdict}: \`${r.scenario}\``, '', md(r.reason), ''];
  if (isVerify(r)) {
    const steps = verifySteps(r);
    const t = stepTotals(steps);
    lines.push(
      `${steps.length} steps: ${t.PASS} PASS, ${t.FAIL} FAIL, ${t.UNKNOWN} UNKNOWN in ${formatNumber(r.durationS)} s`,
      '',
      '| step | verdict | wall s | confirms during | p95 during ms | recover s | events processed | dups delivered / absorbed | why |',
      '|---|---|--:|--:|--:|--:|--:|--:|---|',
      ...steps.map(
        (s) =>
          `| ${md(s.name)} | ${mark[s.verdict] ?? '⚠️'} ${md(s.verdict)} | ${n(s.seconds)} | ${n(s.confirmsDuring)} | ${n(s.p95DuringMs)} | ${n(s.recoverS)} | ${n(s.eventsProcessed)} | ${n(s.duplicatesDelivered)} / ${n(s.duplicatesAbsorbed)} | ${s.pass ? '' : md([s.reason ?? '', ...s.failed].filter(Boolean).join('; '))} |`,
      ),
    );
  } else {
    const failed = r.criteria.filter((c) => !c.pass);
    const broken = r.invariants.filter((i) => i.valid !== true);
    lines.push(
      `${r.criteria.length - failed.length}/${r.criteria.length} criteria met, ${r.invariants.length - broken.length}/${r.invariants.length} invariants hold; ${formatNumber(r.durationS)} s, seed ${r.seed ?? '—'}`,
    );
    if (failed.length || broken.length) {
      lines.push('', '| what | expected | found |', '|---|---|---|');
      for (const c of failed)
        lines.push(
          `| ❌ ${md(c.name)}${c.phase && c.phase !== 'run' ? ` [${c.phase}]` : ''} | \`${c.threshold.replace(/\|/g, '\\|')}\` | ${c.measured === null ? 'not measured' : md(withUnit(c.measured, c.unit))} |`,
        );
      for (const i of broken)
        lines.push(
          i.valid === false
            ? `| ❌ invariant ${md(i.name)} | ${md(i.description)} | ${formatNumber(i.violations)} violation(s) |`
            : `| ⚠️ invariant ${md(i.name)} | exercised | unknown: ${md(i.unknownReason ?? 'not exercised')} |`,
        );
    }
  }
  lines.push('', `Replay: \`${r.replay}\`${page ? `  \nReport: \`${page}\`` : ''}`, '');
  return `${lines.join('\n')}\n`;
}

/** Appends the summary to $GITHUB_STEP_SUMMARY when it is set; returns the file written, if any. */
export function appendStepSummary(
  r: RunResult,
  page?: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const path = env.GITHUB_STEP_SUMMARY;
  if (!path) return undefined;
  appendFileSync(path, stepSummaryMarkdown(r, page));
  return path;
}

const n = (x: number | null) => (x === null ? '–' : formatNumber(x));

/** Table-safe text: no pipes or line breaks, markup characters escaped. */
function md(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/[|<>]/g, (c) => `\\${c}`);
}
