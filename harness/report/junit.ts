// junit.xml for CI systems: one <testcase> per criterion and per invariant of result.json. A
// violated invariant or an unmet threshold is a <failure>; an invariant whose risky path was
// never exercised is <skipped> (unknown is not a pass). A run without result.json becomes one
// <error>: an interrupted run must never read as green.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatNumber, show, withUnit } from './html.ts';
import { files, loadResultOnly } from './run-data.ts';

/** Writes runDir/junit.xml; returns its path. */
export function writeJunit(runDir: string): string {
  const path = join(runDir, files.junit);
  writeFileSync(path, junitXml(runDir));
  return path;
}

export function junitXml(runDir: string): string {
  const r = loadResultOnly(runDir);
  const name = runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  if (!r) {
    return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="payproof" tests="1" failures="0" errors="1" skipped="0">
  <testsuite name="${xml(name)}" tests="1" failures="0" errors="1" skipped="0">
    <testcase classname="payproof.run" name="result.json"><error message="${xml('no result.json: the run did not finish')}"/></testcase>
  </testsuite>
</testsuites>
`;
  }
  const suite = `payproof.${r.scenario}`;
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const c of r.criteria) {
    const label = `${c.name} ${c.threshold}${c.phase && c.phase !== 'run' ? ` [${c.phase}]` : ''}`;
    const measured = c.measured === null ? 'not measured' : withUnit(c.measured, c.unit);
    let body = '';
    if (!c.pass) {
      failures++;
      body = `<failure type="threshold" message="${xml(`threshold ${c.threshold} not met: measured ${measured}`)}">${xml(`${c.name}: ${c.threshold}, measured ${measured}, phase ${c.phase ?? 'run'}`)}</failure>`;
    }
    cases.push(testcase(`${suite}.criteria`, label, body, `measured ${measured}`));
  }
  for (const i of r.invariants) {
    let body = '';
    if (i.valid === false) {
      failures++;
      const examples = i.examples
        .slice(0, 10)
        .map((e) => `  ${show(e)}`)
        .join('\n');
      body = `<failure type="invariant" message="${xml(`${i.violations} violation(s): ${i.description}`)}">${xml(`${i.name}: ${i.description}\nchecked ${formatNumber(i.checked)}, violations ${formatNumber(i.violations)}\n${examples}`)}</failure>`;
    } else if (i.valid === 'unknown') {
      skipped++;
      body = `<skipped message="${xml(`unknown: ${i.unknownReason ?? 'not exercised'}`)}"/>`;
    }
    cases.push(testcase(`${suite}.invariants`, i.name, body, `${i.description} (checked ${i.checked})`));
  }
  const tests = cases.length;
  const time = Number.isFinite(r.durationS) ? r.durationS.toFixed(3) : '0';
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="payproof" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}">
  <testsuite name="${xml(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${xml(r.startedAt)}">
    <properties>
      <property name="verdict" value="${xml(r.verdict)}"/>
      <property name="reason" value="${xml(r.reason)}"/>
      <property name="seed" value="${xml(r.seed ?? '')}"/>
      <property name="replay" value="${xml(r.replay)}"/>
    </properties>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

function testcase(classname: string, name: string, body: string, out: string): string {
  return `    <testcase classname="${xml(classname)}" name="${xml(name)}" time="0">${body}<system-out>${xml(out)}</system-out></testcase>`;
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
