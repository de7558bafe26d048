// The pinned toolchain (toolchain.json) and where each tool lives once bootstrapped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/** Versions pinned in toolchain.json at the repository root: the one place they are set. */
export interface Toolchain {
  readonly kafka: { readonly version: string; readonly scala: string; readonly maven: readonly string[] };
  readonly toxiproxy: { readonly version: string; readonly module: string };
  readonly actionlint: { readonly version: string; readonly module: string };
  readonly apt: {
    readonly required: Readonly<Record<string, string>>;
    readonly optional: Readonly<Record<string, string>>;
  };
  readonly java: { readonly minMajor: number };
  readonly go: { readonly minVersion: string };
}

export const repoRoot = resolve(import.meta.dirname, '..', '..');

export function loadToolchain(): Toolchain {
  return JSON.parse(readFileSync(join(repoRoot, 'toolchain.json'), 'utf8')) as Toolchain;
}

/** Cache root, outside the repository so a clean clone reuses it. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.PAYPROOF_CACHE ?? join(homedir(), '.cache', 'payproof');
}

export interface ToolPaths {
  readonly kafkaDir: string;
  readonly kafkaLibs: string;
  readonly kafkaClasspath: string;
  readonly toxiproxyDir: string;
  readonly toxiproxyServer: string;
  readonly actionlintDir: string;
  readonly actionlint: string;
  readonly postgresBin: string;
  readonly redisServer: string;
}

/** The first folder of PATH holding every one of `names` (executables), or ''. */
export function onPath(names: readonly string[], path = process.env.PATH ?? ''): string {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    if (names.every((n) => existsSync(join(dir, n)))) return dir;
  }
  return '';
}

/**
 * PostgreSQL's bin folder: the highest major of the Debian layout, else a folder on the PATH with
 * both `postgres` and `initdb` (Homebrew, other distributions), else ''.
 */
export function findPostgresBin(base = '/usr/lib/postgresql', path = process.env.PATH): string {
  if (existsSync(base)) {
    const majors = readdirSync(base)
      .filter((d) => /^\d+$/.test(d) && existsSync(join(base, d, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(base, majors[0], 'bin');
  }
  return onPath(['postgres', 'initdb'], path);
}

/** redis-server: Debian's, else the one on the PATH, else Debian's path (reported missing). */
export function findRedisServer(debian = '/usr/bin/redis-server', path = process.env.PATH): string {
  if (existsSync(debian)) return debian;
  const dir = onPath(['redis-server'], path);
  return dir ? join(dir, 'redis-server') : debian;
}

export function toolPaths(tc: Toolchain = loadToolchain(), env: NodeJS.ProcessEnv = process.env): ToolPaths {
  const root = cacheRoot(env);
  const kafkaDir = join(root, `kafka-${tc.kafka.version}`);
  const kafkaLibs = join(kafkaDir, 'libs');
  const toxiproxyDir = join(root, `toxiproxy-${tc.toxiproxy.version}`);
  const actionlintDir = join(root, `actionlint-${tc.actionlint.version}`);
  return {
    actionlintDir,
    actionlint: join(actionlintDir, 'actionlint'),
    kafkaDir,
    kafkaLibs,
    kafkaClasspath: join(kafkaLibs, '*'),
    toxiproxyDir,
    toxiproxyServer: join(toxiproxyDir, 'toxiproxy-server'),
    postgresBin: findPostgresBin(),
    redisServer: findRedisServer(),
  };
}

/** A marker written last, so an interrupted install is never mistaken for a complete one. */
export const completeMarker = '.complete';

export function isComplete(dir: string): boolean {
  return existsSync(join(dir, completeMarker));
}

/** Installs what is missing (npm run bootstrap, with its progress shown) on first use. */
export function ensureToolchain(paths: ToolPaths = toolPaths()): void {
  try {
    assertToolchainReady(paths);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}: bootstrapping now\n`);
    const r = spawnSync(process.execPath, [join(import.meta.dirname, 'bootstrap.ts'), '--minimal'], {
      stdio: ['ignore', 2, 2],
    });
    if (r.status !== 0) throw new Error('toolchain bootstrap failed (see its output above)');
    assertToolchainReady(toolPaths());
  }
}

/** Throws a message naming the missing piece and the command that installs it. */
export function assertToolchainReady(paths: ToolPaths = toolPaths()): void {
  const missing: string[] = [];
  if (!paths.postgresBin)
    missing.push('PostgreSQL (Debian package postgresql, or postgres and initdb on the PATH)');
  if (!existsSync(paths.redisServer))
    missing.push('Redis (Debian package redis-server, or redis-server on the PATH)');
  if (!existsSync('/usr/bin/prometheus')) missing.push('Prometheus (Debian package prometheus)');
  if (!isComplete(paths.kafkaDir)) missing.push(`Kafka jars (${paths.kafkaDir})`);
  if (!isComplete(paths.toxiproxyDir)) missing.push(`Toxiproxy server (${paths.toxiproxyServer})`);
  if (missing.length > 0) {
    throw new Error(`toolchain not ready, missing: ${missing.join('; ')}. Run: npm run bootstrap`);
  }
}
