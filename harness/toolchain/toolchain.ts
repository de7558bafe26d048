// The pinned toolchain (toolchain.json) and where each tool lives once bootstrapped.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  /** The pinned build in the cache when complete, else `toxiproxy-server` on the PATH, else the cache's path. */
  readonly toxiproxyServer: string;
  readonly actionlintDir: string;
  readonly actionlint: string;
  /** PostgreSQL's bin folder (postgres, initdb), or '' when none is found. */
  readonly postgresBin: string;
  /** redis-server, or Debian's path (reported missing) when none is found. */
  readonly redisServer: string;
  /** The prometheus executable, or '' when none is found. */
  readonly prometheus: string;
  /** Where each service executable was found (absent: not found). */
  readonly sources: Readonly<Partial<Record<'postgres' | 'redis' | 'prometheus' | 'toxiproxy', ToolSource>>>;
}

// Lookup order, for every service: the pinned cache (what `npm run bootstrap` built, Toxiproxy),
// then Debian's apt paths (what bootstrap installs on Debian, as root), then the PATH (Homebrew,
// other distributions, a hand-built install). The first that has it wins, so a Debian machine keeps
// using exactly what it used before the PATH was looked at.

/** Where executables are looked for: Debian's layout under `root` ('/'), then the folders of `path`. */
export interface Lookup {
  readonly root?: string;
  /** PATH-style, `:`-separated; the process's PATH by default. */
  readonly path?: string;
}

export type ToolSource = 'cache' | 'debian' | 'path';

export interface FoundTool {
  readonly path: string;
  readonly source: ToolSource;
}

/** The first folder of PATH holding every one of `names` (executables), or ''. */
export function onPath(names: readonly string[], path = process.env.PATH ?? ''): string {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    if (names.every((n) => isExecutable(join(dir, n)))) return dir;
  }
  return '';
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

const debianPath = (l: Lookup, ...parts: string[]) => join(l.root ?? '/', ...parts);
const pathOf = (l: Lookup) => l.path ?? process.env.PATH ?? '';

/** PostgreSQL's bin folder: the highest major of Debian's layout, else a PATH folder with postgres and initdb. */
export function findPostgres(l: Lookup = {}): FoundTool | undefined {
  const base = debianPath(l, 'usr', 'lib', 'postgresql');
  if (existsSync(base)) {
    const majors = readdirSync(base)
      .filter((d) => /^\d+$/.test(d) && isExecutable(join(base, d, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return { path: join(base, majors[0], 'bin'), source: 'debian' };
  }
  const dir = onPath(['postgres', 'initdb'], pathOf(l));
  return dir ? { path: dir, source: 'path' } : undefined;
}

/** An executable from Debian's /usr/bin, else from the PATH. */
function debianOrPath(name: string, l: Lookup): FoundTool | undefined {
  const debian = debianPath(l, 'usr', 'bin', name);
  if (isExecutable(debian)) return { path: debian, source: 'debian' };
  const dir = onPath([name], pathOf(l));
  return dir ? { path: join(dir, name), source: 'path' } : undefined;
}

export const findRedis = (l: Lookup = {}) => debianOrPath('redis-server', l);
export const findPrometheus = (l: Lookup = {}) => debianOrPath('prometheus', l);

/** Toxiproxy: the pinned build in the cache, else `toxiproxy-server` on the PATH (Homebrew's toxiproxy). */
export function findToxiproxy(cacheDir: string, l: Lookup = {}): FoundTool | undefined {
  if (isComplete(cacheDir)) return { path: join(cacheDir, 'toxiproxy-server'), source: 'cache' };
  const dir = onPath(['toxiproxy-server'], pathOf(l));
  return dir ? { path: join(dir, 'toxiproxy-server'), source: 'path' } : undefined;
}

export function toolPaths(tc: Toolchain = loadToolchain(), env: NodeJS.ProcessEnv = process.env): ToolPaths {
  const root = cacheRoot(env);
  const l: Lookup = { path: env.PATH ?? '' };
  const kafkaDir = join(root, `kafka-${tc.kafka.version}`);
  const kafkaLibs = join(kafkaDir, 'libs');
  const toxiproxyDir = join(root, `toxiproxy-${tc.toxiproxy.version}`);
  const actionlintDir = join(root, `actionlint-${tc.actionlint.version}`);
  const postgres = findPostgres(l);
  const redis = findRedis(l);
  const prometheus = findPrometheus(l);
  const toxiproxy = findToxiproxy(toxiproxyDir, l);
  return {
    actionlintDir,
    actionlint: join(actionlintDir, 'actionlint'),
    kafkaDir,
    kafkaLibs,
    kafkaClasspath: join(kafkaLibs, '*'),
    toxiproxyDir,
    toxiproxyServer: toxiproxy?.path ?? join(toxiproxyDir, 'toxiproxy-server'),
    postgresBin: postgres?.path ?? '',
    redisServer: redis?.path ?? '/usr/bin/redis-server',
    prometheus: prometheus?.path ?? '',
    sources: {
      ...(postgres ? { postgres: postgres.source } : {}),
      ...(redis ? { redis: redis.source } : {}),
      ...(prometheus ? { prometheus: prometheus.source } : {}),
      ...(toxiproxy ? { toxiproxy: toxiproxy.source } : {}),
    },
  };
}

/** Something the native stack needs that is installed from a package: what to install where. */
export interface Requirement {
  /** What it is and why it is needed, e.g. `PostgreSQL (postgres, initdb)`. */
  readonly what: string;
  readonly apt: string;
  readonly brew: string;
}

export const requirements = {
  postgres: { what: 'PostgreSQL (postgres, initdb)', apt: 'postgresql', brew: 'postgresql@16' },
  redis: { what: 'Redis (redis-server)', apt: 'redis-server', brew: 'redis' },
  prometheus: { what: 'Prometheus (prometheus, promtool)', apt: 'prometheus', brew: 'prometheus' },
  java: { what: 'java >= 17 (runs Kafka)', apt: 'openjdk-17-jre-headless', brew: 'openjdk@17' },
  mvn: { what: "mvn (fetches Kafka's jars from Maven Central)", apt: 'maven', brew: 'maven' },
  go: { what: 'go (builds Toxiproxy from the Go module proxy)', apt: 'golang', brew: 'go' },
} as const satisfies Record<string, Requirement>;

/** The machine, as far as the error needs it. */
export interface Platform {
  /** apt-get is there (Debian, Ubuntu). */
  readonly apt: boolean;
  readonly root: boolean;
}

/**
 * ONE error for everything missing: what, where it was looked for, the one command that installs it
 * here (apt on Debian, with sudo when not root; Homebrew elsewhere), or Docker instead.
 */
export function missingToolsMessage(missing: readonly Requirement[], p: Platform): string {
  const what = missing.map((m) => m.what).join('; ');
  const looked = "looked for in the pinned cache, then Debian's paths, then the PATH";
  const install = p.apt
    ? `${p.root ? '' : 'sudo '}apt-get install -y ${missing.map((m) => m.apt).join(' ')}`
    : `brew install ${missing.map((m) => m.brew).join(' ')} (macOS; elsewhere your distribution's packages), with each on the PATH (keg-only formulae: PATH="$(brew --prefix <formula>)/bin:$PATH")`;
  return `missing: ${what} (${looked}). Install: ${install}; or run the services on Docker instead: --target compose`;
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
    missing.push(`${requirements.postgres.what}: Debian package postgresql, or on the PATH`);
  if (!existsSync(paths.redisServer))
    missing.push(`${requirements.redis.what}: Debian package redis-server, or on the PATH`);
  if (!paths.prometheus)
    missing.push(`${requirements.prometheus.what}: Debian package prometheus, or on the PATH`);
  if (!isComplete(paths.kafkaDir)) missing.push(`Kafka jars (${paths.kafkaDir})`);
  if (!isComplete(paths.toxiproxyDir) && paths.sources.toxiproxy !== 'path')
    missing.push(`Toxiproxy server (${paths.toxiproxyServer})`);
  if (missing.length > 0) {
    throw new Error(`toolchain not ready, missing: ${missing.join('; ')}. Run: npm run bootstrap`);
  }
}
