// npm run chaos -- <scenario>        one fault scenario under load, on a fresh stack and system;
//                                     exit 0 PASS, 1 FAIL, 2 UNKNOWN
//   --list                            the catalogue, one line each
//   all [--markdown]                  every scenario (fresh stack each), then one summary table
//   random --seed S --runs N          random fault schedules (fast-check), shrunk on failure
//   schedule '<json>'                 replays one schedule (what `random` prints)
// Options:
//   --faults a,b        planted bugs (PAYPROOF_FAULTS also works)
//   --seed N            the load's seed (random: the nemesis's seed)
//   --attach [stack.json] --api URL   use a running `npm run system` (network faults only)
//   --budget 15m        random: time box for the search and the shrinking
import { loadCatalogue, loadScenario, scenarioNames } from '../chaos/catalogue.ts';
import { runNemesis, runSchedule } from '../chaos/nemesis.ts';
import { type ChaosOutcome, runChaos } from '../chaos/run.ts';
import { formatMarkdown, formatTable, summaryRow, worstExitCode } from '../chaos/summary-table.ts';
import { parseDurationMs } from '../load/duration.ts';
import { flagNumber, flagString, parseArgs } from './args.ts';

const args = parseArgs();
const command = args.positional[0];
const planted = (flagString(args, 'faults') ?? process.env.PAYPROOF_FAULTS ?? '').split(',').filter(Boolean);
const attachFlag = args.flags.get('attach');
const attach =
  attachFlag === undefined
    ? undefined
    : {
        ...(typeof attachFlag === 'string' ? { stackJson: attachFlag } : {}),
        ...(flagString(args, 'api') ? { apiUrl: flagString(args, 'api')! } : {}),
      };
const seed = args.flags.has('seed') ? flagNumber(args, 'seed', 0) : undefined;

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

function printOutcome(o: ChaosOutcome) {
  const r = o.result;
  console.log(`\n${r.verdict}  ${r.scenario}: ${r.reason}`);
  for (const c of r.criteria.filter((x) => !x.pass))
    console.log(`  ✗ ${c.name} ${c.threshold}: measured ${c.measured}`);
  for (const i of r.invariants.filter((x) => x.valid !== true)) {
    console.log(
      `  ${i.valid === false ? '✗' : '?'} ${i.name}: ${i.valid === false ? `${i.violations} violations` : i.unknownReason}`,
    );
    if (i.valid === false && i.examples[0])
      console.log(`      e.g. ${JSON.stringify(i.examples[0]).slice(0, 300)}`);
  }
  console.log(formatTable([summaryRow(r)]));
  console.log(`report: ${o.page ?? o.dir}\nreplay: ${r.replay}`);
}

async function main(): Promise<number> {
  if (args.flags.has('list') || command === 'list') {
    const all = await loadCatalogue();
    const w = Math.max(...all.map((s) => s.name.length));
    for (const s of all) console.log(`${s.name.padEnd(w)}  ${s.description}`);
    return 0;
  }
  if (!command) {
    console.error(
      `usage: npm run chaos -- <scenario> | --list | all | random --seed S --runs N\nscenarios: ${scenarioNames().join(', ')}`,
    );
    return 2;
  }
  if (command === 'all') {
    const outcomes: ChaosOutcome[] = [];
    for (const name of scenarioNames()) {
      if (interrupt.signal.aborted) break;
      const scenario = await loadScenario(name);
      try {
        const o = await runChaos({ scenario, plantedFaults: planted, seed, signal: interrupt.signal });
        printOutcome(o);
        outcomes.push(o);
      } catch (err) {
        console.error(`${name}: ${(err as Error).message}`);
      }
    }
    const rows = outcomes.map((o) => summaryRow(o.result));
    console.log(`\n${formatTable(rows)}`);
    if (args.flags.has('markdown')) console.log(`\n${formatMarkdown(rows)}`);
    return worstExitCode([
      ...rows.map((r) => r.verdict),
      ...(rows.length < scenarioNames().length ? ['UNKNOWN'] : []),
    ]);
  }
  if (command === 'random') {
    const r = await runNemesis({
      seed: seed ?? Date.now() % 1_000_000,
      runs: flagNumber(args, 'runs', 3),
      plantedFaults: planted,
      budgetMs: parseDurationMs(flagString(args, 'budget') ?? '20m'),
      signal: interrupt.signal,
    });
    return r.exitCode;
  }
  if (command === 'schedule') {
    const json = args.positional[1];
    if (!json) throw new Error(`usage: npm run chaos -- schedule '<json schedule>'`);
    const o = await runSchedule(JSON.parse(json), { plantedFaults: planted, seed, signal: interrupt.signal });
    printOutcome(o);
    return o.exitCode;
  }
  const scenario = await loadScenario(command);
  const o = await runChaos({ scenario, plantedFaults: planted, seed, attach, signal: interrupt.signal });
  printOutcome(o);
  return o.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
