// npm run property: the fast-check property suite against a fresh stack, as a run folder
// (history.jsonl, result.json, junit.xml, index.html). Exit 0 only on PASS. Flags: propertyCommand.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunFolder, finalizeRun, writeResult } from '../report/run-folder.ts';
import { environment } from '../run/environment.ts';
import {
  type Criterion,
  decideVerdict,
  exitCodeFor,
  type InvariantResult,
  type RunResult,
  resultSchemaVersion,
} from '../run/result.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, parseOrExit, str, usageCheck } from './command.ts';
import { plantedFaultNames, plantedFrom, targetFrom, targetOption } from './values.ts';

export const propertyCommand: CommandSpec = {
  invocation: 'npm run property --',
  summary:
    'Runs the fast-check property suite (handler-level and model-based, optionally end-to-end through Kafka)\nagainst a fresh stack, as a run folder; or the planted-bug matrix; or replays one counterexample.',
  usage: [
    '[--runs N] [--model-runs N] [--kafka] [--faults a,b]',
    '--planted all|catalogue|matrix|a,b [--seeds N]',
    '--seed S --path P [--model [--replay-path R] | --kafka]',
  ],
  options: {
    target: targetOption,
    runs: {
      type: 'string',
      value: 'N',
      description: 'handler-level property runs (default 25)',
      number: { min: 1, integer: true },
    },
    'model-runs': {
      type: 'string',
      value: 'N',
      description: 'model-based property runs (default 20)',
      number: { min: 1, integer: true },
    },
    kafka: {
      type: 'boolean',
      description: 'also the end-to-end property through Kafka (with --seed/--path: replay one of its cases)',
    },
    faults: {
      type: 'string',
      value: 'a,b',
      description: 'plant bugs: the property is then expected to FAIL (PAYPROOF_FAULTS also works)',
      choices: plantedFaultNames,
      list: true,
    },
    planted: {
      type: 'string',
      value: 'all|a,b',
      description:
        'the planted-bug catalogue (each invariant caught through a user-visible effect) and the defense-in-depth matrix',
      choices: ['all', 'catalogue', 'matrix', ...plantedFaultNames],
      list: true,
    },
    seeds: {
      type: 'string',
      value: 'N',
      description: 'with --planted: seeds per bug',
      number: { min: 1, integer: true },
    },
    seed: {
      type: 'string',
      value: 'S',
      description: 'replay: the seed a failing run printed',
      number: { integer: true },
    },
    path: { type: 'string', value: 'P', description: 'replay: the shrink path a failing run printed' },
    model: { type: 'boolean', description: 'replay a model-based case (with --seed / --path)' },
    'replay-path': {
      type: 'string',
      value: 'R',
      description: 'with --model: the replay path a failing run printed',
    },
  },
  examples: [
    'npm run property                                  # handler-level + model-based properties',
    'npm run property -- --planted all                 # every planted bug must be caught',
    'npm run property -- --faults skip-inbox           # one planted bug: must FAIL',
    'npm run property -- --seed 1234 --path 3:1:0      # replay a counterexample',
  ],
};

const args = parseOrExit(propertyCommand);
const planted = str(args, 'planted');
const faults = usageCheck(propertyCommand, () => plantedFrom(str(args, 'faults')).join(','));
const runs = str(args, 'runs') ?? '25';
// Checked before anything runs; the test suite's global setup reads it as PAYPROOF_TARGET.
const target = usageCheck(propertyCommand, () => targetFrom(str(args, 'target')));
const name = planted ? 'property-planted' : faults ? `property-${faults.replace(/,/g, '+')}` : 'property';
const runDir = createRunFolder(name);
const startedAt = new Date();
const out = join(runDir, 'property.jsonl');

const handlersFile = 'test/property/handlers.int.test.ts';
const modelFile = 'test/property/model.int.test.ts';
const kafkaFile = 'test/property/kafka-e2e.e2e.test.ts';
const replaying = str(args, 'seed') !== undefined || str(args, 'path') !== undefined;
// A replay (--seed/--path) is one property's case: handler-level unless --model or --kafka says otherwise.
const files = planted
  ? ['test/property/planted-bugs.int.test.ts']
  : replaying
    ? [bool(args, 'model') ? modelFile : bool(args, 'kafka') ? kafkaFile : handlersFile]
    : [handlersFile, modelFile, ...(bool(args, 'kafka') ? [kafkaFile] : [])];
console.log(`payproof property suite → ${runDir}`);
const vitest = spawnSync(
  process.execPath,
  [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', ...files],
  {
    cwd: repoRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      PAYPROOF_FAULTS: planted ? '' : faults,
      ...(faults && !planted ? { PAYPROOF_ALLOW_PLANTED_FAULTS: 'yes-i-am-testing' } : {}),
      PAYPROOF_PLANTED: planted ?? '',
      ...(str(args, 'seeds') ? { PAYPROOF_PLANTED_SEEDS: str(args, 'seeds') } : {}),
      PAYPROOF_PROPERTY_RUNS: runs,
      ...(str(args, 'model-runs') ? { PAYPROOF_MODEL_RUNS: str(args, 'model-runs') } : {}),
      ...(str(args, 'replay-path') ? { PAYPROOF_MODEL_REPLAY_PATH: str(args, 'replay-path') } : {}),
      ...(str(args, 'seed') ? { PAYPROOF_PROPERTY_SEED: str(args, 'seed') } : {}),
      ...(str(args, 'path') ? { PAYPROOF_PROPERTY_PATH: str(args, 'path') } : {}),
      PAYPROOF_PROPERTY_OUT: out,
      PAYPROOF_TARGET: target.ref.text,
      PAYPROOF_PROPERTY_HISTORY: join(runDir, 'history.jsonl'),
    },
  },
);

type Line = Record<string, unknown> & { kind: string };
const lines: Line[] = existsSync(out)
  ? readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
  : [];
const criteria: Criterion[] = [];
const invariants: InvariantResult[] = [];
const figures: Record<string, number | string | null> = {};
const exercised: Record<string, number> = {};
let seed: number | null = null;
let replay = `npm run property${planted ? ` -- --planted ${planted}` : ''}`;

// The catalogue: every invariant, the planted bug (or pair) that must make it FAIL through an
// effect a user would see, and how long the property took to catch it (median over the seeds).
const plantedLines = lines.filter((x) => x.kind === 'planted');
const tableLines: string[] = [];
for (const l of plantedLines) {
  const row = String(l.row ?? l.fault);
  const invs = (l.invariants as string[]) ?? [];
  const named = invs.includes(String(l.expected));
  criteria.push({
    name: `${l.expected} caught by planted ${row} (harm: ${((l.harmBy as string[]) ?? []).join(', ') || 'none'})`,
    threshold: `FAIL naming ${l.expected} through a user-visible effect`,
    measured: l.caught ? Number(l.seconds) : null,
    pass: Boolean(l.caught) && named,
    unit: 's to catch (median)',
  });
  figures[`planted.${l.expected}.bug`] = row;
  figures[`planted.${l.expected}.seconds`] = Number(l.seconds);
  figures[`planted.${l.expected}.runs`] = String(l.runs);
  tableLines.push(
    `${String(l.expected).padEnd(26)} ${row.padEnd(44)} ${(l.caught && named ? 'FAIL (caught)' : 'NOT CAUGHT').padEnd(13)} ${String(l.seconds).padStart(6)} s  runs ${l.runs}  harm: ${((l.harmBy as string[]) ?? []).join(', ')}`,
  );
}
if (tableLines.length > 0)
  console.log(
    `\nInvariants × planted bugs (harm-only judgement, median time to catch):\n${'invariant'.padEnd(26)} ${'planted bug(s)'.padEnd(44)} ${'verdict'.padEnd(13)} time\n${tableLines.join('\n')}`,
  );

// The defense-in-depth matrix: each layer removed alone, and the pairs that matter. A layer whose
// removal alone did no harm is "absorbed by" the other layer of a pair whose removal did harm.
type MatrixLine = Line & {
  layers: string[];
  harm: boolean;
  harmBy: string[];
  flagged: string[];
  runs: number;
  seconds: number;
  coverage?: { enough: boolean; floor: number; asked: number };
};
const matrixLines = lines.filter((x) => x.kind === 'matrix') as MatrixLine[];
const matrixText: string[] = [];
for (const m of matrixLines) {
  let outcome: string;
  if (m.harm) outcome = `HARM: ${m.harmBy.join(', ')}`;
  else {
    const backers = matrixLines
      .filter((p) => p.layers.length > 1 && p.harm && m.layers.every((x) => p.layers.includes(x)))
      .flatMap((p) => p.layers.filter((x) => !m.layers.includes(x)));
    outcome = `no harm in ${m.runs} runs: absorbed${backers.length ? ` by ${[...new Set(backers)].join(', ')}` : ' (no measured pair with it did harm)'}${m.flagged.length ? `; flagged only by ${m.flagged.join(', ')} (reads the removed mechanism)` : ''}`;
  }
  const label = `${m.layers.join(' + ')} removed (${String(m.row)})`;
  criteria.push({
    name: `defense in depth: ${label} → ${outcome}`,
    threshold: m.harm
      ? 'harm caught by a user-visible invariant'
      : `absorbed only after >= ${m.coverage?.floor ?? '?'} cases`,
    measured: m.harm ? Number(m.seconds) : Number(m.runs),
    pass: m.harm ? m.harmBy.length > 0 : Boolean(m.coverage?.enough),
    unit: m.harm ? 's to harm' : 'cases',
  });
  figures[`matrix.${m.layers.join('+')}`] = outcome;
  matrixText.push(`${label.padEnd(90)} ${outcome}`);
}
if (matrixText.length > 0)
  console.log(`\nDefense in depth (layer removed → outcome):\n${matrixText.join('\n')}`);
/**
 * A time-boxed property that ran fewer cases than its floor (80% of those asked) proves less than
 * its name says: a criterion of its own, FAIL below the floor (unless it failed anyway), with the
 * count, the floor and whether the time limit interrupted it.
 */
function coverageCriterion(what: string, prefix: string, l: Line): void {
  const c = l.coverage as
    | { asked: number; ran: number; floor: number; interrupted: boolean; failed: boolean; enough: boolean }
    | undefined;
  if (!c) {
    criteria.push({ name: `${what}: cases run`, threshold: 'reported', measured: null, pass: false });
    return;
  }
  criteria.push({
    name: `${what}: cases run of ${c.asked} asked${c.interrupted ? ' (time limit hit)' : ''}`,
    threshold: `>=${c.floor}`,
    measured: c.ran,
    pass: c.enough,
    unit: 'cases',
  });
  figures[`${prefix}cases_asked`] = c.asked;
  figures[`${prefix}cases_run`] = c.ran;
  figures[`${prefix}cases_floor`] = c.floor;
  figures[`${prefix}interrupted`] = c.interrupted ? 1 : 0;
}

type Tally = {
  runs: number;
  invariants: Record<
    string,
    {
      description: string;
      true: number;
      false: number;
      unknown: number;
      checked: number;
      violations: number;
      examples: Record<string, unknown>[];
    }
  >;
  exercised: Record<string, number>;
};
/** Invariant results summed over every generated history of every property (handlers, model). */
// The replay of the first property that failed, else the handler-level one's.
let failedReplay: string | undefined;
let handlersReplay: string | undefined;
const merged = new Map<string, Tally['invariants'][string]>();
let tallyRuns = 0;
const propertyLines = lines.filter((x) => x.kind === 'handlers' || x.kind === 'model');
for (const l of propertyLines) {
  const handlers = l.kind === 'handlers';
  if (handlers || seed === null) seed = Number(l.seed);
  if (handlers) handlersReplay = String(l.replay);
  if (l.failed) failedReplay ??= String(l.replay);
  const tally = l.tally as Tally;
  criteria.push({
    name: handlers
      ? `handler-level property over ${l.numRuns} generated histories`
      : `model-based property over ${l.numRuns} generated command sequences`,
    threshold: 'no counterexample',
    measured: l.failed ? 1 : 0,
    pass: !l.failed,
    unit: 'counterexamples',
  });
  const prefix = handlers ? '' : 'model_';
  coverageCriterion(handlers ? 'handler-level property' : 'model-based property', prefix, l);
  figures[`${prefix}histories`] = Number(l.numRuns);
  figures[`${prefix}histories_per_s`] = Number((Number(l.numRuns) / Number(l.seconds)).toFixed(2));
  if (l.failed) figures[`${prefix}counterexample`] = String(l.counterexample);
  for (const [k, v] of Object.entries(tally.exercised)) exercised[k] = (exercised[k] ?? 0) + v;
  tallyRuns += tally.runs;
  for (const [n, t] of Object.entries(tally.invariants)) {
    const m = merged.get(n);
    if (!m) merged.set(n, { ...t, examples: [...t.examples] });
    else {
      for (const k of ['true', 'false', 'unknown', 'checked', 'violations'] as const) m[k] += t[k];
      m.examples.push(...t.examples.slice(0, Math.max(0, 5 - m.examples.length)));
    }
  }
}
for (const [n, t] of merged) {
  invariants.push({
    name: n,
    description: t.description,
    valid: t.false > 0 ? false : t.true > 0 ? true : 'unknown',
    violations: t.violations,
    examples: t.examples,
    checked: t.checked,
    ...(t.false === 0 && t.true === 0 ? { unknownReason: `not exercised in any of ${tallyRuns} runs` } : {}),
  });
}
for (const l of lines.filter((x) => x.kind === 'kafka')) {
  if (l.failed) failedReplay ??= String(l.replay);
  seed ??= Number(l.seed);
  criteria.push({
    name: `end-to-end property through Kafka over ${l.numRuns} generated floods`,
    threshold: 'the stack converges and no invariant is violated',
    measured: l.failed ? 1 : 0,
    pass: !l.failed,
    unit: 'counterexamples',
  });
  coverageCriterion('end-to-end property through Kafka', 'kafka_', l);
  figures.kafka_runs = Number(l.numRuns);
  figures.kafka_seconds = Number(Number(l.seconds).toFixed(1));
  if (l.failed) figures.kafka_counterexample = String(l.counterexample);
}
replay = failedReplay ?? handlersReplay ?? replay;
if (lines.length === 0)
  criteria.push({
    name: 'property suite ran',
    threshold: 'vitest exit 0 with results',
    measured: vitest.status,
    pass: false,
  });
const expectFailure = !planted && faults !== '';
let { verdict, reason } = decideVerdict(criteria, invariants);
if (expectFailure) {
  // With a planted bug the property is supposed to fail: that is the expected outcome, reported as FAIL.
  reason = `planted ${faults}: ${reason}`;
}
if (vitest.status !== 0 && verdict === 'PASS') {
  verdict = 'FAIL';
  reason = `vitest exited ${vitest.status}`;
}
const result: RunResult = {
  schemaVersion: resultSchemaVersion,
  verdict,
  reason,
  scenario: name,
  seed,
  startedAt: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
  criteria,
  invariants,
  exercised,
  plantedFaults: planted ? [planted] : faults.split(',').filter(Boolean),
  faults: [],
  figures,
  environment: { ...environment(), target: target.ref.text },
  replay,
};
writeResult(runDir, result);
const paths = finalizeRun(runDir);
console.log(`\n${verdict}: ${reason}\nreport: ${paths.page}\nindex:  ${paths.index}`);
process.exit(exitCodeFor(verdict));
