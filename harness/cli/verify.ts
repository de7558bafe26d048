// npm run verify: the main job. The property suite and the planted-bug matrix, every chaos
// scenario of the catalogue, and the 1000-user load profiles, one after the other on fresh stacks,
// with a progress line per step; then one summary (reports/<stamp>-verify/) and the index.
// Exit 0 only when every step passed. Flags: verifyCommand.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioNames } from '../chaos/catalogue.ts';
import { formatTable, summaryRow } from '../chaos/summary-table.ts';
import { listProfiles } from '../load/profiles.ts';
import { createRunFolder, finalizeRun, writeResult } from '../report/run-folder.ts';
import { environment } from '../run/environment.ts';
import {
  type Criterion,
  decideVerdict,
  exitCodeFor,
  type RunResult,
  resultSchemaVersion,
} from '../run/result.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, closest, parseOrExit, str, UsageError, usageCheck } from './command.ts';

interface Step {
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
}

const quickChaos = ['partition-kafka', 'kill-worker', 'restart-kafka'];
const loadSteps = (quick: boolean, load: string | undefined) =>
  load ? [load] : quick ? ['short'] : ['users-1000', 'burst-1000'];

export const verifyCommand: CommandSpec = {
  invocation: 'npm run verify --',
  summary:
    'The main job: the property suite and the planted-bug matrix, every chaos scenario, the 1000-user loads, one\nafter the other on fresh stacks; then one summary page (reports/<stamp>-verify/) and reports/index.html.',
  usage: ['[--quick] [--load PROFILE] [--only step,...] [--verbose]', '--list [--quick]'],
  options: {
    quick: {
      type: 'boolean',
      description: 'property suite, three chaos scenarios, a short load: a first look in minutes',
    },
    load: {
      type: 'string',
      value: 'PROFILE',
      description: 'the load step runs this profile (e.g. default: 1000 users thinking ~1 s)',
      choices: listProfiles(),
    },
    mutate: {
      type: 'boolean',
      description: 'also mutation testing of system/ (npm run mutate; tens of minutes, not in CI)',
    },
    only: {
      type: 'string',
      value: 'step,...',
      description: 'just these steps (names as --list prints them)',
    },
    verbose: { type: 'boolean', description: "stream each step's output (it always goes to <step>.log too)" },
    list: { type: 'boolean', description: 'list the steps with their typical durations and exit' },
  },
  examples: [
    'npm run verify                                   # everything (~20 min on 2 cores)',
    'npm run verify -- --quick                        # a first look in a few minutes',
    'npm run verify -- --only chaos:kill-worker,load:short --verbose',
    'npm run verify -- --load default                 # the ~1000 payments/s stress profile',
    'npm run verify -- --list',
  ],
};

const args = parseOrExit(verifyCommand);
const quick = bool(args, 'quick');
const steps: Step[] = [
  { name: 'property', script: 'property.ts', args: quick ? ['--runs', '10'] : ['--runs', '30'] },
  { name: 'property:planted', script: 'property.ts', args: ['--planted', 'all'] },
  ...(quick ? quickChaos : scenarioNames()).map((s) => ({
    name: `chaos:${s}`,
    script: 'chaos.ts',
    args: [s],
  })),
  // 1000 concurrent users at the pace this machine sustains (~100 payments/s), and 1000 payments
  // fired at the same instant. `--load default` runs the ~1000 payments/s stress profile instead,
  // which needs more than 2 cores (docs/benchmarks.md).
  ...loadSteps(quick, str(args, 'load')).map((p) => ({
    name: `load:${p}`,
    script: 'load.ts',
    args: ['--profile', p],
  })),
  ...(bool(args, 'mutate') ? [{ name: 'mutate', script: 'mutate.ts', args: [] }] : []),
];
const only = str(args, 'only')?.split(',').filter(Boolean);
usageCheck(verifyCommand, () => {
  const names = steps.map((s) => s.name);
  for (const o of only ?? [])
    if (!names.includes(o)) {
      const near = closest(o, names);
      throw new UsageError(
        `--only ${o}: no such step${near ? `; did you mean ${near}?` : `; list them: npm run verify -- --list${quick ? ' --quick' : ''}`}`,
      );
    }
});
const selected = only ? steps.filter((s) => only.includes(s.name)) : steps;
if (bool(args, 'list')) {
  for (const s of steps) console.log(s.name);
  process.exit(0);
}

const dir = createRunFolder(quick ? 'verify-quick' : 'verify');
const t0 = performance.now();
const elapsed = () => {
  const s = Math.round((performance.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

/** Runs one step as its own process, its output into <verify folder>/<step>.log; returns its run folder. */
function runStep(step: Step, stop: AbortSignal): Promise<{ code: number; runDir: string | undefined }> {
  return new Promise((resolve) => {
    const log = createWriteStream(join(dir, `${step.name.replace(/[^a-z0-9-]+/gi, '_')}.log`));
    const child = spawn(process.execPath, [join(repoRoot, 'harness/cli', step.script), ...step.args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PAYPROOF_FAULTS: '' },
    });
    let runDir: string | undefined;
    const scan = (b: Buffer) => {
      log.write(b);
      for (const m of b.toString().matchAll(/(?:report|run folder):? +(\S+)/g)) {
        const p = m[1]!.replace(/\/index\.html$/, '');
        if (p.includes('/reports/')) runDir = p;
      }
    };
    child.stdout.on('data', scan);
    child.stderr.on('data', scan);
    const onAbort = () => child.kill('SIGINT');
    stop.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code) => {
      stop.removeEventListener('abort', onAbort);
      log.end();
      resolve({ code: code ?? 1, runDir });
    });
  });
}

const interrupt = new AbortController();
process.on('SIGINT', () => interrupt.abort());
process.on('SIGTERM', () => interrupt.abort());

console.log(`payproof verify${quick ? ' --quick' : ''}: ${selected.length} steps → ${dir}`);
const startedAt = new Date();
const outcomes: {
  step: Step;
  result: RunResult | undefined;
  code: number;
  seconds: number;
  runDir: string | undefined;
}[] = [];
for (const [i, step] of selected.entries()) {
  if (interrupt.signal.aborted) break;
  const s0 = performance.now();
  process.stdout.write(
    `[${elapsed()}] ${String(i + 1).padStart(2)}/${selected.length} ${step.name.padEnd(34)} `,
  );
  const { code, runDir } = await runStep(step, interrupt.signal);
  const resultPath = runDir ? join(runDir, 'result.json') : undefined;
  const result =
    resultPath && existsSync(resultPath)
      ? (JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult)
      : undefined;
  const seconds = Math.round((performance.now() - s0) / 1000);
  outcomes.push({ step, result, code, seconds, runDir });
  const tally = ['PASS', 'FAIL', 'UNKNOWN']
    .map((v) => `${outcomes.filter((o) => (o.result?.verdict ?? 'FAIL') === v).length} ${v}`)
    .join(', ');
  console.log(
    `${(result?.verdict ?? `exit ${code}`).padEnd(8)} ${String(seconds).padStart(4)} s   (so far: ${tally})`,
  );
}

const criteria: Criterion[] = outcomes.map((o) => ({
  name: o.step.name,
  threshold: 'PASS (exit 0)',
  measured: o.code,
  pass: o.code === 0 && o.result?.verdict === 'PASS',
  unit: 'exit code',
}));
const skipped = selected.length - outcomes.length;
if (skipped > 0)
  criteria.push({
    name: `${skipped} steps not run (interrupted)`,
    threshold: 'all run',
    measured: skipped,
    pass: false,
  });
const decided = decideVerdict(criteria, []);
const failed = outcomes.filter((o) => o.code !== 0);
const verdict = interrupt.signal.aborted ? 'UNKNOWN' : decided.verdict;
const reason = interrupt.signal.aborted
  ? 'interrupted (Ctrl-C)'
  : failed.length === 0
    ? `all ${outcomes.length} steps passed`
    : `${failed.length} of ${outcomes.length} steps did not pass: ${failed.map((o) => `${o.step.name} (${o.result?.verdict ?? `exit ${o.code}`})`).join(', ')}`;
const result: RunResult = {
  schemaVersion: resultSchemaVersion,
  verdict,
  reason,
  scenario: quick ? 'verify --quick' : 'verify',
  seed: null,
  startedAt: startedAt.toISOString(),
  durationS: Math.round(performance.now() - t0) / 1000,
  criteria,
  invariants: [],
  exercised: {},
  plantedFaults: [],
  faults: [],
  figures: Object.fromEntries(
    outcomes.flatMap((o) => [
      [`${o.step.name}.verdict`, o.result?.verdict ?? `exit ${o.code}`],
      [`${o.step.name}.seconds`, o.seconds],
      [`${o.step.name}.report`, o.runDir ?? null],
    ]),
  ),
  environment: environment(),
  replay: `npm run verify${quick ? ' -- --quick' : ''}`,
};
writeResult(dir, result);
const paths = finalizeRun(dir);
const rows = outcomes.filter((o) => o.result).map((o) => summaryRow(o.result!));
console.log(`\n${formatTable(rows)}\n`);
console.log(`${verdict}: ${reason}  (${elapsed()} in all)`);
console.log(`summary: ${paths.page}`);
console.log(`index:   ${paths.index}`);
process.exit(exitCodeFor(verdict));
