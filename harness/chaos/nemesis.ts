// The random nemesis: fast-check generates fault schedules (which faults, when, for how long,
// overlapping or not) on top of the chaos load; each schedule is one full chaos run on a fresh
// stack, judged by the checker. The property is safety only: no invariant is violated (a slow
// recovery under a pile of faults is not a counterexample). On a failure the schedule is shrunk,
// within a time box, to the smallest one that still fails: first without each fault in turn, then
// each fault shorter and earlier (fast-check's own array shrinker only drops leading elements and
// spends its runs on timings first: with a minute per run, the order of the steps matters), and
// the replay command runs exactly that schedule again.
import fc from 'fast-check';
import { defaultDuration, noLostAnswers, ranAtAll, standardProbes } from './defaults.ts';
import { blackHole, latency, partition } from './network-faults.ts';
import { kill, pause } from './process-faults.ts';
import { type ChaosOutcome, type ChaosRunOptions, runChaos } from './run.ts';
import { type ChaosScenario, defineScenario, type Fault, type TimelineStep } from './scenario.ts';
import { restartKafka, restartPostgres } from './service-faults.ts';
import { formatTable, summaryRow } from './summary-table.ts';

/** The faults the nemesis draws from, by name. Order matters: shrinking moves toward the first. */
export const nemesisFaults: Readonly<Record<string, () => Fault>> = {
  'latency-postgres': () => latency('postgres', 30, 20),
  'latency-kafka': () => latency('kafka', 150, 50),
  'partition-redis': () => partition('redis'),
  'kill-worker': () => kill(['purchase', 'allocation', 'session', 'cache']),
  'kill-relay': () => kill(['relay']),
  'pause-worker': () => pause(['allocation']),
  'partition-kafka': () => partition('kafka'),
  'blackhole-kafka': () => blackHole('kafka'),
  'partition-postgres': () => partition('postgres'),
  'restart-postgres': () => restartPostgres(),
  'restart-kafka': () => restartKafka(),
};

/** One fault of a schedule: JSON-friendly, so a schedule prints as its own replay argument. */
export interface ScheduledFault {
  readonly fault: string;
  /** Seconds after the load started. */
  readonly atS: number;
  /** Seconds the fault stays on (ignored by instantaneous faults such as a kill). */
  readonly forS: number;
}

/** Load length of a nemesis run, and the window faults are drawn in (they all end before the load does). */
const loadS = Number.parseInt(defaultDuration, 10);
export const earliestS = 5;
export const latestEndS = loadS - 8;

/** Fault schedules: 1 to 3 faults, each starting in [5 s, 20 s] and lasting 2 to 12 s; they may overlap. */
export function scheduleArbitrary(
  names: readonly string[] = Object.keys(nemesisFaults),
): fc.Arbitrary<ScheduledFault[]> {
  return fc.array(
    fc.record({
      fault: fc.constantFrom(...names),
      atS: fc.integer({ min: earliestS, max: latestEndS - 12 }),
      forS: fc.integer({ min: 2, max: 12 }),
    }),
    { minLength: 1, maxLength: 3 },
  );
}

export function toTimeline(schedule: readonly ScheduledFault[]): TimelineStep[] {
  return schedule.map((f) => {
    const make = nemesisFaults[f.fault];
    if (!make)
      throw new Error(
        `unknown fault ${JSON.stringify(f.fault)}; known: ${Object.keys(nemesisFaults).join(', ')}`,
      );
    return { at: `${f.atS}s`, for: `${f.forS}s`, fault: make() };
  });
}

/** Validates a schedule read from the command line. */
export function parseSchedule(value: unknown): ScheduledFault[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error('a schedule is a non-empty JSON array');
  return value.map((x, i) => {
    const f = x as Partial<ScheduledFault>;
    if (typeof f.fault !== 'string' || !(f.fault in nemesisFaults))
      throw new Error(`schedule[${i}].fault: one of ${Object.keys(nemesisFaults).join(', ')}`);
    if (!Number.isFinite(f.atS) || !Number.isFinite(f.forS) || f.atS! < 0 || f.forS! < 0)
      throw new Error(`schedule[${i}]: atS and forS must be numbers >= 0`);
    return { fault: f.fault, atS: f.atS!, forS: f.forS! };
  });
}

/** The frame every random schedule runs in: the chaos load, lenient probes, the whole checker. */
export const nemesisScenario: ChaosScenario = defineScenario({
  name: 'random',
  description: 'random fault schedules (fast-check) under the chaos load; safety: no invariant violated',
  hypothesis: 'whatever the faults, once healed: nothing lost, nothing doubled, everything converges',
  timeline: [],
  system: { instances: { purchase: 1, allocation: 2, session: 1, cache: 1 } },
  steadyState: { probes: standardProbes({ confirmP95Ms: 2_000, errorPct: 5, lag: 5_000, backlog: 5_000 }) },
  recoverWithin: '60s',
  expect: { run: ranAtAll },
  invariants: { mayBeUnexercised: noLostAnswers },
});

export const describeSchedule = (s: readonly ScheduledFault[]) =>
  s.map((f) => `${f.fault}@${f.atS}s+${f.forS}s`).join(', ');

export function replayCommand(
  schedule: readonly ScheduledFault[],
  planted: readonly string[],
  seed?: number,
): string {
  return `npm run chaos -- schedule '${JSON.stringify(schedule)}'${planted.length ? ` --faults ${planted.join(',')}` : ''}${seed === undefined ? '' : ` --seed ${seed}`}`;
}

/** Runs one schedule as a chaos run (what `npm run chaos -- schedule '<json>'` does). */
export function runSchedule(
  schedule: unknown,
  o: Omit<ChaosRunOptions, 'scenario' | 'timeline'> = {},
): Promise<ChaosOutcome> {
  const s = parseSchedule(schedule);
  return runChaos({
    ...o,
    scenario: nemesisScenario,
    timeline: toTimeline(s),
    label: `schedule ${describeSchedule(s)}`,
    replay: replayCommand(s, o.plantedFaults ?? [], o.seed),
  });
}

export interface NemesisOptions {
  readonly seed: number;
  readonly runs: number;
  readonly plantedFaults: readonly string[];
  /** Time box for the whole search, shrinking included: after it no new run starts. */
  readonly budgetMs: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** The faults to draw from (default: every nemesis fault). */
  readonly faults?: readonly string[];
  /** What the system runs on (default native). */
  readonly target?: ChaosRunOptions['target'];
}

export interface NemesisResult {
  readonly exitCode: number;
  readonly failed: boolean;
  /** The first failing schedule fast-check found, and the smallest one that still failed. */
  readonly found: ScheduledFault[] | null;
  readonly schedule: ScheduledFault[] | null;
  readonly violated: string[];
  readonly runsDone: number;
  readonly shrinkSteps: number;
  readonly replay: string | null;
}

/**
 * Candidate schedules one step smaller than `s`, most valuable first: without one of its faults
 * (a fault that is not needed is the biggest simplification), then each fault as short as
 * allowed, half as long, a second shorter, as early as allowed, half as late.
 */
export function shrinkCandidates(s: readonly ScheduledFault[]): ScheduledFault[][] {
  const out: ScheduledFault[][] = [];
  if (s.length > 1) for (let i = 0; i < s.length; i++) out.push(s.filter((_, j) => j !== i));
  const replace = (i: number, f: ScheduledFault) => s.map((x, j) => (j === i ? f : x));
  s.forEach((f, i) => {
    const shorter = [2, Math.floor((f.forS + 2) / 2), f.forS - 1].filter(
      (x, k, xs) => x >= 2 && x < f.forS && xs.indexOf(x) === k,
    );
    for (const forS of shorter) out.push(replace(i, { ...f, forS }));
    const earlier = [earliestS, Math.floor((f.atS + earliestS) / 2)].filter(
      (x, k, xs) => x < f.atS && xs.indexOf(x) === k,
    );
    for (const atS of earlier) out.push(replace(i, { ...f, atS }));
  });
  return out;
}

/**
 * Greedy shrinking: tries the candidates of the current schedule in order and moves to the first
 * that still fails, until none does or the time box is over.
 */
export async function shrinkGreedy(
  start: ScheduledFault[],
  stillFails: (candidate: ScheduledFault[]) => Promise<boolean>,
  overBudget: () => boolean,
): Promise<{ smallest: ScheduledFault[]; steps: number; tried: number; timeBoxed: boolean }> {
  let smallest = start;
  let steps = 0;
  let tried = 0;
  for (let improved = true; improved; ) {
    improved = false;
    for (const candidate of shrinkCandidates(smallest)) {
      if (overBudget()) return { smallest, steps, tried, timeBoxed: true };
      tried++;
      if (await stillFails(candidate)) {
        smallest = candidate;
        steps++;
        improved = true;
        break;
      }
    }
  }
  return { smallest, steps, tried, timeBoxed: false };
}

export async function runNemesis(o: NemesisOptions): Promise<NemesisResult> {
  const log = o.log ?? ((l: string) => console.error(l));
  const t0 = performance.now();
  const overBudget = () => performance.now() - t0 > o.budgetMs || o.signal?.aborted === true;
  let runsDone = 0;
  const rows: ReturnType<typeof summaryRow>[] = [];

  /** One full chaos run of a schedule; returns the invariants it violated. */
  const attempt = async (schedule: readonly ScheduledFault[], why: string): Promise<string[]> => {
    runsDone++;
    log(
      `\n[nemesis] run ${runsDone} (${why}, t+${Math.round((performance.now() - t0) / 1_000)}s): ${describeSchedule(schedule)}`,
    );
    const out = await runChaos({
      scenario: nemesisScenario,
      timeline: toTimeline(schedule),
      label: `random-${o.seed}-${runsDone}`,
      plantedFaults: o.plantedFaults,
      seed: o.seed,
      signal: o.signal,
      ...(o.target ? { target: o.target } : {}),
      replay: replayCommand(schedule, o.plantedFaults, o.seed),
      log: (l) => (l.startsWith('[load]') || l.startsWith('[stack]') ? undefined : log(l)),
    });
    rows.push(summaryRow(out.result));
    const broken = out.result.invariants.filter((i) => i.valid === false).map((i) => i.name);
    log(
      `[nemesis] run ${runsDone}: ${out.result.verdict} (${out.result.reason})${broken.length ? `; violated: ${broken.join(', ')}` : ''}`,
    );
    return broken;
  };

  // 1. Search: fast-check draws schedules from the seed until one violates an invariant.
  let violated: string[] = [];
  const details = await fc.check(
    fc.asyncProperty(scheduleArbitrary(o.faults), async (schedule) => {
      if (overBudget()) return true;
      violated = await attempt(schedule, 'search');
      return violated.length === 0;
    }),
    { seed: o.seed, numRuns: o.runs, endOnFailure: true },
  );
  if (!details.failed || !details.counterexample) {
    console.log(
      `\n${formatTable(rows)}\n\n[nemesis] ${runsDone} runs, no invariant violated (seed ${o.seed})`,
    );
    return {
      exitCode: runsDone > 0 ? 0 : 2,
      failed: false,
      found: null,
      schedule: null,
      violated: [],
      runsDone,
      shrinkSteps: 0,
      replay: null,
    };
  }

  // 2. Shrink, greedily and within the time box: every step is a full run, kept if it still fails.
  // A fault schedule fails by chance as much as by design (the loss needs a fault at the wrong
  // instant), so the result is the smallest schedule seen failing, not a proof of minimality.
  const found = details.counterexample[0];
  const shrunk = await shrinkGreedy(
    found,
    async (c) => {
      const broken = await attempt(c, 'shrink');
      if (broken.length > 0) violated = broken;
      return broken.length > 0;
    },
    overBudget,
  );
  const { smallest, steps: shrinkSteps, timeBoxed } = shrunk;
  const replay = replayCommand(smallest, o.plantedFaults, o.seed);
  console.log(
    [
      `\n${formatTable(rows)}`,
      '',
      `[nemesis] FAIL: seed ${o.seed}, fast-check's run ${details.numRuns} violated an invariant; ${runsDone} chaos runs in ${Math.round((performance.now() - t0) / 1_000)} s${timeBoxed ? ' (time box reached: shrinking stopped early)' : ''}`,
      `  found:    ${describeSchedule(found)}`,
      `  shrunk:   ${describeSchedule(smallest)}  (${shrinkSteps} step(s) kept)`,
      `  violated: ${violated.join(', ')}`,
      `  replay:   ${replay}`,
    ].join('\n'),
  );
  return { exitCode: 1, failed: true, found, schedule: smallest, violated, runsDone, shrinkSteps, replay };
}
