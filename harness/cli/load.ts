// npm run load: a load profile (scenarios/<name>.ts, k6 vocabulary) against a fresh stack and
// system, then convergence, every invariant, and the run folder; exit 0 only when every
// threshold and invariant holds. A load run is a chaos run with an empty fault timeline: same
// runner, same observer, same checker, same report.
//   --profile NAME      default | short | smoke | burst-1000 | arrival-500 | arrival-1000 | ramp
//   --duration 30s --vus N --rate R   override the profile (k6's --duration / --vus)
//   --workers purchase=2,...          instances per kind
//   --faults a,b                      planted bugs
//   --seed N                          the workload's choices
//   --list                            the profiles

import { runChaos } from '../chaos/run.ts';
import { defineScenario } from '../chaos/scenario.ts';
import { formatTable, summaryRow } from '../chaos/summary-table.ts';
import { applyOverrides } from '../load/profile.ts';
import { listProfiles, loadProfile } from '../load/profiles.ts';
import { processKinds } from '../system/launcher.ts';
import { flagNumber, flagString, parseArgs, parseCounts } from './args.ts';

const args = parseArgs();
if (args.flags.has('list')) {
  for (const name of listProfiles())
    console.log(`${name.padEnd(14)} ${(await loadProfile(name)).description}`);
  process.exit(0);
}
const name = flagString(args, 'profile') ?? args.positional[0] ?? 'default';
const base = await loadProfile(name);
const profile = applyOverrides(base, {
  ...(flagString(args, 'duration') ? { duration: flagString(args, 'duration') as never } : {}),
  ...(args.flags.has('vus') ? { vus: flagNumber(args, 'vus', 0) } : {}),
  ...(args.flags.has('rate') ? { rate: flagNumber(args, 'rate', 0) } : {}),
});
const planted = (flagString(args, 'faults') ?? process.env.PAYPROOF_FAULTS ?? '').split(',').filter(Boolean);
const instances = parseCounts(flagString(args, 'workers'), processKinds);
const seed = args.flags.has('seed') ? flagNumber(args, 'seed', 0) : Date.now() % 1_000_000;

const scenario = defineScenario({
  name: `load-${profile.name}`,
  description: profile.description,
  hypothesis:
    "the seed's success criteria: confirmation < 100 ms (p95), zero duplicates, nothing lost, >= 99.9% event processing success",
  // Few trainers with room for everything: capacity is shared (so trainer-capacity is exercised), never short.
  system: { instances, seed: { trainers: 10, trainerCapacity: 1_000_000 } },
  load: { profile },
  timeline: [],
  steadyState: { probes: [] },
  recoverWithin: '0s',
  expect: { run: profile.thresholds },
  checker: { convergenceTimeout: '180s' },
  // Without faults no answer is lost, so the half-done path is not exercised: reported, not counted.
  invariants: { mayBeUnexercised: ['no-half-done'] },
});

const interrupt = new AbortController();
process.on('SIGINT', () => interrupt.abort());
process.on('SIGTERM', () => interrupt.abort());

const outcome = await runChaos({
  scenario,
  kind: 'load',
  label: profile.name,
  plantedFaults: planted,
  signal: interrupt.signal,
  seed,
  replay: `npm run load -- ${[...process.argv.slice(2).filter((a, i, all) => a !== '--seed' && all[i - 1] !== '--seed'), '--seed', String(seed)].join(' ')}`,
});
const r = outcome.result;
console.log(`\n${r.verdict}  ${r.scenario}: ${r.reason}`);
for (const c of r.criteria.filter((x) => !x.pass))
  console.log(`  ✗ ${c.name} ${c.threshold}: measured ${c.measured}`);
for (const i of r.invariants.filter((x) => x.valid !== true)) {
  console.log(
    `  ${i.valid === false ? '✗' : '?'} ${i.name}: ${i.valid === false ? `${i.violations} violations` : i.unknownReason}`,
  );
}
console.log(formatTable([summaryRow(r)]));
console.log(`report: ${outcome.page ?? outcome.dir}\nreplay: ${r.replay}`);
process.exit(outcome.exitCode);
