// The alert rules are tested by Prometheus's own promtool (Debian package prometheus): each alert
// fires on the series it is about and stays silent on a look-alike (payproof.rules.test.yml). The
// compressed copy a chaos run loads passes the same tests compressed the same way, and the planted
// alerting bug makes them fail (so the tests can fail).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  durationS,
  plantAlertFaults,
  promDuration,
  renderRules,
  rulesTestPath,
  scaleDurations,
} from '../../harness/system/alert-rules.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const dir = join(repoRoot, 'system', 'alerts');
const scratch = mkdtempSync(join(tmpdir(), 'payproof-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(args: string[], cwd: string) {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  expect(r.error, 'promtool missing: npm run bootstrap installs Debian prometheus').toBeUndefined();
  return { out: r.stdout + r.stderr, status: r.status };
}

/** Writes rules + the test file (both scaled by `factor`) to a folder of their own and runs promtool. */
function testRules(rules: string, factor: number, name: string) {
  const d = join(scratch, name);
  spawnSync('mkdir', ['-p', d]);
  writeFileSync(join(d, 'payproof.rules.yml'), rules);
  writeFileSync(
    join(d, 'payproof.rules.test.yml'),
    scaleDurations(readFileSync(rulesTestPath, 'utf8'), factor),
  );
  return promtool(['test', 'rules', 'payproof.rules.test.yml'], d);
}

const alertNames = [
  'PayproofDeadLetterQueueGrowing',
  'PayproofEventProcessingSlow',
  'PayproofWorkerDown',
  'PayproofWorkerRestarted',
  'PayproofConstraintViolations',
  'PayproofRetriesExhausted',
  'PayproofOutboxBacklogGrowing',
  'PayproofConsumerLagGrowing',
  'PayproofDependencyDown',
  'PayproofApiUnavailable',
  'PayproofOnFallbackTransport',
];

describe('Prometheus alert rules', () => {
  it('are valid (promtool check rules)', () => {
    const r = promtool(['check', 'rules', 'payproof.rules.yml'], dir);
    expect(r.out).toContain(`SUCCESS: ${alertNames.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('every rule is tested firing and not firing (promtool test rules)', () => {
    const tests = readFileSync(rulesTestPath, 'utf8');
    for (const name of alertNames) {
      const blocks = tests.split('- eval_time:').filter((b) => b.includes(`alertname: ${name}\n`));
      expect(
        blocks.some((b) => b.includes('exp_alerts: []')),
        `${name} not firing`,
      ).toBe(true);
      expect(
        blocks.some((b) => b.includes('exp_labels')),
        `${name} firing`,
      ).toBe(true);
    }
    const r = promtool(['test', 'rules', 'payproof.rules.test.yml'], dir);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('compressed 10x for chaos runs, they pass the same tests compressed 10x', () => {
    const rules = renderRules({ timeScale: 0.1 });
    expect(rules).toContain('[30s]');
    expect(rules).not.toContain('[5m]');
    const r = testRules(rules, 0.1, 'compressed');
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('with the planted alerting bug (the outbox rule on the wrong metric), the tests fail', () => {
    const r = testRules(plantAlertFaults(renderRules(), ['alert-wrong-metric']), 1, 'planted');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('PayproofOutboxBacklogGrowing');
  });

  it('durations scale and print as Prometheus reads them', () => {
    expect(durationS('1m30s')).toBe(90);
    expect(promDuration(1.5)).toBe('1500ms');
    expect(scaleDurations('rate(x[5m:1m]) offset 10m\n    for: 1m\n', 0.1)).toBe(
      'rate(x[30s:6s]) offset 60s\n    for: 6s\n',
    );
  });
});
