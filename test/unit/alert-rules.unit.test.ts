// The alert rules are tested by Prometheus's own promtool (Debian package prometheus), including
// that each alert fires on the series that should trigger it and stays silent before.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const dir = join(repoRoot, 'system', 'alerts');

describe('Prometheus alert rules', () => {
  it('are valid (promtool check rules)', () => {
    const r = spawnSync('promtool', ['check', 'rules', 'payproof.rules.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.error, 'promtool missing: npm run bootstrap installs Debian prometheus').toBeUndefined();
    expect(r.stdout + r.stderr).toContain('SUCCESS: 5 rules found');
    expect(r.status).toBe(0);
  });
  it('fire as specified: dead letters > 100, latency > 5 s, worker down, constraint violations (promtool test rules)', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'payproof.rules.test.yml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
