// The compile-cache warm-up (harness/toolchain/warm-compile-cache.ts) fills Node's compile cache for
// TypeScript modules without running any of them, so that a process started afterwards reads their
// stripped source from the cache (and never loads the stripper).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemCompileCacheDir, systemModules } from '../../harness/toolchain/compile-cache.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const dir = mkdtempSync(join(tmpdir(), 'payproof-compile-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const warm = resolve(import.meta.dirname, '../../harness/toolchain/warm-compile-cache.ts');

describe('warm-compile-cache', () => {
  it('caches a module graph without running it; a later process reads the stripped source from the cache', () => {
    const cache = join(dir, 'cache');
    const ran = join(dir, 'ran.txt');
    writeFileSync(join(dir, 'dep.ts'), 'export const n: number = 2;\n');
    writeFileSync(
      join(dir, 'main.ts'),
      `import { writeFileSync } from 'node:fs';\nimport { n } from './dep.ts';\nconst at: string = ${JSON.stringify(ran)};\nwriteFileSync(at, String(n));\n`,
    );
    execFileSync(process.execPath, [warm, join(dir, 'main.ts')], {
      env: { ...process.env, NODE_COMPILE_CACHE: cache },
    });
    expect(existsSync(ran)).toBe(false);
    expect(readdirSync(cache).length).toBeGreaterThan(0);

    const later = spawnSync(process.execPath, [join(dir, 'main.ts')], {
      env: { ...process.env, NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      encoding: 'utf8',
    });
    expect(later.status).toBe(0);
    expect(readFileSync(ran, 'utf8')).toBe('2');
    for (const f of ['main.ts', 'dep.ts'])
      expect(later.stderr).toMatch(
        new RegExp(
          `retrieving transpile cache for StrippedTypeScript file://\\S*/${f.replace('.', '\\.')}\\.\\.\\.success`,
        ),
      );
  });

  it('fails, rather than run anything, when it is given nothing to cache', () => {
    expect(() => execFileSync(process.execPath, [warm], { stdio: 'ignore' })).toThrow();
  });
});

describe('the system compile cache', () => {
  it('lists every module of system/ and none of its tests', () => {
    const mods = systemModules();
    expect(mods).toContain(join(repoRoot, 'system', 'main.ts'));
    expect(mods).toContain(join(repoRoot, 'system', 'api', 'main.ts'));
    expect(mods.some((m) => m.endsWith('.test.ts'))).toBe(false);
  });

  it('is where the launcher points the system processes', () => {
    const launcher = readFileSync(join(repoRoot, 'harness', 'system', 'launcher.ts'), 'utf8');
    // The launcher names the one constant, so the two cannot drift apart.
    expect(launcher).toContain('NODE_COMPILE_CACHE: systemCompileCacheDir,');
    expect(systemCompileCacheDir).toBe(join(repoRoot, 'node_modules', '.cache', 'payproof-node-compile'));
  });
});
