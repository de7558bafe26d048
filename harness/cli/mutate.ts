// npm run mutate: mutation testing of system/ with StrykerJS (issue 12). Stryker mutates the files,
// runs the tests that cover each mutant (per-test coverage, incremental: a second run re-tests only
// what changed) against one stack, and the run folder gets Stryker's HTML report (mutation.html),
// its JSON (mutation.json) and result.json with the score per file. Not part of CI (tens of minutes
// on 2 cores); `npm run verify -- --mutate` runs it as a step.
//   --files a,b        files to mutate (default: API, relay, consumer framework, inbox, four handlers)
//   --tests a,b        test files that kill mutants (default: the properties and the int tests that
//                      drive the real code)
//   --runs N           cases of each property per test run (default 3, fixed seed)
//   --concurrency N    test runners (default 4: the relay's tests mostly wait on timers; a fresh run
//                      took 60 min 27 s with three runners, 53 min 23 s with four)
//   --goal P           mutation score goal in percent (default 85)
//   --fresh            ignore the incremental file (test/mutation/stryker-incremental.json)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createScratchTemplate, dropScratchTemplate } from '../checker/scratch-database.ts';
import { createRunFolder, finalizeRun, writeResult } from '../report/run-folder.ts';
import { environment } from '../run/environment.ts';
import {
  type Criterion,
  decideVerdict,
  exitCodeFor,
  type RunResult,
  resultSchemaVersion,
} from '../run/result.ts';
import { type Endpoints, startStack } from '../stack/stack.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, parseOrExit, str } from './command.ts';

/** The files issue 12 names: the API, the relay, the consumer framework, the inbox, the four handlers. */
export const defaultMutated = [
  'system/api/payments.ts',
  'system/relay/relay.ts',
  'system/lib/consumer.ts',
  'system/lib/inbox.ts',
  'system/workers/purchase/handler.ts',
  'system/workers/allocation/handler.ts',
  'system/workers/session/handler.ts',
  'system/workers/cache/handler.ts',
];

export const defaultTests = [
  'test/property/handlers.int.test.ts',
  'test/property/model.int.test.ts',
  'test/int/api-inputs.int.test.ts',
  'test/int/api-group-commit.int.test.ts',
  'test/int/set-based-chunks.int.test.ts',
  'test/int/topup.int.test.ts',
  'test/unit/handlers-guard.unit.test.ts',
  'test/int/relay-loop.int.test.ts',
  'test/int/consumer-loop.int.test.ts',
  // The Redis Streams fallback (watchKafka, the breaker's transport, relayToStreamsOnce,
  // sendToKafka's re-publication) and the stream consumer: ~40 mutants had no covering test.
  'test/int/fallback-relay.int.test.ts',
  'test/int/fallback-consumer.int.test.ts',
  // Bounded retries (isLogicalTransient, retries_exhausted) and the OffsetCommitter's re-queue.
  'test/int/bounded-retries.int.test.ts',
  'test/unit/offset-committer.unit.test.ts',
  // The purchase and allocation handlers' own rules, called directly (no inbox in front).
  'test/int/handler-rules.int.test.ts',
  // The consumer framework and the relay seen from outside (metrics, attempts, invalidations,
  // the active transport, backlog gauges), and the consumer's pure pieces.
  'test/unit/consumer-logic.unit.test.ts',
  'test/int/consumer-chunk.int.test.ts',
  'test/int/relay-observed.int.test.ts',
  'test/int/api-observed.int.test.ts',
  'test/int/consumer-retries.int.test.ts',
  // batchHandler when the batch stops being ours, a non-transient error outside the handler, the
  // lag gauge and per-event time, logical retries, the replay's contended event, the per-event log line.
  'test/int/consumer-batch-edges.int.test.ts',
  // The relay's backlog probe per transport (runRelay's idle check).
  'test/int/relay-backlog-probe.int.test.ts',
  // A refused send: the breaker told how Kafka answered; no producer to renew, the loop goes on.
  'test/int/relay-cycle-failures.int.test.ts',
  // The relay's line per published event (its part of an event's trace).
  'test/int/relay-event-lines.int.test.ts',
  // Two confirmations of one capture in flight (the webhook's unique-violation answer), forced by a
  // transaction the test holds open; a payment_failed webhook's counters; the 403's message.
  'test/int/webhook-race.int.test.ts',
];

export const mutateCommand: CommandSpec = {
  invocation: 'npm run mutate --',
  summary:
    'Mutation testing of system/ with StrykerJS: mutants run against the tests that cover them on one stack;\nthe run folder gets mutation.html, mutation.json and result.json with the score per file.',
  usage: ['[--files a,b] [--tests a,b] [--runs N] [--concurrency N] [--goal P] [--fresh]'],
  options: {
    files: {
      type: 'string',
      value: 'a,b',
      description: 'files to mutate (default: API, relay, consumer framework, inbox, four handlers)',
    },
    tests: {
      type: 'string',
      value: 'a,b',
      description: 'test files that kill mutants (default: the properties and the int tests)',
    },
    runs: {
      type: 'string',
      value: 'N',
      description: 'cases of each property per test run (default 3, fixed seed)',
      number: { min: 1, integer: true },
    },
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'test runners (default 4)',
      number: { min: 1, integer: true },
    },
    goal: {
      type: 'string',
      value: 'P',
      description: 'mutation score goal in percent (default 85)',
      number: { min: 0, max: 100 },
    },
    fresh: {
      type: 'boolean',
      description: 'ignore the incremental file (test/mutation/stryker-incremental.json, committed)',
    },
  },
  examples: [
    'npm run mutate',
    'npm run mutate -- --files system/relay/relay.ts --fresh',
    'npm run verify -- --mutate',
  ],
};

const args = parseOrExit(mutateCommand);
/** Stryker's incremental report: per mutant its status and the tests that covered and killed it. */
const incrementalFile = 'test/mutation/stryker-incremental.json';
const files = (str(args, 'files') ?? defaultMutated.join(',')).split(',').filter(Boolean);
const tests = (str(args, 'tests') ?? defaultTests.join(',')).split(',').filter(Boolean);
const goal = Number(str(args, 'goal') ?? 85);
const runDir = createRunFolder('mutate');
const startedAt = new Date();
console.log(
  `payproof mutation testing → ${runDir}\n  mutate: ${files.join(', ')}\n  tests:  ${tests.join(', ')}`,
);

// One stack for every test run Stryker makes (the tests attach to it).
let stop: (() => Promise<void>) | undefined;
let attach = process.env.PAYPROOF_ATTACH;
if (!attach) {
  const stack = await startStack({ ports: 'free', onProgress: (l) => console.log(`[stack] ${l}`) });
  stop = () => stack.stop();
  attach = join(runDir, 'stack.json');
  writeFileSync(attach, JSON.stringify({ endpoints: stack.endpoints }, null, 2));
}
// One migrated template for every test run's scratch databases: Stryker re-runs each test file's
// setup for every mutant, and migrating a fresh template there cost 3 to 5 s per file per mutant.
// The properties' reusable copies of it (`<template>_r<n>`, reset between cases and kept from one
// mutant to the next: scratchDatabases `reuse`) are dropped with it.
const serverUrl = (JSON.parse(readFileSync(attach, 'utf8')) as { endpoints: Endpoints }).endpoints.direct
  .databaseUrl;
const template = await createScratchTemplate(serverUrl);
Object.assign(process.env, {
  PAYPROOF_SCRATCH_TEMPLATE: template,
  PAYPROOF_ATTACH: attach,
  PAYPROOF_MUTATION_TESTS: tests.join(','),
  PAYPROOF_PROPERTY_RUNS: str(args, 'runs') ?? '3',
  PAYPROOF_MODEL_RUNS: str(args, 'runs') ?? '3',
  PAYPROOF_PROPERTY_SEED: process.env.PAYPROOF_PROPERTY_SEED ?? '20261130',
  PAYPROOF_PROPERTY_END_ON_FAILURE: '1',
  // The integration tests' waits (test/support/until.ts) end after 10 s, not 20-60: a mutant that stops
  // a condition from ever holding is killed that much sooner. The slowest wait of an unmutated run
  // took 3.7 s on a quiet machine, and the dry run must pass under the same cap.
  PAYPROOF_WAIT_CAP_MS: process.env.PAYPROOF_WAIT_CAP_MS ?? '10000',
  PAYPROOF_FAULTS: '',
});

const { Stryker } = await import('@stryker-mutator/core');
const t0 = performance.now();
let error: Error | undefined;
try {
  await new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner', join(repoRoot, 'test/mutation/log-ignorer.ts')],
    ignorers: ['log-lines'],
    vitest: { configFile: 'test/mutation/vitest.mutation.config.ts', related: false },
    coverageAnalysis: 'perTest',
    mutate: files,
    incremental: true,
    force: bool(args, 'fresh'),
    // Committed, so that a run on a fresh clone re-tests only the mutants whose code or tests changed.
    incrementalFile: join(repoRoot, incrementalFile),
    concurrency: Number(str(args, 'concurrency') ?? 4),
    timeoutMS: 10_000,
    reporters: ['html', 'json', 'clear-text', 'progress'],
    htmlReporter: { fileName: relative(repoRoot, join(runDir, 'mutation.html')) },
    jsonReporter: { fileName: relative(repoRoot, join(runDir, 'mutation.json')) },
    tempDirName: '.stryker-tmp',
    ignorePatterns: ['.runs', 'reports', '.stryker-tmp', 'docs', incrementalFile],
    cleanTempDir: true,
  }).runMutationTest();
} catch (err) {
  error = err as Error;
  console.error(`[mutate] ${error.stack ?? error.message}`);
} finally {
  await dropScratchTemplate(serverUrl, template).catch(() => {});
  await stop?.();
}
const seconds = (performance.now() - t0) / 1000;

// Score per file from Stryker's JSON report (mutation-testing-report-schema):
// (killed + timeout) / (killed + timeout + survived + no coverage). Shown with two decimals, rounded
// down: 249 of 293 is 84.98%, which one decimal would print as 85 next to "not met".
const percent = (part: number, whole: number) => Math.floor((10_000 * part) / whole) / 100;
type Mutant = { status: string; mutatorName: string; location: { start: { line: number } } };
const report = existsSync(join(runDir, 'mutation.json'))
  ? (JSON.parse(readFileSync(join(runDir, 'mutation.json'), 'utf8')) as {
      files: Record<string, { mutants: Mutant[] }>;
    })
  : undefined;
const criteria: Criterion[] = [];
const figures: Record<string, number | string | null> = { mutation_seconds: Math.round(seconds) };
let detected = 0;
let valid = 0;
for (const [file, { mutants }] of Object.entries(report?.files ?? {})) {
  const n = (s: string) => mutants.filter((m) => m.status === s).length;
  const killed = n('Killed') + n('Timeout');
  const all = killed + n('Survived') + n('NoCoverage');
  detected += killed;
  valid += all;
  const score = all === 0 ? null : percent(killed, all);
  criteria.push({
    name: `mutation score ${file} (${killed} of ${all} killed; ${n('Survived')} survived, ${n('NoCoverage')} not covered)`,
    threshold: `>=${goal}`,
    measured: score,
    pass: score !== null && score >= goal,
    unit: '%',
  });
  figures[`mutation.${file}`] = score;
  figures[`mutation.${file}.survivors`] = mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .map((m) => `${m.location.start.line}:${m.mutatorName}`)
    .join(' ');
}
const total = valid === 0 ? null : percent(detected, valid);
figures.mutation_score = total;
criteria.unshift({
  name: `mutation score over ${Object.keys(report?.files ?? {}).length} file(s) (${detected} of ${valid} mutants killed, ${Math.round(seconds)} s)`,
  threshold: `>=${goal}`,
  measured: total,
  pass: total !== null && total >= goal && !error,
  unit: '%',
});
const { verdict, reason } = error
  ? { verdict: 'FAIL' as const, reason: `stryker: ${error.message}` }
  : decideVerdict(criteria, []);
const result: RunResult = {
  schemaVersion: resultSchemaVersion,
  verdict,
  reason,
  scenario: 'mutate',
  seed: Number(process.env.PAYPROOF_PROPERTY_SEED),
  startedAt: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
  criteria,
  invariants: [],
  exercised: {},
  plantedFaults: [],
  faults: [],
  figures,
  environment: environment(),
  replay: `npm run mutate -- --files ${files.join(',')}`,
};
writeResult(runDir, result);
const paths = finalizeRun(runDir);
console.log(
  `\n${verdict}: ${reason}\nmutation score ${total ?? '-'}% in ${Math.round(seconds)} s\nstryker report: ${join(runDir, 'mutation.html')}\nreport: ${paths.page}`,
);
process.exit(exitCodeFor(verdict));
