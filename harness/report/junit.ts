// junit.xml for CI systems: one <testsuite> per run. A single run has a `verdict` testcase (the
// run's own time; FAIL is a <failure>, UNKNOWN an <error>), then one <testcase> per criterion and
// per invariant of result.json: an unmet threshold or a violated invariant is a <failure>, an
// invariant whose risky path was never exercised is an <error> (unknown is not a pass, and most
// CI dashboards show <skipped> as green), except in a PASS run, where it can only be one the
// scenario declared it may leave unexercised (reported, not counted): <skipped>. verify writes one suite with one testcase per step (its
// wall time; FAIL <failure>, UNKNOWN or a crash <error>), never the steps' own cases again: each
// step's folder has its own junit.xml. A run without result.json becomes one <error>: an
// interrupted run must never read as green.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../run/result.ts';
import { formatNumber, show, withUnit } from './html.ts';
import { files, loadResultOnly } from './run-data.ts';
import { isVerify, verifySteps } from './verify-steps.ts';

/** Writes runDir/junit.xml; returns its path. */
export function writeJunit(runDir: string): string {
  const path = join(runDir, files.junit);
  writeFileSync(path, junitXml(runDir));
  return path;
}

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly timeS: number;
  readonly outcome?: {
    readonly kind: 'failure' | 'error' | 'skipped';
    readonly type: string;
    readonly message: string;
    readonly detail?: string;
  };
  readonly out: string;
}

export function junitXml(runDir: string): string {
  const r = loadResultOnly(runDir);
  const name = runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  if (!r) {
    return suites(name, 0, undefined, [
      {
        classname: 'payproof.run',
        name: 'result.json',
        timeS: 0,
        outcome: { kind: 'error', type: 'incomplete', message: 'no result.json: the run did not finish' },
        out: '',
      },
    ]);
  }
  return suites(`payproof.${r.scenario}`, r.durationS, r, isVerify(r) ? verifyCases(r) : runCases(r));
}

function verdictOutcome(verdict: string, message: string): Case['outcome'] {
  if (verdict === 'PASS') return undefined;
  return verdict === 'FAIL'
    ? { kind: 'failure', type: 'FAIL', message }
    : { kind: 'error', type: verdict, message };
}

function runCases(r: RunResult): Case[] {
  const suite = `payproof.${r.scenario}`;
  const cases: Case[] = [
    {
      classname: suite,
      name: 'verdict',
      timeS: r.durationS,
      outcome: verdictOutcome(r.verdict, `${r.verdict}: ${r.reason}`),
      out: `${r.verdict}: ${r.reason}\nreplay: ${r.replay}`,
    },
  ];
  for (const c of r.criteria) {
    const measured = c.measured === null ? 'not measured' : withUnit(c.measured, c.unit);
    cases.push({
      classname: `${suite}.criteria`,
      name: `${c.name} ${c.threshold}${c.phase && c.phase !== 'run' ? ` [${c.phase}]` : ''}`,
      // Judged from data already recorded: no time of its own.
      timeS: 0,
      ...(c.pass
        ? {}
        : {
            outcome: {
              kind: 'failure' as const,
              type: 'threshold',
              message: `threshold ${c.threshold} not met: measured ${measured}`,
              detail: `${c.name}: ${c.threshold}, measured ${measured}, phase ${c.phase ?? 'run'}`,
            },
          }),
      out: `measured ${measured}`,
    });
  }
  for (const i of r.invariants) {
    const examples = i.examples
      .slice(0, 10)
      .map((e) => `  ${show(e)}`)
      .join('\n');
    cases.push({
      classname: `${suite}.invariants`,
      name: i.name,
      timeS: i.durationS ?? 0,
      ...(i.valid === false
        ? {
            outcome: {
              kind: 'failure' as const,
              type: 'invariant',
              message: `${i.violations} violation(s): ${i.description}`,
              detail: `${i.name}: ${i.description}\nchecked ${formatNumber(i.checked)}, violations ${formatNumber(i.violations)}\n${examples}`,
            },
          }
        : i.valid === 'unknown'
          ? {
              // In a PASS run an unknown invariant is one the scenario declared it may leave
              // unexercised (reported, not counted): skipped. Anywhere else it is an error.
              outcome:
                r.verdict === 'PASS'
                  ? {
                      kind: 'skipped' as const,
                      type: 'unknown',
                      message: `not exercised by this scenario (reported, not counted): ${i.unknownReason ?? 'not exercised'}`,
                    }
                  : {
                      kind: 'error' as const,
                      type: 'unknown',
                      message: `UNKNOWN: ${i.unknownReason ?? 'not exercised'}`,
                    },
            }
          : {}),
      out: `${i.description} (checked ${i.checked})`,
    });
  }
  return cases;
}

function verifyCases(r: RunResult): Case[] {
  return verifySteps(r).map((st) => {
    const message = `${st.verdict}${st.reason ? `: ${st.reason}` : ''}`;
    return {
      classname: 'payproof.verify',
      name: st.name,
      timeS: st.seconds ?? 0,
      // A step that never produced a verdict (it crashed: `exit N`) is an error, like UNKNOWN.
      outcome: st.pass ? undefined : verdictOutcome(st.verdict === 'FAIL' ? 'FAIL' : 'UNKNOWN', message),
      out: [message, ...st.failed, ...(st.report ? [`report: ${st.report}`] : [])].join('\n'),
    };
  });
}

function suites(name: string, durationS: number, r: RunResult | undefined, cases: readonly Case[]): string {
  const failures = cases.filter((c) => c.outcome?.kind === 'failure').length;
  const errors = cases.filter((c) => c.outcome?.kind === 'error').length;
  const skipped = cases.filter((c) => c.outcome?.kind === 'skipped').length;
  const time = seconds(durationS);
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time}"`;
  const props = r
    ? `
    <properties>
      <property name="verdict" value="${xml(r.verdict)}"/>
      <property name="reason" value="${xml(r.reason)}"/>
      <property name="seed" value="${xml(r.seed ?? '')}"/>
      <property name="replay" value="${xml(r.replay)}"/>
    </properties>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="payproof" ${counts}>
  <testsuite name="${xml(name)}" ${counts}${r ? ` timestamp="${xml(r.startedAt)}"` : ''}>${props}
${cases.map(testcase).join('\n')}
  </testsuite>
</testsuites>
`;
}

function seconds(s: number): string {
  return Number.isFinite(s) && s >= 0 ? s.toFixed(3) : '0.000';
}

function testcase(c: Case): string {
  const o = c.outcome;
  const body = o
    ? `<${o.kind} type="${xml(o.type)}" message="${xml(o.message)}"${o.detail ? `>${xml(o.detail)}</${o.kind}>` : '/>'}`
    : '';
  return `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${seconds(c.timeS)}">${body}<system-out>${xml(c.out)}</system-out></testcase>`;
}

/** XML 1.0 escaping; characters XML cannot carry at all (control codes) are replaced. */
export function xml(value: unknown): string {
  return (
    String(value ?? '')
      .toWellFormed()
      // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 cannot carry these at all; this replaces them.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(
        /[&<>"']/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
      )
  );
}
