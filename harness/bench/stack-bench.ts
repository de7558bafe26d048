// npm run bench:stack: the stack's figures, measured in one run on this machine. Toolchain
// bootstrap cold (empty caches, everything fetched from the registries) and warm; stack start to
// ready per service, stop time and idle memory per service, each the median of several starts.
// Exits 1 when the median warm start misses its target (< 20 s).
//
//   npm run bench:stack [-- --skip-cold] [-- --starts 3]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { bool, type CommandSpec, num, parseOrExit } from '../cli/command.ts';
import { median as medianOrNone } from '../lib/median.ts';
import { sleep } from '../lib/wait-for.ts';
import { guardianPid } from '../stack/process.ts';
import { treePssKiB, treeRssKiB } from '../stack/procfs.ts';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { loadToolchain, repoRoot } from '../toolchain/toolchain.ts';

const warmStartTargetMs = 20_000;
/** How long a stack sits idle before its memory is read. */
const idleMs = 5_000;

export const stackBenchCommand: CommandSpec = {
  invocation: 'npm run bench:stack --',
  summary:
    "The stack's figures on this machine: toolchain bootstrap cold and warm, stack start to ready per\nservice, stop time and idle memory per service, each the median of several starts.",
  usage: ['[--skip-cold] [--starts N]'],
  options: {
    'skip-cold': {
      type: 'boolean',
      description: 'skip the cold bootstrap (empty caches, everything fetched again)',
    },
    starts: {
      type: 'string',
      value: 'N',
      description: 'stack starts to take the median of (default 3)',
      number: { min: 1, integer: true },
    },
  },
  examples: ['npm run bench:stack -- --skip-cold', 'npm run bench:stack -- --skip-cold --starts 5'],
  exits: '0 the median warm start meets its target (< 20 s), 1 it does not, 64 usage error',
};

const args = parseOrExit(stackBenchCommand);
const skipCold = bool(args, 'skip-cold');
const starts = num(args, 'starts', 3);

const bootstrapScript = join(repoRoot, 'harness', 'toolchain', 'bootstrap.ts');

/** Every list here has one figure per start, so never empty. */
const median = (xs: number[]) => medianOrNone(xs) ?? Number.NaN;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

function machine() {
  const memKiB = /^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '?';
  const tc = loadToolchain();
  console.log('machine');
  console.log(`  cpus:    ${availableParallelism()} x ${cpus()[0]?.model ?? 'unknown'}`);
  console.log(`  memory:  ${memKiB ? mib(Number(memKiB)) : `${Math.round(totalmem() / 2 ** 20)} MiB`}`);
  console.log(`  kernel:  ${release()}`);
  console.log(`  node:    ${process.version}; ${java}`);
  console.log(`  tools:   kafka ${tc.kafka.version}, toxiproxy ${tc.toxiproxy.version}`);
  console.log(
    `  load:    ${loadAverage()} (1/5/15 min, before the run: other work on this machine skews figures)`,
  );
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Runs the bootstrap script as `npm run bootstrap` does; resolves with its wall time. */
function timeBootstrap(env: NodeJS.ProcessEnv, label: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bootstrapScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${label} bootstrap failed (exit ${code}):\n${tail}`)),
    );
  });
}

async function bootstrapFigures() {
  console.log('\ntoolchain bootstrap');
  if (skipCold) {
    console.log('  cold:  skipped (--skip-cold)');
  } else {
    // Empty payproof cache (with its Go build cache), empty Maven local repository, empty Go
    // module cache: what a fresh machine downloads and builds. Debian packages stay installed.
    const cold = mkdtempSync(join(tmpdir(), 'payproof-bench-cold-'));
    const env = {
      ...process.env,
      PAYPROOF_CACHE: join(cold, 'payproof'),
      MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ''} -Dmaven.repo.local=${join(cold, 'm2')}`.trim(),
      GOMODCACHE: join(cold, 'gomod'),
    };
    try {
      const ms = await timeBootstrap(env, 'cold');
      console.log(
        `  cold:  ${seconds(ms)}  (empty payproof cache, Maven repository and Go module cache: Kafka jars from Maven Central, Toxiproxy built from the Go module proxy)`,
      );
    } finally {
      // The Go module cache is read-only by design: let go remove it, then remove the rest.
      spawnSync('go', ['clean', '-modcache'], { env, stdio: 'ignore' });
      rmSync(cold, { recursive: true, force: true });
    }
  }
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) warm.push(await timeBootstrap(process.env, 'warm'));
  console.log(`  warm:  ${seconds(median(warm))}  (median of 3; every tool cached)`);
}

interface StartSample {
  readonly readyMs: Record<string, number>;
  readonly stopMs: number;
  readonly rssKiB: Record<string, number>;
  readonly pssKiB: Record<string, number>;
}

async function stackSample(): Promise<StartSample> {
  const stack = await startStack({ ports: 'free' });
  const removeHandlers = stopOnSignals(() => stack.stop());
  try {
    const readyMs = { ...stack.timingsMs };
    // Idle means idle: nothing is connected after start-up; memory settles for a few seconds.
    await sleep(idleMs);
    const pids: Record<string, number> = { ...stack.pids() };
    const g = guardianPid();
    if (g !== undefined) pids.guardian = g;
    const rssKiB: Record<string, number> = {};
    const pssKiB: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      rssKiB[name] = treeRssKiB(pid);
      pssKiB[name] = treePssKiB(pid);
    }
    const t0 = performance.now();
    await stack.stop();
    const stopMs = performance.now() - t0;
    rmSync(stack.endpoints.runDir, { recursive: true, force: true });
    return { readyMs, stopMs, rssKiB, pssKiB };
  } finally {
    await stack.stop();
    removeHandlers();
  }
}

async function stackFigures(): Promise<number> {
  const samples: StartSample[] = [];
  for (let i = 0; i < starts; i++) samples.push(await stackSample());
  const services = ['toxiproxy', 'postgres', 'redis', 'kafka'];
  const each = (pick: (s: StartSample) => number) => samples.map(pick);

  console.log(
    `\nstack start to ready (ports free, migrations applied; ${starts} starts, median; services start in parallel after toxiproxy)`,
  );
  table(
    ['service', 'median', ...samples.map((_, i) => `#${i + 1}`)],
    [...services, 'total'].map((svc) => {
      const xs = each((s) => s.readyMs[svc] ?? Number.NaN);
      return [svc, seconds(median(xs)), ...xs.map(seconds)];
    }),
  );

  const stops = each((s) => s.stopMs);
  console.log('\nstack stop (orderly: SIGTERM, SIGINT for postgres; until every process has exited)');
  table(
    ['', 'median', ...stops.map((_, i) => `#${i + 1}`)],
    [['stop', seconds(median(stops)), ...stops.map(seconds)]],
  );

  console.log(
    `\nmemory at idle, ${idleMs / 1000} s after ready (process and its children; median of ${starts})`,
  );
  table(
    ['service', 'RSS', 'PSS'],
    [...services, 'guardian'].map((svc) => [
      svc,
      mib(median(each((s) => s.rssKiB[svc] ?? 0))),
      mib(median(each((s) => s.pssKiB[svc] ?? 0))),
    ]),
  );
  console.log('  (RSS counts pages shared between processes once per process; PSS splits them)');
  return median(each((s) => s.readyMs.total ?? Number.NaN));
}

machine();
await bootstrapFigures();
const totalMs = await stackFigures();
const pass = totalMs < warmStartTargetMs;
console.log(`\nload average after the run: ${loadAverage()}`);
console.log(
  `\ntarget: warm stack start < ${warmStartTargetMs / 1000} s: median ${seconds(totalMs)}: ${pass ? 'PASS' : 'FAIL'}`,
);
process.exit(pass ? 0 : 1);
