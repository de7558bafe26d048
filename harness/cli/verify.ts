// npm run verify: the main job. The property suite and the planted-bug matrix, every chaos
// scenario of the catalogue, and the 1000-user load profiles, one after the other on fresh stacks,
// with a live progress line (ETA from the steps' typical durations); then one summary
// (reports/<stamp>-verify/) and the index. Exit 0 only when every step passed.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue, scenarioNames } from '../chaos/catalogue.ts';
import { needsOf } from '../chaos/scenario.ts';
import { formatTable, summaryRow } from '../chaos/summary-table.ts';
import { listProfiles } from '../load/profiles.ts';
import { listRuns } from '../report/index-page.ts';
import { createRunFolder, defaultReportsRoot, finalizeRun, writeResult } from '../report/run-folder.ts';
import { isVerify, stepFields } from '../report/verify-steps.ts';
import { environment } from '../run/environment.ts';
import {
  type Criterion,
  decideVerdict,
  exitCodeFor,
  type RunResult,
  resultSchemaVersion,
} from '../run/result.ts';
import type { TargetProvider } from '../target/target.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, closest, type Parsed, runCommand, str, UsageError } from './command.ts';
import { about, clock, Progress } from './progress.ts';
import { targetFrom, targetOption } from './values.ts';

interface Step {
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
}

const quickChaos = ['partition-kafka', 'kill-worker', 'restart-kafka'];

export const verifyCommand: CommandSpec = {
  invocation: 'npm run verify --',
  summary:
    'The main job: the property suite and the planted-bug matrix, every chaos scenario, the 1000-user loads, one\nafter the other on fresh stacks; then one summary page (reports/<stamp>-verify/) and reports/index.html.',
  usage: [
    '[--quick] [--load PROFILE] [--only step,...] [--verbose] [--mutate] [--target TARGET]',
    '--list [--quick]',
  ],
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
    target: targetOption,
  },
  examples: [
    'npm run verify                                   # everything (~20 min on 2 cores)',
    'npm run verify -- --quick                        # a first look in a few minutes',
    'npm run verify -- --only chaos:kill-worker,load:short --verbose',
    'npm run verify -- --load default                 # the ~1000 payments/s stress profile',
    'npm run verify -- --list',
    'npm run verify -- --mutate                       # plus mutation testing of system/',
    'npm run verify -- --quick --target external:deploy.json   # every step against a running deployment',
  ],
};

/** What the target decides about the chaos steps. */
export interface ChaosSelection {
  /** Scenarios of another shape of target (the cluster scenarios on one broker): not run, listed. */
  readonly skip?: ReadonlySet<string>;
  /** Added to the quick selection (kill-leader on a cluster). */
  readonly quick?: readonly string[];
}

/**
 * Scenarios that need a cluster (`brokers`) run only on a target that has one; on one broker they
 * would only say UNKNOWN. Every other scenario a target cannot perform still runs and says UNKNOWN
 * with the reason (never a silent skip).
 */
export async function chaosSelection(target: TargetProvider): Promise<ChaosSelection> {
  const cluster = (await loadCatalogue()).filter((s) => needsOf(s).has('brokers')).map((s) => s.name);
  return target.lacks.brokers === undefined ? { quick: ['kill-leader'] } : { skip: new Set(cluster) };
}

/** The steps of a verify run, in order. */
export function verifySteps(
  quick: boolean,
  load: string | undefined,
  mutate = false,
  chaos: ChaosSelection = {},
): Step[] {
  return [
    { name: 'property', script: 'property.ts', args: quick ? ['--runs', '10'] : ['--runs', '30'] },
    { name: 'property:planted', script: 'property.ts', args: ['--planted', 'all'] },
    ...(quick ? [...quickChaos, ...(chaos.quick ?? [])] : scenarioNames())
      .filter((s) => !chaos.skip?.has(s))
      .map((s) => ({
        name: `chaos:${s}`,
        script: 'chaos.ts',
        args: [s],
      })),
    // 1000 concurrent users at the pace this machine sustains (~310 payments/s), and 1000 payments
    // fired at the same instant. `--load default` runs the ~1000 payments/s stress profile instead,
    // which needs more than 2 cores (docs/benchmarks.md).
    ...(load ? [load] : quick ? ['short'] : ['users-1000', 'burst-1000']).map((p) => ({
      name: `load:${p}`,
      script: 'load.ts',
      args: ['--profile', p],
    })),
    ...(mutate ? [{ name: 'mutate', script: 'mutate.ts', args: [] }] : []),
  ];
}

/**
 * Seconds a step usually takes: from the newest verify run under reports/ that ran it, else from
 * the measured catalogue (docs/chaos.md: chaos scenarios 51-67 s, users-1000 87 s, burst-1000 15 s).
 */
export function typicalSeconds(
  steps: readonly Step[],
  previous: readonly RunResult[] = previousVerifyResults(),
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of steps) {
    const seen = previous
      .map((r) => r.figures[`${s.name}.${stepFields.seconds}`])
      .find((v): v is number => typeof v === 'number' && v > 0);
    const kind = s.name.split(':')[0]!;
    const dflt =
      s.name === 'property:planted'
        ? 60
        : kind === 'property'
          ? 90
          : kind === 'chaos'
            ? 55
            : s.name === 'load:burst-1000'
              ? 20
              : s.name === 'load:short'
                ? 55
                : 90;
    out.set(s.name, seen ?? dflt);
  }
  return out;
}

function previousVerifyResults(): RunResult[] {
  return listRuns(defaultReportsRoot)
    .filter((r) => r.result && isVerify(r.result))
    .map((r) => r.result!)
    .slice(0, 5);
}

/** The status line: elapsed, step i/n, its name, its time against its typical time, ETA, tally. */
export function verifyStatus(a: {
  readonly elapsedS: number;
  readonly index: number;
  readonly total: number;
  readonly step: string;
  readonly stepS: number;
  readonly typicalS: number;
  readonly remainingTypicalS: number;
  readonly tally: string;
}): string {
  // The current step is counted as its typical time, or as what it has taken if that is longer.
  const etaS = Math.max(a.typicalS, a.stepS) - a.stepS + a.remainingTypicalS;
  return `[${clock(a.elapsedS)}] ${a.index}/${a.total} ${a.step}  ${Math.round(a.stepS)} s (typ. ${Math.round(a.typicalS)} s)  ETA ${about(etaS)}${a.tally ? `  so far: ${a.tally}` : ''}`;
}

async function main(args: Parsed): Promise<number> {
  const quick = bool(args, 'quick');
  // Checked (and, for external:<file>, read) before anything runs; every step gets it as PAYPROOF_TARGET.
  const target = targetFrom(str(args, 'target'));
  const chaos = await chaosSelection(target);
  const steps = verifySteps(quick, str(args, 'load'), bool(args, 'mutate'), chaos);
  const only = str(args, 'only')?.split(',').filter(Boolean);
  const names = steps.map((s) => s.name);
  for (const o of only ?? [])
    if (!names.includes(o)) {
      const near = closest(o, names);
      throw new UsageError(
        `--only ${o}: no such step${near ? `; did you mean ${near}?` : `; list them: npm run verify -- --list${quick ? ' --quick' : ''}`}`,
      );
    }
  const selected = only ? steps.filter((s) => only.includes(s.name)) : steps;
  const typical = typicalSeconds(selected);
  if (bool(args, 'list')) {
    for (const s of steps) console.log(`${s.name.padEnd(34)} ${about(typical.get(s.name) ?? 0)}`);
    return 0;
  }
  const verbose = bool(args, 'verbose');
  if (chaos.skip?.size && !quick)
    console.log(
      `cluster scenarios not run on ${target.ref.text} (one broker): ${[...chaos.skip].join(', ')}; npm run verify -- --target native-cluster runs them`,
    );
  const dir = createRunFolder(quick ? 'verify-quick' : 'verify');
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  const progress = new Progress({ stream: process.stdout });

  const interrupt = new AbortController();
  process.on('SIGINT', () => interrupt.abort());
  process.on('SIGTERM', () => interrupt.abort());

  const logName = (step: Step) => `${step.name.replace(/[^a-z0-9-]+/gi, '_')}.log`;
  /** Runs one step as its own process, its output into <verify folder>/<step>.log; returns its run folder. */
  const runStep = (step: Step, stop: AbortSignal): Promise<{ code: number; runDir: string | undefined }> =>
    new Promise((resolve) => {
      const log = createWriteStream(join(dir, logName(step)));
      const { GITHUB_STEP_SUMMARY: _, ...env } = process.env;
      const child = spawn(process.execPath, [join(repoRoot, 'harness/cli', step.script), ...step.args], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Each step's own summary stays out of the CI page: verify writes one table of them all.
        env: { ...env, PAYPROOF_FAULTS: '', PAYPROOF_PROGRESS: 'plain', PAYPROOF_TARGET: target.ref.text },
      });
      let runDir: string | undefined;
      let partial = '';
      const scan = (b: Buffer) => {
        log.write(b);
        for (const m of b.toString().matchAll(/(?:report|run folder):? +(\S+)/g)) {
          const p = m[1]!.replace(/\/index\.html$/, '');
          if (p.includes('/reports/')) runDir = p;
        }
        if (verbose) {
          const lines = (partial + b.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) progress.log(`  ${step.name} | ${l}`);
        }
      };
      child.stdout.on('data', scan);
      child.stderr.on('data', scan);
      const onAbort = () => child.kill('SIGINT');
      stop.addEventListener('abort', onAbort, { once: true });
      child.on('close', (code) => {
        stop.removeEventListener('abort', onAbort);
        if (verbose && partial) progress.log(`  ${step.name} | ${partial}`);
        log.end();
        resolve({ code: code ?? 1, runDir });
      });
    });

  console.log(
    `payproof verify${quick ? ' --quick' : ''}: ${selected.length} steps, typically ${about([...typical.values()].reduce((a, b) => a + b, 0))} → ${dir}`,
  );
  const startedAt = new Date();
  const outcomes: {
    step: Step;
    result: RunResult | undefined;
    code: number;
    seconds: number;
    runDir: string | undefined;
  }[] = [];
  const tally = () =>
    (['PASS', 'FAIL', 'UNKNOWN'] as const)
      .map((v) => [v, outcomes.filter((o) => (o.result?.verdict ?? 'UNKNOWN') === v).length] as const)
      .filter(([, n]) => n > 0)
      .map(([v, n]) => `${n} ${v}`)
      .join(', ');
  for (const [i, step] of selected.entries()) {
    if (interrupt.signal.aborted) break;
    const s0 = performance.now();
    const remainingTypicalS = selected.slice(i + 1).reduce((a, s) => a + (typical.get(s.name) ?? 0), 0);
    const status = () =>
      verifyStatus({
        elapsedS: elapsedS(),
        index: i + 1,
        total: selected.length,
        step: step.name,
        stepS: (performance.now() - s0) / 1000,
        typicalS: typical.get(step.name) ?? 0,
        remainingTypicalS,
        tally: tally(),
      });
    progress.update(status(), step.name);
    const timer = setInterval(() => progress.update(status(), step.name), 1_000);
    const { code, runDir } = await runStep(step, interrupt.signal);
    clearInterval(timer);
    const resultPath = runDir ? join(runDir, 'result.json') : undefined;
    const result =
      resultPath && existsSync(resultPath)
        ? (JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult)
        : undefined;
    const seconds = Math.round((performance.now() - s0) / 1000);
    outcomes.push({ step, result, code, seconds, runDir });
    progress.log(
      `[${clock(elapsedS())}] ${String(i + 1).padStart(2)}/${selected.length} ${step.name.padEnd(34)} ${(result?.verdict ?? `exit ${code}`).padEnd(8)} ${String(seconds).padStart(4)} s${result && result.verdict !== 'PASS' ? `  ${result.reason}` : ''}`,
    );
  }
  progress.done();

  /** What the verify page, its junit.xml and the CI summary show of a step (harness/report/verify-steps.ts). */
  const stepFigures = (o: (typeof outcomes)[number]): Record<string, number | string | null> => {
    const r = o.result;
    const row = r ? summaryRow(r) : undefined;
    const failed = r
      ? [
          ...r.criteria
            .filter((c) => !c.pass)
            .map(
              (c) =>
                `✗ ${c.name} ${c.threshold}: measured ${c.measured}${c.phase && c.phase !== 'run' ? ` [${c.phase}]` : ''}`,
            ),
          ...r.invariants
            .filter((i) => i.valid !== true)
            .map((i) =>
              i.valid === false
                ? `✗ ${i.name}: ${i.violations} violations`
                : `? ${i.name}: ${i.unknownReason ?? 'unknown'}`,
            ),
        ]
      : [];
    const values: Record<keyof typeof stepFields, number | string | null> = {
      verdict: r?.verdict ?? `exit ${o.code}`,
      seconds: o.seconds,
      reason: r?.reason ?? `no result.json (exit ${o.code}); see ${logName(o.step)}`,
      failed: failed.slice(0, 8).join('\n'),
      report: o.runDir ?? null,
      confirmsDuring: row?.duringConfirms ?? null,
      p95DuringMs: row?.duringConfirmP95Ms ?? null,
      recoverS: row?.timeToRecoverS ?? null,
      eventsProcessed: row?.eventsProcessed ?? null,
      duplicatesDelivered: row?.duplicatesDelivered ?? null,
      duplicatesAbsorbed: row?.duplicatesAbsorbed ?? null,
    };
    return Object.fromEntries(
      Object.entries(values).map(([k, v]) => [
        `${o.step.name}.${stepFields[k as keyof typeof stepFields]}`,
        v,
      ]),
    );
  };

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
  // A step that ended UNKNOWN (or without a verdict) and none FAIL: the whole is UNKNOWN.
  const verdict = interrupt.signal.aborted
    ? 'UNKNOWN'
    : failed.some((o) => o.result?.verdict === 'FAIL')
      ? 'FAIL'
      : failed.length > 0
        ? 'UNKNOWN'
        : decided.verdict;
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
    figures: Object.fromEntries(outcomes.flatMap((o) => Object.entries(stepFigures(o)))),
    environment: { ...environment(), target: target.ref.text },
    replay: `npm run verify${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  };
  writeResult(dir, result);
  const paths = finalizeRun(dir);
  const rows = outcomes.filter((o) => o.result).map((o) => summaryRow(o.result!));
  console.log(`\n${formatTable(rows)}\n`);
  console.log(`${verdict}: ${reason}  (${clock(elapsedS())} in all)`);
  console.log(`summary: ${paths.page}`);
  console.log(`index:   ${paths.index}`);
  return exitCodeFor(verdict);
}

if (import.meta.main) await runCommand(verifyCommand, main);
