// The toolchain bootstrap: a second run is a fast no-op, and a missing piece is named, with the
// command that installs it, instead of failing somewhere later.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertToolchainReady,
  completeMarker,
  loadToolchain,
  repoRoot,
  toolPaths,
} from '../../harness/toolchain/toolchain.ts';

const bootstrapScript = join(repoRoot, 'harness', 'toolchain', 'bootstrap.ts');

interface RunResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  readonly ms: number;
}

/** `npm run bootstrap`, minus npm: the same script on the same Node. */
function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bootstrapScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, ms: performance.now() - t0 }));
  });
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('toolchain bootstrap', () => {
  it('a second bootstrap is a no-op: exits 0 in under 5 s and reports every tool as already there', async () => {
    // The first run installs whatever is missing (a no-op too once CI or a developer bootstrapped).
    const first = await bootstrap();
    expect(first.code, first.err).toBe(0);
    const second = await bootstrap();
    expect(second.code, second.err).toBe(0);
    expect(second.ms).toBeLessThan(5_000);
    const tc = loadToolchain();
    expect(second.out).toMatch(/apt: .* already installed/);
    expect(second.out).toContain(`kafka ${tc.kafka.version}: cached at`);
    expect(second.out).toContain(`toxiproxy ${tc.toxiproxy.version}: cached at`);
    expect(second.out).toContain(`actionlint ${tc.actionlint.version}: cached at`);
    // Nothing was fetched, built or installed.
    expect(second.out).not.toMatch(/apt-get|mvn|go install|installed at|built at/);
  }, 600_000);

  it('assertToolchainReady names each missing tool and its folder when the cache is empty', () => {
    const cache = tempDir('payproof-empty-cache-');
    const tc = loadToolchain();
    const paths = toolPaths(tc, { PAYPROOF_CACHE: cache });
    expect(paths.kafkaDir).toBe(join(cache, `kafka-${tc.kafka.version}`));
    expect(() => assertToolchainReady(paths)).toThrow(
      `missing: Kafka jars (${paths.kafkaDir}); Toxiproxy server (${paths.toxiproxyServer}). Run: npm run bootstrap`,
    );
  });

  it('an interrupted install (files without the completion marker) still counts as missing; a complete one is ready', () => {
    const cache = tempDir('payproof-partial-cache-');
    const paths = toolPaths(loadToolchain(), { PAYPROOF_CACHE: cache });
    mkdirSync(paths.kafkaLibs, { recursive: true });
    writeFileSync(join(paths.kafkaLibs, 'kafka_2.13.jar'), '');
    mkdirSync(paths.toxiproxyDir, { recursive: true });
    writeFileSync(join(paths.toxiproxyDir, completeMarker), 'done\n');
    expect(() => assertToolchainReady(paths)).toThrow(/missing: Kafka jars .*\. Run: npm run bootstrap$/);
    expect(() => assertToolchainReady(paths)).not.toThrow(/Toxiproxy/);
    writeFileSync(join(paths.kafkaDir, completeMarker), 'done\n');
    expect(() => assertToolchainReady(paths)).not.toThrow();
  });

  it('with an empty cache and no java, mvn or go on PATH, bootstrap fails fast naming the missing toolchain', async () => {
    const cache = tempDir('payproof-cold-cache-');
    // A PATH with a shell and nothing else: the Debian packages are found by path, java/mvn/go are not.
    const bin = tempDir('payproof-bare-path-');
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const r = await bootstrap({ ...process.env, PAYPROOF_CACHE: cache, PATH: bin });
    expect(r.code).toBe(1);
    // One error naming everything missing, and the one command that installs it (root on Debian).
    expect(r.err).toMatch(
      /FAILED: missing: java >= 17 .*; mvn .*; go .*Install: apt-get install -y openjdk-17-jre-headless maven golang; or run the services on Docker instead: --target compose/,
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeLessThan(5_000);
  });
});
