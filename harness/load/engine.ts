// The load engine: profile → fixtures → executor × workload over undici → metrics, history,
// per-second samples, CPU self-check → thresholds (whole run and per phase) → LoadSummary.
// `runLoad` is the one function the `npm run load` runner calls.

import { TokenBook } from '../lib/tokens.ts';
import type { History } from '../run/history.ts';
import type { Criterion, Sample } from '../run/result.ts';
import { CpuMonitor, judgeCpu } from './cpu.ts';
import { parseDurationMs } from './duration.ts';
import type { IterationFn } from './executors.ts';
import { runScenarios } from './executors.ts';
import { prepareFixtures } from './fixtures.ts';
import { Trend } from './histogram.ts';
import { HttpClient } from './http.ts';
import { Metrics } from './metrics.ts';
import type { Recorder } from './operation.ts';
import type { PhaseWindow, TimelineEntry } from './phases.ts';
import { phaseWindows } from './phases.ts';
import type { LoadProfile, ProfileOverrides } from './profile.ts';
import { applyOverrides, estimateProfileIterations, scenarioEntries, validateProfile } from './profile.ts';
import type { LoadSummary } from './summary.ts';
import { buildSummary } from './summary.ts';
import { evaluateThresholds, parseThresholds } from './thresholds.ts';
import type { Fixtures } from './workload.ts';
import { paymentWorkload } from './workload.ts';

/** A fault timeline, fixed in advance or read when the load ends (faults applied live). */
export type Timeline = readonly TimelineEntry[] | (() => readonly TimelineEntry[]);

export interface RunLoadOptions {
  /** The API, e.g. http://127.0.0.1:3000. Only 127.0.0.1 / localhost are expected here. */
  readonly baseUrl: string;
  /** Where the setup inserts students (and courses / trainers if the database has none). */
  readonly databaseUrl: string;
  readonly profile: LoadProfile;
  /** The run's history: every request is recorded as invoke → ok / fail / info. */
  readonly history: History;
  /** Called once a second with throughput, confirm percentiles, errors, in-flight, CPU. */
  readonly onSample?: (sample: Sample) => void;
  /** Fault windows in seconds since the load started (t = 0 when onStart is called). */
  readonly timeline?: Timeline;
  readonly overrides?: ProfileOverrides;
  /** Seeds the workload's choices; default: derived from the clock (and reported). */
  readonly seed?: number;
  /** Stops scheduling new iterations (in-flight ones get gracefulStop): Ctrl-C. */
  readonly stop?: AbortSignal;
  /** Called when t = 0, right before the first iteration: align the fault timeline to it. */
  readonly onStart?: (info: { readonly startedAt: string; readonly seed: number }) => void;
  /** Progress and warnings; default console.error. */
  readonly log?: (line: string) => void;
  /** CPU self-check: busy line (fraction of a core) and tolerated share of busy seconds. */
  readonly cpuLimits?: { readonly busyFraction?: number; readonly maxBusyShare?: number };
}

/** Sets up the run's own students (and courses/trainers when missing), then runs the workload. */
export async function runLoad(o: RunLoadOptions): Promise<LoadSummary> {
  const log = o.log ?? ((l: string) => console.error(l));
  const profile = applyOverrides(o.profile, o.overrides);
  const { scenarios, workload } = validateProfile(profile);
  const seed = o.seed ?? Date.now() & 0x7fffffff;
  const courseGuess = 5;
  const warm = warmupProfile(profile);
  const warmRun = warm && validateProfile(warm);
  const estimate =
    estimateProfileIterations(scenarios) + (warmRun ? estimateProfileIterations(warmRun.scenarios) : 0);
  const students =
    workload.students ??
    Math.min(200_000, Math.max(1, Math.ceil((estimate * (1 - workload.repeatPurchase)) / courseGuess) + 1));
  const runTag = `${new Date().toISOString()}-${seed}`;
  log(`[load] setup: ${students} students for ~${estimate} iterations (run tag ${runTag})`);
  const fixtures = await prepareFixtures(o.databaseUrl, {
    students,
    runTag,
    trainerCapacity: Math.ceil(estimate * 1.25) + 20,
  });
  log(
    `[load] setup: ${fixtures.courseIds.length} courses, inserted ${fixtures.inserted.students} students, ${fixtures.inserted.courses} courses, ${fixtures.inserted.trainers} trainers`,
  );
  if (warm) {
    log(`[load] warm-up: ${warm.description} (in the history; not in the figures or thresholds)`);
    await runWorkload({
      ...o,
      profile: warm,
      overrides: undefined,
      seed: (seed ^ 0x2545f491) >>> 0,
      fixtures,
      log,
      onSample: undefined,
      onStart: undefined,
      timeline: undefined,
    });
  }
  return runWorkload({ ...o, profile, overrides: undefined, seed, fixtures, log });
}

/**
 * The warm-up run a profile asks for: its users, at most 50 of them, at about the profile's own
 * pace (each thinks `thinkTime × warm-up users / users`, at least 100 ms), so the system is warm
 * and its pipeline in its steady state when the measured run begins; no thresholds.
 * A faster warm-up left a backlog behind: users-1000's used to think 100 ms (121-235 payments/s
 * against the profile's ~110/s), the outbox held ~650 rows when the measurement began, and the
 * pipeline's catch-up then stalled every request for about half a second at 5.7-6.3 s: all 310
 * requests over 200 ms of a run that failed its p99 bound (docs/benchmarks.md).
 */
export function warmupProfile(profile: LoadProfile): LoadProfile | undefined {
  if (!profile.warmup) return undefined;
  const first = scenarioEntries(profile)[0]?.[1];
  const users = first && 'vus' in first ? (first.vus ?? 50) : 50;
  const vus = Math.min(50, users);
  const thinkMs = Math.max(
    100,
    Math.round((parseDurationMs(profile.workload?.thinkTime ?? '0s') * vus) / users),
  );
  return {
    name: `${profile.name}-warmup`,
    description: `${vus} VUs for ${profile.warmup}, think ~${thinkMs} ms`,
    scenario: {
      executor: 'constant-vus',
      vus,
      duration: profile.warmup,
      gracefulStop: '10s',
      startSpread: '1s',
    },
    workload: { ...profile.workload, thinkTime: `${thinkMs}ms` },
    ...(profile.http ? { http: profile.http } : {}),
    thresholds: {},
  };
}

export interface RunWorkloadOptions extends Omit<RunLoadOptions, 'databaseUrl'> {
  readonly fixtures: Fixtures;
  /**
   * Replaces the payment workload (tests of the engine's timing use a single request). Receives
   * the recorder, so requests are still recorded and measured the same way.
   */
  readonly iteration?: (rec: Recorder) => IterationFn;
  /** Skip the readiness probe (tests with a custom iteration). */
  readonly skipProbe?: boolean;
}

/** Runs the profile's executor against an API whose fixtures already exist. */
export async function runWorkload(o: RunWorkloadOptions): Promise<LoadSummary> {
  const log = o.log ?? ((l: string) => console.error(l));
  const profile = applyOverrides(o.profile, o.overrides);
  const { scenarios, timeoutMs, connections } = validateProfile(profile);
  const seed = o.seed ?? Date.now() & 0x7fffffff;
  const metrics = new Metrics();
  const runThresholds = parseThresholds(profile.thresholds, (m) => metrics.kind(m));
  const client = new HttpClient(o.baseUrl, { connections, timeoutMs });
  const t0 = performance.now();
  const clock = () => performance.now() - t0;

  // Per-second sample accumulators, by completion time (a sample must be final when emitted).
  let secReqs = 0;
  let secFailed = 0;
  let secIterations = 0;
  let secDropped = 0;
  const secConfirm = new Trend();
  const rec: Recorder = {
    client,
    history: o.history,
    metrics,
    clock,
    onCompletion: (op, ms, failed) => {
      secReqs++;
      if (failed) secFailed++;
      if (op === 'confirm') secConfirm.add(ms);
    },
  };

  try {
    if (!o.skipProbe) await probe(client, o.fixtures.studentIds[0]!);
    // Every virtual user is a signed-in student: tokens from the dev issuer, made before the clock starts.
    const tokens = o.iteration ? undefined : await new TokenBook().prepare(o.fixtures.studentIds);
    // Each scenario with its own workload knobs; iteration numbers are unique across scenarios.
    const iterateFor = (w: (typeof scenarios)[number]['workload']) =>
      o.iteration ? o.iteration(rec) : paymentWorkload(rec, o.fixtures, w, seed, tokens!).iterate;

    const stop = new AbortController();
    if (o.stop) {
      if (o.stop.aborted) stop.abort();
      else o.stop.addEventListener('abort', () => stop.abort(), { once: true });
    }
    const cpu = new CpuMonitor();
    const samples: Sample[] = [];
    let abortedBy: string | null = null;
    let firstError: string | null = null;
    const abortOnFail = runThresholds.filter((t) => t.abortOnFail);

    const startedAt = new Date().toISOString();
    o.onStart?.({ startedAt, seed });
    const run = runScenarios(
      scenarios.map((x) => ({
        name: x.name,
        startTimeMs: x.startTimeMs,
        scenario: x.scenario,
        iterate: iterateFor(x.workload),
      })),
      {
        now: clock,
        stop: stop.signal,
        onIterationStart: (ctx, lagMs) =>
          metrics.addTrend('iteration_start_lag', {}, lagMs, ctx.scheduledAtMs / 1_000),
        onIterationEnd: (ctx, ms, interrupted) => {
          const atS = ctx.scheduledAtMs / 1_000;
          if (interrupted) metrics.addCount('interrupted_iterations', {}, 1, atS);
          else {
            secIterations++;
            metrics.addCount('iterations', {}, 1, atS);
            metrics.addTrend('iteration_duration', {}, ms, atS);
          }
        },
        onDropped: (atMs) => {
          secDropped++;
          metrics.addCount('dropped_iterations', {}, 1, atMs / 1_000);
        },
        onIterationError: (_ctx, err) => {
          firstError ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
        },
      },
    );

    let lastTickMs = 0;
    const tick = () => {
      const nowMs = clock();
      const spanS = Math.max(0.001, (nowMs - lastTickMs) / 1_000);
      lastTickMs = nowMs;
      const cpuShare = cpu.sample();
      metrics.setGauge('vus', run.status.activeVus);
      metrics.setGauge('vus_max', run.status.allocatedVus);
      const sample: Record<string, number> = {
        t: Math.round(nowMs) / 1_000,
        throughput_rps: secReqs / spanS,
        iterations_per_s: secIterations / spanS,
        errors: secFailed,
        in_flight: client.inFlight,
        vus: run.status.activeVus,
        dropped_iterations: secDropped,
      };
      if (cpuShare !== undefined) sample.cpu_pct = Math.round(cpuShare * 1_000) / 10;
      const s = secConfirm.stats();
      if (s) {
        sample.confirm_p50_ms = s.med;
        sample.confirm_p95_ms = s['p(95)'];
        sample.confirm_p99_ms = s['p(99)'];
        sample.confirms_per_s = s.count / spanS;
      }
      secReqs = secFailed = secIterations = secDropped = 0;
      secConfirm.reset();
      samples.push(sample as Sample);
      try {
        o.onSample?.(sample as Sample);
      } catch (err) {
        log(`[load] onSample threw: ${(err as Error).message}`);
      }
      if (abortOnFail.length > 0 && abortedBy === null) {
        const view = metrics.runView(nowMs / 1_000);
        const due = abortOnFail.filter((t) => nowMs >= t.delayAbortEvalMs);
        const failed = evaluateThresholds(due, view).find((c) => c.measured !== null && !c.pass);
        if (failed) {
          abortedBy = `${failed.name} ${failed.threshold}`;
          log(`[load] threshold ${abortedBy} failed (measured ${failed.measured}): aborting (abortOnFail)`);
          stop.abort();
        }
      }
    };
    const ticker = setInterval(tick, 1_000);
    let final: Awaited<typeof run.done>;
    try {
      final = await run.done;
    } finally {
      clearInterval(ticker);
    }
    tick();
    cpu.stop();
    const durationS = final.endedAtMs / 1_000;

    const timeline = typeof o.timeline === 'function' ? o.timeline() : (o.timeline ?? []);
    const windows: PhaseWindow[] = phaseWindows(timeline, durationS);
    const runView = metrics.runView(durationS);
    const criteria: Criterion[] = evaluateThresholds(runThresholds, runView, 'run');
    const phases = windows.map((w) => ({ window: w, view: metrics.windowView(w) }));
    for (const p of phases) {
      const spec = profile.phaseThresholds?.[p.window.phase] ?? profile.thresholds;
      criteria.push(
        ...evaluateThresholds(
          parseThresholds(spec, (m) => metrics.kind(m)),
          p.view,
          p.window.phase,
        ),
      );
    }
    const cpuJudgement = judgeCpu(cpu.samples, o.cpuLimits);
    const summary = buildSummary({
      profile: {
        name: profile.name,
        description: profile.description,
        // One scenario: its executor; several: `name:executor` each, as k6 lists them.
        executor:
          scenarios.length === 1
            ? scenarios[0]!.scenario.executor
            : scenarios.map((x) => `${x.name}:${x.scenario.executor}`).join(', '),
      },
      seed,
      startedAt,
      durationS,
      iterations: {
        expected: run.expected,
        started: final.started,
        completed: final.completed,
        interrupted: final.interrupted,
        dropped: final.dropped,
        errors: final.errors,
        firstError,
      },
      vus: { max: final.allocatedVus, peakActive: final.maxActiveVus },
      runView,
      metricNames: metrics.names(),
      checkNames: metrics.tagSets('checks').map((t) => t.check!),
      phases,
      criteria,
      cpu: cpuJudgement,
      eventLoopDelayP99Ms: cpu.eventLoopDelayP99Ms(),
      abortedBy,
      samples,
    });
    for (const w of summary.warnings) log(`[load] WARNING: ${w}`);
    return summary;
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

/** setup() fails fast when the target is down (STYLE: k6 scripts): one read, a few tries, 5 s at most. */
async function probe(client: HttpClient, studentId: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  let last = '';
  while (performance.now() < deadline) {
    const r = await client.request({
      method: 'GET',
      path: `/students/${encodeURIComponent(studentId)}/dashboard`,
      signal: AbortSignal.timeout(2_000),
    });
    if (r.kind === 'response' && r.status < 500) return;
    last = r.kind === 'response' ? `HTTP ${r.status}` : r.kind === 'error' ? r.code : r.kind;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`load setup: the API does not answer (last: ${last}); is the system running?`);
}
