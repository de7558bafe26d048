// The toolchain bootstrap: a second run is a fast no-op, and a missing piece is named, with the
// command that installs it, instead of failing somewhere later. Beyond Debian: services are looked
// for in the pinned cache, then Debian's paths, then the PATH (fake folders of fake executables
// here, nothing installed); what is found nowhere is named in ONE error with its install command.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertToolchainReady,
  completeMarker,
  findPostgres,
  findPrometheus,
  findRedis,
  findToxiproxy,
  loadToolchain,
  missingToolsMessage,
  repoRoot,
  requirements,
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

/** Fake executables (a shell line each) in `dir`. */
function exes(dir: string, names: readonly string[], mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  for (const n of names) {
    writeFileSync(join(dir, n), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, n), mode);
  }
  return dir;
}

describe('where the native stack finds its services', () => {
  it('on the PATH (Homebrew, other distributions) when Debian has none: the first folder holding them', () => {
    const root = tempDir('payproof-root-'); // no usr/ at all: not Debian
    const brew = exes(join(tempDir('payproof-brew-'), 'bin'), ['redis-server', 'prometheus', 'promtool']);
    const pg = exes(join(tempDir('payproof-pg16-'), 'bin'), ['postgres', 'initdb', 'pg_ctl']);
    const path = ['/nonexistent', brew, pg].join(':');
    expect(findPostgres({ root, path })).toEqual({ path: pg, source: 'path' });
    expect(findRedis({ root, path })).toEqual({ path: join(brew, 'redis-server'), source: 'path' });
    expect(findPrometheus({ root, path })).toEqual({ path: join(brew, 'prometheus'), source: 'path' });
  });

  it("Debian's apt paths win over the PATH (the Debian machine keeps what it used), the highest PostgreSQL major first", () => {
    const root = tempDir('payproof-debian-');
    exes(join(root, 'usr', 'lib', 'postgresql', '15', 'bin'), ['postgres', 'initdb']);
    exes(join(root, 'usr', 'lib', 'postgresql', '17', 'bin'), ['postgres', 'initdb']);
    mkdirSync(join(root, 'usr', 'lib', 'postgresql', '18')); // a major without binaries is skipped
    exes(join(root, 'usr', 'bin'), ['redis-server', 'prometheus']);
    const path = exes(tempDir('payproof-path-'), ['postgres', 'initdb', 'redis-server', 'prometheus']);
    expect(findPostgres({ root, path })).toEqual({
      path: join(root, 'usr', 'lib', 'postgresql', '17', 'bin'),
      source: 'debian',
    });
    expect(findRedis({ root, path })?.source).toBe('debian');
    expect(findPrometheus({ root, path })).toEqual({
      path: join(root, 'usr', 'bin', 'prometheus'),
      source: 'debian',
    });
  });

  it('a file that is not executable, or postgres without initdb, is not an install', () => {
    const root = tempDir('payproof-root-');
    const half = exes(tempDir('payproof-half-'), ['postgres']);
    const noexec = exes(tempDir('payproof-noexec-'), ['redis-server', 'initdb'], 0o644);
    const path = `${half}:${noexec}`;
    expect(findPostgres({ root, path })).toBeUndefined();
    expect(findRedis({ root, path })).toBeUndefined();
    expect(findPrometheus({ root, path: '' })).toBeUndefined();
  });

  it('Toxiproxy: the pinned build in the cache first (only when complete), else toxiproxy-server on the PATH', () => {
    const cache = tempDir('payproof-cache-');
    const path = exes(tempDir('payproof-brew-'), ['toxiproxy-server']);
    exes(cache, ['toxiproxy-server']); // built but interrupted: no completion marker
    expect(findToxiproxy(cache, { path })).toEqual({ path: join(path, 'toxiproxy-server'), source: 'path' });
    writeFileSync(join(cache, completeMarker), 'done\n');
    expect(findToxiproxy(cache, { path })).toEqual({
      path: join(cache, 'toxiproxy-server'),
      source: 'cache',
    });
    expect(findToxiproxy(tempDir('payproof-empty-'), { path: '' })).toBeUndefined();
  });
});

describe('what is found nowhere: one error, one install command', () => {
  const all = [
    requirements.postgres,
    requirements.redis,
    requirements.prometheus,
    requirements.java,
    requirements.go,
  ];

  it('no apt (macOS, other distributions): names every missing piece, the brew line, and Docker instead', () => {
    const m = missingToolsMessage(all, { apt: false, root: false });
    expect(m).not.toContain('\n');
    expect(m).toMatch(
      /^missing: PostgreSQL \(postgres, initdb\); Redis \(redis-server\); Prometheus \(prometheus, promtool\); java >= 17 \(runs Kafka\); go /,
    );
    expect(m).toContain("looked for in the pinned cache, then Debian's paths, then the PATH");
    expect(m).toContain('Install: brew install postgresql@16 redis prometheus openjdk@17 go (macOS');
    expect(m).toMatch(/or run the services on Docker instead: --target compose$/);
  });

  it('Debian, not root: the apt packages with sudo; as root, without', () => {
    const two = [requirements.postgres, requirements.redis];
    expect(missingToolsMessage(two, { apt: true, root: false })).toContain(
      'Install: sudo apt-get install -y postgresql redis-server; or run the services on Docker instead: --target compose',
    );
    expect(missingToolsMessage(two, { apt: true, root: true })).toContain(
      'Install: apt-get install -y postgresql redis-server;',
    );
  });
});
