// npm run chaos -- <scenario>: one fault scenario under load, on a fresh stack and system;
// `all`, `random`, `schedule` and `--list` as described in the help below.
import { loadCatalogue, loadScenario, scenarioNames } from '../chaos/catalogue.ts';
import { runNemesis, runSchedule } from '../chaos/nemesis.ts';
import { type ChaosOutcome, runChaos } from '../chaos/run.ts';
import { formatMarkdown, formatTable, summaryRow, worstExitCode } from '../chaos/summary-table.ts';
import { parseDurationMs } from '../load/duration.ts';
import { alertFaultNames } from '../system/alert-rules.ts';
import { providerFor } from '../target/providers.ts';
import {
  bool,
  type CommandSpec,
  didYouMean,
  num,
  type Parsed,
  runCommand,
  str,
  UsageError,
} from './command.ts';
import { printOutcome } from './outcome.ts';
import { Progress } from './progress.ts';
import { formatRunProgress } from './run-progress.ts';
import {
  durationFlag,
  exportPath,
  plantedFaultNames,
  plantedFrom,
  targetFrom,
  targetOption,
} from './values.ts';
import { chaosSelection } from './verify.ts';

const scenarios = scenarioNames();
const modes = ['all', 'random', 'schedule', 'list'];

export const chaosCommand: CommandSpec = {
  invocation: 'npm run chaos --',
  summary:
    'Runs one fault scenario (chaos/<name>.ts) under load on a fresh stack and system: steady state before,\nthe fault timeline, heal, convergence, every invariant, and reports/<stamp>-chaos-<name>/.',
  usage: [
    '<scenario> [--seed N] [--faults a,b] [--target TARGET | --attach [--stack stack.json] [--api URL]]',
    'all [--markdown]',
    'random [--seed S] [--runs N] [--budget 15m]',
    "schedule '<json>'",
    '--list',
  ],
  options: {
    list: { type: 'boolean', description: 'list the scenarios and exit' },
    seed: {
      type: 'string',
      value: 'N',
      description: "the load's seed (random: the nemesis's seed)",
      number: { min: 0, integer: true },
    },
    faults: {
      type: 'string',
      value: 'a,b',
      description: 'planted bugs (PAYPROOF_FAULTS also works); alert-* ones go into the alert rules',
      choices: [...plantedFaultNames, ...alertFaultNames],
      list: true,
    },
    target: targetOption,
    env: {
      type: 'string',
      value: 'K=V,...',
      description:
        'extra environment for every process of the system this run starts: a planted misconfiguration (KAFKA_ACKS=1)',
    },
    attach: {
      type: 'boolean',
      description: 'use a running `npm run system` instead of starting one (network faults only)',
    },
    stack: {
      type: 'string',
      value: 'stack.json',
      description: "with --attach: the running stack's stack.json (default: the newest under .runs/)",
    },
    api: {
      type: 'string',
      value: 'URL',
      description: 'with --attach: the API address (default http://127.0.0.1:3000)',
    },
    runs: {
      type: 'string',
      value: 'N',
      description: 'random: schedules to try (default 3)',
      number: { min: 1, integer: true },
    },
    budget: {
      type: 'string',
      value: '20m',
      description: 'random: time box for the search and the shrinking',
    },
    markdown: { type: 'boolean', description: 'all: also print the summary table as markdown' },
    'summary-export': {
      type: 'string',
      value: 'FILE',
      description: "one scenario: the load's end-of-test summary as JSON in k6's --summary-export shape",
    },
  },
  positionals: {
    name: 'scenario',
    max: 2,
    description: `a scenario name, or all | random | schedule '<json>' | list`,
  },
  examples: [
    'npm run chaos -- --list                          # the catalogue, one line each',
    'npm run chaos -- partition-kafka                 # one scenario; exit 0 only on PASS',
    'npm run chaos -- kill-worker --faults skip-inbox # a planted bug: must FAIL',
    'npm run chaos -- partition-kafka-redis --faults alert-wrong-metric   # a bug in the alert rules: must FAIL',
    'npm run chaos -- all --markdown                  # every scenario, then one table',
    'npm run chaos -- random --seed 7 --runs 5        # generated fault schedules, shrunk on failure',
    'npm run chaos -- latency-kafka --attach          # against the running `npm run system`',
    'npm run chaos -- kill-worker --target external:deploy.json   # a deployment described by a target file',
    'npm run chaos -- kill-leader --target native-cluster --env KAFKA_ACKS=1   # planted acks=1: must FAIL',
  ],
};

async function main(args: Parsed): Promise<number> {
  const command = args.positionals[0];
  if (command !== undefined && !modes.includes(command) && !scenarios.includes(command))
    throw new UsageError(`unknown scenario '${command}'${didYouMean(command, [...scenarios, ...modes])}`);
  if (args.positionals.length > 1 && command !== 'schedule')
    throw new UsageError(`unexpected argument '${args.positionals[1]}' (one scenario at a time, or all)`);
  const planted = plantedFrom(str(args, 'faults'), process.env, alertFaultNames);
  const attach = bool(args, 'attach')
    ? {
        ...(str(args, 'stack') ? { stackJson: str(args, 'stack')! } : {}),
        ...(str(args, 'api') ? { apiUrl: str(args, 'api')! } : {}),
      }
    : undefined;
  if (attach && str(args, 'target') !== undefined)
    throw new UsageError('--attach is an external target already: give --target or --attach, not both');
  const target = attach ? undefined : targetFrom(str(args, 'target'));
  const systemEnv = envPairs(str(args, 'env'));
  const summaryExport = exportPath(str(args, 'summary-export'));
  if (summaryExport && (modes.includes(command ?? '') || !command))
    throw new UsageError('--summary-export goes with one scenario');
  for (const flag of ['stack', 'api'])
    if (str(args, flag) && !attach) throw new UsageError(`--${flag} goes with --attach`);
  const seed = num(args, 'seed');
  const budget = durationFlag('budget', str(args, 'budget')) ?? '20m';
  for (const [flag, only] of [
    ['runs', 'random'],
    ['budget', 'random'],
    ['markdown', 'all'],
  ] as const)
    if (args.values[flag] !== undefined && command !== only)
      throw new UsageError(`--${flag} goes with ${only}`);

  if (bool(args, 'list') || command === 'list') {
    const all = await loadCatalogue();
    const w = Math.max(...all.map((s) => s.name.length));
    for (const s of all) console.log(`${s.name.padEnd(w)}  ${s.description}`);
    return 0;
  }
  if (!command) throw new UsageError('which scenario? give a name, all, random or --list');

  // Ctrl-C: the run stops its load, heals every fault, writes an UNKNOWN result and stops the stack.
  // A second Ctrl-C exits at once (the stack's guardian and the heal guard clean up behind us).
  const interrupt = new AbortController();
  let signals = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      signals++;
      if (signals === 1) {
        console.error(`\n${sig}: healing every fault and stopping (again to exit at once)`);
        interrupt.abort();
      } else process.exit(130);
    });
  }

  if (command === 'all') {
    const outcomes: ChaosOutcome[] = [];
    // The cluster scenarios need three brokers: on one they are listed, not run (verify does the same).
    const { skip } = await chaosSelection(target ?? providerFor('native'));
    if (skip?.size)
      console.error(`not on one broker (--target native-cluster runs them): ${[...skip].join(', ')}`);
    const names = scenarios.filter((n) => !skip?.has(n));
    for (const name of names) {
      if (interrupt.signal.aborted) break;
      const scenario = await loadScenario(name);
      try {
        const progress = new Progress();
        const o = await runChaos({
          scenario,
          plantedFaults: planted,
          seed,
          target,
          signal: interrupt.signal,
          log: (line) => progress.log(line),
          onProgress: (p) => progress.update(formatRunProgress(p), p.phase),
        });
        progress.done();
        printOutcome(o);
        outcomes.push(o);
      } catch (err) {
        console.error(`${name}: ${(err as Error).message}`);
      }
    }
    const rows = outcomes.map((o) => summaryRow(o.result));
    console.log(`\n${formatTable(rows)}`);
    if (bool(args, 'markdown')) console.log(`\n${formatMarkdown(rows)}`);
    return worstExitCode([...rows.map((r) => r.verdict), ...(rows.length < names.length ? ['UNKNOWN'] : [])]);
  }
  if (command === 'random') {
    const r = await runNemesis({
      seed: seed ?? Date.now() % 1_000_000,
      runs: num(args, 'runs', 3),
      plantedFaults: planted,
      target,
      budgetMs: parseDurationMs(budget),
      signal: interrupt.signal,
    });
    return r.exitCode;
  }
  if (command === 'schedule') {
    const json = args.positionals[1];
    if (!json) throw new UsageError(`schedule needs the schedule: npm run chaos -- schedule '<json>'`);
    let schedule: unknown;
    try {
      schedule = JSON.parse(json);
    } catch (err) {
      throw new UsageError(`schedule: not JSON (${(err as Error).message})`);
    }
    const o = await runSchedule(schedule as Parameters<typeof runSchedule>[0], {
      plantedFaults: planted,
      target,
      seed,
      signal: interrupt.signal,
    });
    printOutcome(o);
    return o.exitCode;
  }
  const scenario = await loadScenario(command);
  const progress = new Progress();
  const o = await runChaos({
    scenario,
    plantedFaults: planted,
    seed,
    attach,
    target,
    ...(systemEnv ? { systemEnv } : {}),
    signal: interrupt.signal,
    log: (line) => progress.log(line),
    onProgress: (p) => progress.update(formatRunProgress(p), p.phase),
  });
  progress.done();
  printOutcome(o, { summaryExport });
  return o.exitCode;
}

/** `K=V,K2=V2` → an environment; undefined when absent. */
function envPairs(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!m) throw new UsageError(`--env ${pair}: expected NAME=value (upper-case name)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

if (import.meta.main) await runCommand(chaosCommand, main);
