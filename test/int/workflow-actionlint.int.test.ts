// The example workflow (.github/workflows/payproof.yml) passes actionlint (built from the Go module
// proxy by npm run bootstrap, pinned in toolchain.json), runs the README's commands, and publishes
// the reports and junit.xml even when a step failed. A broken copy is refused: the check has teeth.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadToolchain, repoRoot, toolPaths } from '../../harness/toolchain/toolchain.ts';

const workflow = join(repoRoot, '.github', 'workflows', 'payproof.yml');
const actionlint = toolPaths().actionlint;
const scratch = mkdtempSync(join(tmpdir(), 'payproof-actionlint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A GitHub Actions expression, `${{ e }}` (built so it is not read as a JS template). */
const gh = (e: string) => ['$', '{{ ', e, ' }}'].join('');

function lint(file: string) {
  return spawnSync(actionlint, ['-no-color', '-oneline', file], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('.github/workflows/payproof.yml', () => {
  it('actionlint, at the pinned version, finds nothing', () => {
    expect(existsSync(actionlint), `${actionlint} missing: run npm run bootstrap`).toBe(true);
    const v = spawnSync(actionlint, ['-version'], { encoding: 'utf8' });
    expect(v.stdout.split('\n')[0]).toBe(`v${loadToolchain().actionlint.version}`);
    const r = lint(workflow);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('actionlint refuses a broken copy (an undefined input, an unknown action input)', () => {
    const broken = readFileSync(workflow, 'utf8')
      .replace(`FULL: ${gh('inputs.full')}`, `FULL: ${gh('inputs.ful')}`)
      .replace('if-no-files-found: warn', 'if-no-file-found: warn');
    const path = join(scratch, 'broken.yml');
    writeFileSync(path, broken);
    const r = lint(path);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/property "ful" is not defined/);
    expect(r.stdout).toMatch(
      /input "if-no-file-found" is not defined in action "actions\/upload-artifact@v4"/,
    );
  });

  it("runs the README's commands and publishes every report and junit.xml, whatever the verdict", () => {
    const text = readFileSync(workflow, 'utf8');
    for (const command of [
      'npm ci',
      'npm run bootstrap',
      'npm run typecheck',
      'npm run lint',
      'npm test',
      'npm run verify',
      'npm run load -- --profile users-1000',
    ])
      expect(text).toContain(command);
    const publish = text.slice(text.indexOf('- name: Publish the reports'));
    expect(publish).toContain(`if: ${gh('always()')}`);
    expect(publish).toContain('actions/upload-artifact@v4');
    expect(publish).toMatch(/path: \|\n\s+reports\//);
    expect(publish).toContain('path: "reports/*/junit.xml"');
    expect(publish).toContain('reporter: java-junit');
  });
});
