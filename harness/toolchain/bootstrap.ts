// npm run bootstrap: installs every external tool from package registries only (Debian, Maven
// Central, the Go module proxy), into ~/.cache/payproof, and does nothing the second time. Services
// already installed (Homebrew, other distributions) are used from the PATH (toolchain.ts: lookup
// order); what is found nowhere is named in one error with the command that installs it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bool, type CommandSpec, parseOrExit } from '../cli/command.ts';
import {
  cacheRoot,
  completeMarker,
  isComplete,
  loadToolchain,
  missingToolsMessage,
  type Platform,
  type Requirement,
  requirements,
  type Toolchain,
  toolPaths,
} from './toolchain.ts';

export const bootstrapCommand: CommandSpec = {
  invocation: 'npm run bootstrap --',
  summary:
    'Installs the pinned toolchain (toolchain.json) from package registries only: PostgreSQL, Redis, Prometheus\nand Chromium from Debian, Kafka from Maven Central, Toxiproxy and actionlint from the Go module proxy,\ninto ~/.cache/payproof (PAYPROOF_CACHE). A second run does nothing.',
  usage: ['[--minimal]'],
  options: {
    minimal: { type: 'boolean', description: 'only what a run needs (no chromium, actionlint)' },
  },
  examples: ['npm run bootstrap', 'npm run bootstrap -- --minimal'],
  exits: '0 installed (or already there), 1 an install failed, 64 usage error',
};

const t0 = performance.now();
const say = (msg: string) =>
  process.stdout.write(`[bootstrap +${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

class BootstrapError extends Error {}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command, streaming its output with a prefix so progress is visible; throws on failure. */
function run(
  label: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<void>((resolveRun, reject) => {
    say(`${label}: ${cmd} ${args.join(' ')}`);
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (buf: Buffer) => {
      const text = buf.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) process.stdout.write(`  ${label} | ${line}\n`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new BootstrapError(`${label}: cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolveRun() : reject(new BootstrapError(`${label} failed (exit ${code}):\n${tail}`)),
    );
  });
}

/** This machine as the install error needs it: apt-get (Debian's layout) and root. */
function platform(): Platform {
  return { apt: existsSync('/usr/bin/apt-get') || has('apt-get'), root: process.getuid?.() === 0 };
}

/** The services not found in the pinned cache, Debian's paths nor the PATH (toolchain.ts: lookup order). */
function missingServices(tc: Toolchain, includeOptional: boolean): string[] {
  const paths = toolPaths(tc);
  const wanted = { ...tc.apt.required, ...(includeOptional ? tc.apt.optional : {}) };
  return Object.entries(wanted)
    .filter(([pkg, path]) => {
      if (pkg === 'postgresql') return !paths.postgresBin;
      if (pkg === 'redis-server') return !existsSync(paths.redisServer);
      if (pkg === 'prometheus') return !paths.prometheus;
      return !existsSync(path);
    })
    .map(([pkg]) => pkg);
}

const serviceRequirement: Readonly<Record<string, Requirement>> = {
  postgresql: requirements.postgres,
  'redis-server': requirements.redis,
  prometheus: requirements.prometheus,
};

/** Installs the missing services with apt-get (Debian, root); elsewhere returns what is missing for one error. */
async function ensureServices(tc: Toolchain, includeOptional: boolean, p: Platform): Promise<Requirement[]> {
  const missing = missingServices(tc, includeOptional);
  if (missing.length === 0) {
    const paths = toolPaths(tc);
    const fromPath = [
      ['postgres', paths.postgresBin],
      ['redis', paths.redisServer],
      ['prometheus', paths.prometheus],
    ].filter(([s]) => paths.sources[s as 'postgres' | 'redis' | 'prometheus'] === 'path');
    say(
      'apt: postgresql, redis-server, prometheus' +
        (includeOptional ? ', chromium' : '') +
        ' already installed' +
        (fromPath.length > 0
          ? ` (from the PATH: ${fromPath.map(([s, at]) => `${s} ${at}`).join(', ')})`
          : ''),
    );
    return [];
  }
  const required = missing.filter((m) => m in tc.apt.required);
  if (!p.apt || !p.root) {
    if (required.length === 0)
      say(`apt: optional ${missing.join(', ')} not installed (not root, or no apt-get): skipped`);
    return required.map((m) => serviceRequirement[m]!);
  }
  await run('apt', 'apt-get', ['update', '-q']);
  await run('apt', 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return [];
}

/**
 * What the cached builds need and this machine lacks (java and mvn for Kafka's jars, go for
 * Toxiproxy and actionlint), checked before anything is fetched: one error names all of it.
 */
function missingBuildTools(tc: Toolchain, includeOptional: boolean): Requirement[] {
  const paths = toolPaths(tc);
  const out: Requirement[] = [];
  // Kafka runs on java even when its jars are cached.
  if (!has('java') || javaMajor() < tc.java.minMajor) out.push(requirements.java);
  if (!isComplete(paths.kafkaDir) && !has('mvn')) out.push(requirements.mvn);
  const needsGo = !paths.sources.toxiproxy || (includeOptional && !isComplete(paths.actionlintDir));
  if (needsGo && !has('go')) out.push(requirements.go);
  return out;
}

function javaMajor(): number {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out.stderr ?? '');
  if (!m) return 0;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

async function ensureKafka(tc: Toolchain) {
  const paths = toolPaths(tc);
  if (isComplete(paths.kafkaDir)) return say(`kafka ${tc.kafka.version}: cached at ${paths.kafkaDir}`);
  const staging = `${paths.kafkaDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const deps = tc.kafka.maven
    .map((coord) => {
      const [g, a, v] = coord.split(':');
      return `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
    })
    .join('\n    ');
  writeFileSync(
    join(staging, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>payproof</groupId><artifactId>kafka-runtime</artifactId><version>${tc.kafka.version}</version>
  <packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`,
  );
  await run(
    'maven',
    'mvn',
    [
      '-B',
      '-ntp',
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${join(staging, 'libs')}`,
    ],
    { cwd: staging },
  );
  writeFileSync(join(staging, completeMarker), `${new Date().toISOString()}\n`);
  rmSync(paths.kafkaDir, { recursive: true, force: true });
  renameSync(staging, paths.kafkaDir);
  say(`kafka ${tc.kafka.version}: installed at ${paths.kafkaDir}`);
}

async function ensureToxiproxy(tc: Toolchain) {
  const paths = toolPaths(tc);
  if (paths.sources.toxiproxy === 'cache')
    return say(`toxiproxy ${tc.toxiproxy.version}: cached at ${paths.toxiproxyServer}`);
  if (paths.sources.toxiproxy === 'path')
    return say(
      `toxiproxy: ${paths.toxiproxyServer} from the PATH (pinned ${tc.toxiproxy.version} not built)`,
    );
  const staging = `${paths.toxiproxyDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await run('go', 'go', ['install', '-x=false', `${tc.toxiproxy.module}@v${tc.toxiproxy.version}`], {
    cwd: staging,
    env: {
      ...process.env,
      GOBIN: staging,
      GOFLAGS: '-buildvcs=false',
      GOCACHE: join(cacheRoot(), 'go-build'),
    },
  });
  renameSync(join(staging, 'server'), join(staging, 'toxiproxy-server'));
  writeFileSync(join(staging, completeMarker), `${new Date().toISOString()}\n`);
  rmSync(paths.toxiproxyDir, { recursive: true, force: true });
  renameSync(staging, paths.toxiproxyDir);
  say(`toxiproxy ${tc.toxiproxy.version}: built at ${paths.toxiproxyServer}`);
}

/** actionlint, built from the Go module proxy like Toxiproxy: the tests check the example workflow with it. */
async function ensureActionlint(tc: Toolchain) {
  const paths = toolPaths(tc);
  if (isComplete(paths.actionlintDir))
    return say(`actionlint ${tc.actionlint.version}: cached at ${paths.actionlint}`);
  const staging = `${paths.actionlintDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await run('go', 'go', ['install', `${tc.actionlint.module}@v${tc.actionlint.version}`], {
    cwd: staging,
    env: {
      ...process.env,
      GOBIN: staging,
      GOFLAGS: '-buildvcs=false',
      GOCACHE: join(cacheRoot(), 'go-build'),
    },
  });
  writeFileSync(join(staging, completeMarker), `${new Date().toISOString()}\n`);
  rmSync(paths.actionlintDir, { recursive: true, force: true });
  renameSync(staging, paths.actionlintDir);
  say(`actionlint ${tc.actionlint.version}: built at ${paths.actionlint}`);
}

async function main() {
  const includeOptional = !bool(parseOrExit(bootstrapCommand), 'minimal');
  const tc = loadToolchain();
  mkdirSync(cacheRoot(), { recursive: true });
  say(`cache: ${cacheRoot()}`);
  const p = platform();
  // Everything missing, services and build tools alike, in one error.
  const missing = [
    ...(await ensureServices(tc, includeOptional, p)),
    ...missingBuildTools(tc, includeOptional),
  ];
  if (missing.length > 0) throw new BootstrapError(missingToolsMessage(missing, p));
  // Independent downloads: run them side by side.
  await Promise.all([
    ensureKafka(tc),
    ensureToxiproxy(tc),
    ...(includeOptional ? [ensureActionlint(tc)] : []),
  ]);
  say(`ready in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`\n[bootstrap] FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
