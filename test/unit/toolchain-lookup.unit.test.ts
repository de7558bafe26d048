// Native bootstrap beyond Debian: services are looked for in the pinned cache, then Debian's paths,
// then the PATH (fake folders of fake executables here, nothing installed); what is found nowhere is
// named in ONE error with the command that installs it on this kind of machine.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  completeMarker,
  findPostgres,
  findPrometheus,
  findRedis,
  findToxiproxy,
  missingToolsMessage,
  requirements,
} from '../../harness/toolchain/toolchain.ts';

const temps: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
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
