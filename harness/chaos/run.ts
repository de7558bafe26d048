// One chaos run, read top to bottom: environment → steady state → workload + nemesis (the fault
// timeline) with probes watching → heal everything → convergence + checkers → verdict and run
// folder. Faults are healed on every path out: the end of the timeline, a breached probe, an
// error, Ctrl-C (the caller aborts `signal`), and a runner killed outright (the heal guard).
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type ConvergenceResult, convergenceInvariant, waitForConvergence } from '../checker/convergence.ts';
import { runChecker } from '../checker/run-checker.ts';
import { type MachineMark, machineFigures, machineWindow, markMachine } from '../lib/machine-watch.ts';
import { parseDurationMs } from '../load/duration.ts';
import { runLoad } from '../load/engine.ts';
import { phaseWindows } from '../load/phases.ts';
import { plannedDurationMs, validateProfile } from '../load/profile.ts';
import type { LoadSummary, MetricSummary } from '../load/summary.ts';
import { files } from '../report/run-data.ts';
import { createRunFolder, finalizeRun, SampleWriter, writeResult } from '../report/run-folder.ts';
import { History } from '../run/history.ts';
import {
  type Criterion,
  decideVerdict,
  type Exercised,
  exitCodeFor,
  type InvariantResult,
  type RunResult,
  resultSchemaVersion,
} from '../run/result.ts';
import { type AlertFault, alertFaultNames } from '../system/alert-rules.ts';
import { providerFor } from '../target/providers.ts';
import { type Capability, missingCapabilities, type TargetProvider } from '../target/target.ts';
import {
  alertCriteria,
  alertIntervals,
  alertKey,
  alertNames,
  alertSample,
  firstInjectionS,
} from './alert-criteria.ts';
import { createHolds, FaultController } from './controller.ts';
import { dashboardSweep } from './dashboard-sweep.ts';
import { chaosProfile } from './defaults.ts';
import { type AttachOptions, attachProvider, type RunEnvironment } from './environment.ts';
import { type FlowJudgement, judgeFlowDuringFault, transportCriteria } from './flow-during-fault.ts';
import { startHealGuard } from './heal-guard.ts';
import { maxLag, Observer } from './observe.ts';
import { type AlertExpectation, type ChaosScenario, needsOf, type TimelineStep } from './scenario.ts';
import {
  type Breach,
  checkSteadyState,
  DuringWatch,
  type SampleLike,
  timeToRecover,
} from './steady-state.ts';

export interface ChaosRunOptions {
  readonly scenario: ChaosScenario;
  /** Replaces the scenario's timeline (the random nemesis, a replayed schedule). */
  readonly timeline?: readonly TimelineStep[];
  /** Name of the run folder and of result.scenario (`chaos:<label>`); default the scenario's name. */
  readonly label?: string;
  /** `load` for `npm run load` (a run with no fault timeline): names the folder `load:<label>`. */
  readonly kind?: 'chaos' | 'load';
  /** Planted bugs (PAYPROOF_FAULTS) for the system this run starts. */
  readonly plantedFaults?: readonly string[];
  /**
   * Extra environment for every process of the system this run starts: a planted
   * misconfiguration (`KAFKA_ACKS=1`). Needs a target that starts the system, like planted bugs.
   */
  readonly systemEnv?: Readonly<Record<string, string>>;
  /** What the system runs on (harness/target/); default native (a fresh stack and system). */
  readonly target?: TargetProvider;
  /** Attach to a running stack and system instead of starting fresh ones (an external target). */
  readonly attach?: AttachOptions;
  /** Seeds the load's choices (and the flood's). */
  readonly seed?: number;
  readonly reportsRoot?: string;
  /** Aborted on Ctrl-C: the load stops, faults heal, the run ends UNKNOWN. */
  readonly signal?: AbortSignal;
  /** The exact command that replays this run. */
  readonly replay?: string;
  readonly log?: (line: string) => void;
  /** About once a second from the stack's start to the end of the checks: what the run is doing. */
  readonly onProgress?: (p: RunProgress) => void;
}

/** What a run is doing right now, for a live progress line (harness/cli/run-progress.ts). */
export interface RunProgress {
  /** Seconds since the run started (the stack is up by then). */
  readonly elapsedS: number;
  readonly phase: 'setup' | 'warm-up' | 'load' | 'converging' | 'checking';
  /** Seconds of measured load so far, and planned (null when the executor has no fixed duration). */
  readonly loadS: number;
  readonly loadTotalS: number | null;
  /** The fault on now (the first, when several are): seconds it has been on, and for how long it will be. */
  readonly fault?: { readonly label: string; readonly onS: number; readonly forS: number | null };
  /** Faults already healed. */
  readonly healed: number;
  readonly vus?: number;
  readonly rps?: number;
  /** Confirm p95 over the last second, ms. */
  readonly confirmP95Ms?: number;
  /** Failed or indeterminate requests so far. */
  readonly errors: number;
  readonly outboxBacklog?: number;
  /** Largest consumer lag of any group. */
  readonly lag?: number;
}

export interface ChaosOutcome {
  readonly result: RunResult;
  /** The load's end-of-test summary (formatSummary, --summary-export); undefined when the load never ran. */
  readonly load: LoadSummary | undefined;
  readonly dir: string;
  readonly page: string | undefined;
  readonly exitCode: number;
}

/** Seconds of load before the "before" steady state is judged (VUs ramp over startSpread). */
const warmupS = 3;

export async function runChaos(o: ChaosRunOptions): Promise<ChaosOutcome> {
  const s = o.scenario;
  const timeline = o.timeline ?? s.timeline;
  // A replaced timeline (random nemesis, a replayed schedule) is not what the scenario's alerts are about.
  const declaredAlerts = o.timeline ? undefined : s.alerts;
  const expectedAlerts = declaredAlerts?.fire ?? [];
  const log = o.log ?? ((l: string) => console.error(l));
  const planted = [...(o.plantedFaults ?? [])];
  // Planted bugs in the alert rules go to Prometheus, the others to the system's processes.
  const alertFaults = planted.filter((f): f is AlertFault =>
    (alertFaultNames as readonly string[]).includes(f),
  );
  const systemFaults = planted.filter((f) => !(alertFaultNames as readonly string[]).includes(f));
  const names = alertNames();
  const seed = o.seed ?? Date.now() % 1_000_000;
  const label = o.label ?? s.name;
  const startedAt = new Date();
  const wall0 = performance.now();
  const provider = o.attach ? attachProvider(o.attach) : (o.target ?? providerFor('native'));
  const replay =
    o.replay ??
    `npm run chaos -- ${s.name} --seed ${seed}${planted.length ? ` --faults ${planted.join(',')}` : ''}${
      o.systemEnv
        ? ` --env ${Object.entries(o.systemEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : ''
    }${provider.ref.provider === 'native' ? '' : ` --target ${provider.ref.text}`}`;

  const dir = createRunFolder(`${o.kind ?? 'chaos'}:${label}`, o.reportsRoot);
  log(`[chaos] ${label}: run folder ${dir}`);
  // A fault the target cannot perform: UNKNOWN with the reason, before anything starts.
  const misconfigured = Object.entries(o.systemEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  const cannot = cannotRun(timeline, [...planted, ...misconfigured], provider);
  if (cannot) {
    log(`[chaos] ${label}: UNKNOWN: ${cannot}`);
    return unknownOutcome({
      dir,
      label,
      kind: o.kind,
      seed,
      startedAt,
      planted,
      replay,
      reason: cannot,
      provider,
    });
  }
  const env: RunEnvironment = await provider.open({
    runDir: join(dir, 'stack'),
    spec: o.systemEnv ? { ...s.system, env: { ...s.system?.env, ...o.systemEnv } } : (s.system ?? {}),
    faults: systemFaults,
    alertFaults,
    log,
    // Nothing to inject: no proxy on the path (a load run).
    direct: timeline.length === 0,
  });
  const guard = startHealGuard(env.endpoints.toxiproxyUrl);
  const samples = new SampleWriter(dir);
  const history = new History(join(dir, files.history));
  const observer = new Observer({
    directKafka: env.endpoints.direct.kafkaBrokers,
    directDatabaseUrl: env.endpoints.direct.databaseUrl,
    processes: () => env.system.processes(),
  });
  const probes = s.steadyState.probes;
  const recorded: SampleLike[] = [];
  const watch = new DuringWatch(probes);
  const faultFigures: Record<string, number | string> = {};
  const holds = createHolds();
  let breach: Breach | undefined;
  let gate: Criterion[] = [];
  let loadStartS = 0;
  // The machine at the load's first and last second: who else used the CPU while latency was measured.
  let machineAtStart: MachineMark | undefined;
  let machineAtEnd: MachineMark | undefined;
  const loadavgAtStart = loadavg();
  const stopLoad = new AbortController();
  const interrupted = () => o.signal?.aborted === true;
  // Before the measured load: inserting fixtures, then the profile's warm-up when it has one.
  let phase: RunProgress['phase'] = chaosProfile(s.name, s.load, s.expect).warmup ? 'warm-up' : 'setup';
  let errorsSoFar = 0;
  const loadTotalS = plannedSeconds(chaosProfile(s.name, s.load, s.expect));

  const controller = new FaultController({
    timeline,
    nowS: () => samples.elapsedS(),
    log,
    pids: () => env.pids(),
    toxiproxyUrl: env.endpoints.toxiproxyUrl,
    // The steady state must hold before the first fault: faulting a system already off proves nothing.
    gate: () => {
      // Judged after the warm-up; a fault due earlier than that is judged on whatever load ran.
      const nowS = samples.elapsedS();
      const fromS = recorded.some((x) => x.t >= loadStartS + warmupS && x.t <= nowS)
        ? loadStartS + warmupS
        : loadStartS;
      gate = checkSteadyState(probes, recorded, fromS, nowS, 'before');
      const bad = gate.find((c) => !c.pass);
      return bad ? `${bad.name}: measured ${bad.measured}, tolerance ${bad.threshold}` : undefined;
    },
    context: (id) => ({
      toxiproxyUrl: env.endpoints.toxiproxyUrl,
      kafka: { proxied: env.endpoints.kafkaBrokers, direct: env.endpoints.direct.kafkaBrokers },
      directDatabaseUrl: env.endpoints.direct.databaseUrl,
      services: env.services,
      proxies: (logical) => env.proxies(logical),
      system: env.system,
      history,
      holds,
      id,
      signal: o.signal ?? new AbortController().signal,
      guard,
      log,
      figures: faultFigures,
    }),
  });
  const onAbort = () => {
    stopLoad.abort();
    void controller.healAll('interrupted');
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  // One sample a second, from the start of the load to the end of the convergence wait.
  const sampling = startSampling(async () => {
    const t = samples.elapsedS();
    // Prometheus's alert state, every second: a gap (no alert_* keys) when it does not answer.
    const [observed, alerts] = await Promise.all([
      observer.sample(),
      env.prometheus?.alerts(1_500).catch(() => undefined),
    ]);
    const values = alerts ? { ...observed, ...alertSample(names, alerts) } : observed;
    samples.write(values);
    const sample = { ...values, t };
    recorded.push(sample);
    if (o.onProgress) {
      if (phase === 'load' && typeof values.errors === 'number') errorsSoFar += values.errors;
      const on = controller.active()[0];
      const forS = on ? timeline[on.step]?.for : undefined;
      o.onProgress({
        elapsedS: t,
        phase,
        loadS: phase === 'warm-up' || phase === 'setup' ? 0 : Math.max(0, t - loadStartS),
        loadTotalS,
        ...(on
          ? {
              fault: {
                label: on.label,
                onS: t - on.startS,
                forS: forS ? parseDurationMs(forS) / 1_000 : null,
              },
            }
          : {}),
        healed: controller.intervals.length,
        ...(phase === 'load' || phase === 'warm-up'
          ? { vus: values.vus, rps: values.throughput_rps, confirmP95Ms: values.confirm_p95_ms }
          : {}),
        errors: errorsSoFar,
        outboxBacklog: values.outbox_backlog,
        lag: maxLag(sample),
      });
    }
    if (controller.faulty && !breach) {
      breach = watch.feed(sample);
      if (breach) {
        log(
          `[chaos] probe breached: ${breach.probe.name} = ${breach.value} > ${breach.probe.during}: healing now`,
        );
        void controller.healAll(`probe ${breach.probe.name} breached`);
      }
    }
  });

  let load: LoadSummary | undefined;
  let checked: Awaited<ReturnType<typeof runChecker>> | undefined;
  let convergence: ConvergenceResult | undefined;
  let flow: FlowJudgement | undefined;
  const apiUrl = env.system.apiUrl;
  const directDatabaseUrl = env.endpoints.direct.databaseUrl;
  let runError: Error | undefined;
  try {
    // Workload + nemesis: the timeline's t = 0 is the load's first iteration.
    log(
      `[chaos] load: ${describeLoad(s)}; faults: ${timeline.map((t) => `${t.fault.label} @${t.at}${t.for ? `+${t.for}` : ''}`).join('; ') || 'none'}`,
    );
    load = await runLoad({
      baseUrl: env.system.apiUrl,
      databaseUrl: env.endpoints.direct.databaseUrl,
      profile: chaosProfile(s.name, s.load, s.expect),
      history,
      seed,
      stop: stopLoad.signal,
      onSample: (x) => observer.onLoadSample(x),
      onStart: () => {
        phase = 'load';
        machineAtStart = safeMark();
        loadStartS = samples.elapsedS();
        controller.start(loadStartS);
      },
      timeline: () => controller.relativeToLoad(),
      log,
    });
    machineAtEnd = safeMark();
    await controller.finished();
    await controller.healAll('end of the timeline');
    if (!interrupted()) {
      phase = 'converging';
      log('[chaos] load done, faults healed: waiting for convergence, then checking every invariant');
      // Reads right after the load race the invalidations still in flight.
      const early = await dashboardSweep({ apiUrl, directDatabaseUrl, history });
      convergence = await waitForConvergence({
        databaseUrl: directDatabaseUrl,
        brokers: env.endpoints.kafkaBrokers,
        timeoutMs: parseDurationMs(s.checker?.convergenceTimeout ?? '60s'),
      });
      // Reads after quiescence leave entries for cache-converged to judge (a stale entry is a hit:
      // these reads can never overwrite it).
      const late = await dashboardSweep({ apiUrl, directDatabaseUrl, history });
      faultFigures.dashboard_reads_after_load = early.ok + late.ok;
    }
    await history.close();
    if (!interrupted()) {
      phase = 'checking';
      // What the run exercised comes from outside the system under test: restarts from the
      // harness's own supervisor, rebalances from the broker, aborted transactions from PostgreSQL's
      // statistics; the workers' own metrics are reported as figures only.
      await observer.readMembership();
      const independent = observer.independent();
      // A broker or database the harness itself killed and restarted: every consumer's uncommitted
      // batch comes again (members may rejoin under their old ids, so the broker's membership does
      // not show it). Counted from the harness's own fault control.
      const serviceRestarts = controller.intervals.filter((f) => f.kind === 'restart').length;
      checked = await runChecker({
        endpoints: env.endpoints,
        historyPath: history.path,
        extraExercised: {
          restarts: env.restarts() + serviceRestarts,
          rebalances: independent.brokerRebalances,
          retriesAfterTransientError: independent.transactionsRolledBack,
        },
        convergence: false,
        ...(s.checker?.clockToleranceMs ? { clockToleranceMs: s.checker.clockToleranceMs } : {}),
        ...(s.invariants?.only ? { only: s.invariants.only } : {}),
      });
      if (s.flowDuringFault && controller.intervals.length > 0) {
        const startS = firstInjectionS(controller.intervals)!;
        const endS = Math.max(...controller.intervals.map((f) => f.endS ?? samples.elapsedS()));
        flow = await judgeFlowDuringFault(
          directDatabaseUrl,
          { startS, endS },
          Date.now() - samples.elapsedS() * 1000,
          s.flowDuringFault,
        );
        log(
          `[chaos] flow during the fault: ${flow.figures.flow_during_fault_confirmed} payments confirmed, confirm → sessions p50 ${flow.figures.flow_during_fault_p50_ms} ms, p95 ${flow.figures.flow_during_fault_p95_ms} ms; ${flow.figures.fallback_rows} outbox rows went through the fallback`,
        );
      }
      // An alert whose window outlasts the checks is watched until it clears, or its bound passes.
      await waitForAlertsToClear(expectedAlerts, recorded, controller.intervals, samples, o.signal);
    }
  } catch (err) {
    runError = err as Error;
    log(`[chaos] run error: ${runError.stack ?? runError.message}`);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await controller.healAll('run over').catch((e) => log(`[chaos] heal: ${(e as Error).message}`));
    await history.close().catch(() => undefined);
    await sampling.stop();
    await observer.close();
  }

  // Verdict: thresholds per phase, steady state before / during / after, invariants, exercised.
  const lastHealS = Math.max(...controller.intervals.map((f) => f.endS ?? 0), Number.NEGATIVE_INFINITY);
  const settleS = parseDurationMs(s.steadyState.settle ?? '3s') / 1_000;
  const recoverS = Number.isFinite(lastHealS)
    ? timeToRecover(probes, recorded, lastHealS, settleS)
    : undefined;
  const criteria: Criterion[] = [
    ...gate,
    ...watch.criteria(breach),
    ...(load?.criteria ?? []),
    ...(flow?.criteria ?? []),
  ];
  if (timeline.length > 0)
    criteria.push(
      ...alertCriteria({
        samples: recorded,
        names,
        expected: expectedAlerts,
        silent: declaredAlerts?.silent ?? [],
        loadStartS,
        // The earliest injection, not the first interval recorded: intervals are recorded as
        // faults end, so a short fault injected later (slow-close's kill at 15 s) came first and
        // moved the steady state's end past the 10 s injections (a lag alert of the fault was
        // then judged a false positive).
        firstFaultS: firstInjectionS(controller.intervals),
        lastHealS: Number.isFinite(lastHealS) ? lastHealS : undefined,
      }),
    );
  if (Number.isFinite(lastHealS)) {
    const boundS = parseDurationMs(s.recoverWithin) / 1_000;
    criteria.push({
      name: `time to recover: every probe within tolerance for ${settleS} s after the last heal (s)`,
      threshold: `<=${boundS}`,
      measured: recoverS ?? null,
      pass: recoverS !== undefined && recoverS <= boundS,
      phase: 'after',
      unit: 's',
    });
  }
  const machine =
    machineAtStart && machineAtEnd
      ? machineFigures(machineWindow(machineAtStart, machineAtEnd, { cores: cpus().length }))
      : undefined;
  if (machine?.warning) log(`[chaos] ⚠ ${machine.warning}`);
  const counters = observer.counters();
  if (s.transport) criteria.push(...transportCriteria(s.transport, counters));
  const independent = observer.independent();
  const exercised: Record<string, number> = {
    ...(checked?.exercised ?? {}),
    faultsInjected: controller.injected,
    restarts: Math.max(env.restarts(), checked?.exercised.restarts ?? 0),
    rebalances: independent.brokerRebalances,
    transactionsRolledBack: independent.transactionsRolledBack,
    deadlocks: independent.deadlocks,
  };
  const invariants: InvariantResult[] = [
    ...(convergence ? [convergenceInvariant(convergence)] : []),
    ...(checked?.invariants ?? []),
  ];
  invariants.push(
    ...chaosChecks({ s, timeline, controller, exercised, breach, gateFailed: gate.some((c) => !c.pass) }),
  );
  // Capacity is contended only where a scenario makes it so (few seats, and it says so with
  // mustExercise.capacityReached): elsewhere trainer-capacity's 'unknown' is reported, not counted.
  const mayBeUnexercised = new Set([
    ...(s.invariants?.mayBeUnexercised ?? []),
    ...(s.mustExercise?.capacityReached ? [] : ['trainer-capacity']),
    // Refunds, forged webhooks and foreign reads are drawn by chance (a few percent of iterations);
    // a short run may draw none. Checked always; counted when they happened.
    'money',
    'no-forged-effect',
    'ownership',
  ]);
  const deciding = invariants.filter((i) => !(i.valid === 'unknown' && mayBeUnexercised.has(i.name)));
  let { verdict, reason } = decideVerdict(criteria, deciding);
  // Faulting a system that was already off its steady state teaches nothing: unknown, not failed
  // (unless an invariant broke anyway).
  if (controller.gateFailure && !deciding.some((i) => i.valid === false))
    ({ verdict, reason } = {
      verdict: 'UNKNOWN',
      reason: `steady state not met before the first fault (${controller.gateFailure}): no fault injected`,
    });
  if (interrupted())
    ({ verdict, reason } = {
      verdict: 'UNKNOWN',
      reason: 'interrupted (Ctrl-C): faults healed, nothing checked',
    });
  else if (runError && verdict !== 'FAIL')
    ({ verdict, reason } = { verdict: 'UNKNOWN', reason: `run error: ${runError.message}` });
  const waived = invariants
    .filter((i) => i.valid === 'unknown' && mayBeUnexercised.has(i.name))
    .map((i) => i.name);
  if (waived.length && verdict === 'PASS')
    reason += `; not exercised by this scenario (reported, not counted): ${waived.join(', ')}`;

  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    verdict,
    reason,
    scenario: `${o.kind ?? 'chaos'}:${label}`,
    seed,
    startedAt: startedAt.toISOString(),
    durationS: Math.round(performance.now() - wall0) / 1_000,
    criteria,
    invariants,
    exercised: exercised as Partial<Exercised>,
    plantedFaults: [...planted, ...misconfigured],
    faults: controller.intervals,
    figures: {
      ...(load?.figures ?? {}),
      ...phaseFigures(load, recorded, controller.intervals, loadStartS),
      ...faultFigures,
      ...(flow?.figures ?? {}),
      time_to_recover_s: recoverS ?? null,
      time_to_converge_s: convergence ? convergence.waitedMs / 1_000 : null,
      events_processed: counters.eventsProcessed,
      duplicates_delivered: checked?.exercised.duplicatesDelivered ?? null,
      duplicates_absorbed: counters.idempotencyHits,
      dead_lettered: counters.deadLettered,
      deadlock_retries: counters.deadlockRetries,
      transient_retries: counters.transientRetries,
      rebalances: independent.brokerRebalances,
      rebalances_per_group: Object.entries(independent.brokerRebalancesPerGroup)
        .map(([g, n]) => `${g} ${n}`)
        .join(', '),
      system_reported_rebalances: counters.rebalances,
      // Issue 15 (the system's own metrics, figures only): the two transports.
      system_reported_transport_switches: counters.transportSwitches,
      system_reported_stream_published: counters.streamPublished,
      system_reported_kafka_republished: counters.kafkaRepublished,
      system_reported_kafka_consumed: counters.kafkaConsumed,
      system_reported_stream_consumed: counters.streamConsumed,
      system_reported_kafka_duplicates: counters.kafkaDuplicates,
      system_reported_stream_duplicates: counters.streamDuplicates,
      transactions_rolled_back: independent.transactionsRolledBack,
      deadlocks: independent.deadlocks,
      supervisor_restarts: env.restarts(),
      alerts_firing: alertIntervals(recorded, names) || 'none',
      prometheus: env.prometheus?.url ?? 'none (attached)',
      hypothesis: s.hypothesis,
      ...(machine?.figures ?? {}),
      ...(machine?.warning ? { machine_warning: machine.warning } : {}),
      ...(controller.errors.length ? { fault_errors: controller.errors.join(' | ') } : {}),
      ...(breach ? { probe_breach: `${breach.probe.name} = ${breach.value} at t=${breach.atS}s` } : {}),
    },
    environment: {
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      loadavg: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
      loadavgAtStart: loadavgAtStart.map((x) => x.toFixed(2)).join(' '),
      target: env.ref.text,
      kafkaBrokers: String(env.endpoints.kafkaBrokers.split(',').length),
      stack: env.owned ? 'fresh (free ports)' : 'attached (not started by this run)',
      stackRunDir: env.endpoints.runDir,
      servicesPath:
        env.path === 'direct'
          ? 'direct (no fault in the timeline: the system talks to PostgreSQL, Kafka and Redis without Toxiproxy)'
          : 'through Toxiproxy',
    },
    replay,
  };

  try {
    await env.close();
  } catch (err) {
    log(`[chaos] stopping the environment: ${(err as Error).message}`);
  }
  guard.done();
  writeResult(dir, result);
  let page: string | undefined;
  try {
    page = finalizeRun(dir).page;
  } catch (err) {
    log(`[chaos] report: ${(err as Error).message}`);
  }
  return { result, load, dir, page, exitCode: exitCodeFor(verdict) };
}

/** The machine's counters now, or undefined where /proc cannot be read (not Linux). */
function safeMark(): MachineMark | undefined {
  try {
    return markMachine();
  } catch {
    return undefined;
  }
}

/**
 * Keeps sampling (the sampling loop runs) until every expected alert is no longer firing in the
 * latest sample, or its clear bound after the last heal has passed (then the criterion fails).
 */
async function waitForAlertsToClear(
  expected: readonly AlertExpectation[],
  recorded: readonly SampleLike[],
  intervals: readonly { endS: number | null }[],
  samples: SampleWriter,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (expected.length === 0) return;
  const lastHealS = Math.max(0, ...intervals.map((f) => f.endS ?? 0));
  const deadlineS = lastHealS + Math.max(...expected.map((e) => parseDurationMs(e.clearWithin) / 1000)) + 2;
  while (!signal?.aborted && samples.elapsedS() < deadlineS) {
    const last = recorded[recorded.length - 1] as Readonly<Record<string, number | undefined>> | undefined;
    if (last && expected.every((e) => last[alertKey(e.alert)] === 0)) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Why this target cannot run this timeline (or these planted bugs); undefined when it can. */
export function cannotRun(
  timeline: readonly TimelineStep[],
  planted: readonly string[],
  provider: Pick<TargetProvider, 'lacks' | 'unavailable' | 'ref'>,
): string | undefined {
  const unavailable = provider.unavailable();
  if (unavailable) return unavailable;
  const needs = new Set<Capability>(needsOf({ timeline }) as Set<Capability>);
  if (planted.length) needs.add('planted-bugs');
  const missing = missingCapabilities(needs, provider.lacks);
  return missing.length ? `target ${provider.ref.text} ${missing.join('; ')}` : undefined;
}

/** The result of a run that could not start on its target: UNKNOWN, with the reason, nothing checked. */
function unknownOutcome(a: {
  dir: string;
  label: string;
  kind: ChaosRunOptions['kind'];
  seed: number;
  startedAt: Date;
  planted: readonly string[];
  replay: string;
  reason: string;
  provider: TargetProvider;
}): ChaosOutcome {
  const result: RunResult = {
    schemaVersion: resultSchemaVersion,
    verdict: 'UNKNOWN',
    reason: a.reason,
    scenario: `${a.kind ?? 'chaos'}:${a.label}`,
    seed: a.seed,
    startedAt: a.startedAt.toISOString(),
    durationS: 0,
    criteria: [],
    invariants: [
      {
        name: 'chaos-faults-applied',
        description:
          'every fault of the timeline was injected and healed (else the run proves nothing about it)',
        valid: 'unknown',
        violations: 0,
        examples: [],
        checked: 0,
        unknownReason: a.reason,
      },
    ],
    exercised: {},
    plantedFaults: [...a.planted],
    faults: [],
    figures: {},
    environment: { node: process.version, target: a.provider.ref.text },
    replay: a.replay,
  };
  writeResult(a.dir, result);
  let page: string | undefined;
  try {
    page = finalizeRun(a.dir).page;
  } catch {
    // the result stands without its page
  }
  return { result, load: undefined, dir: a.dir, page, exitCode: exitCodeFor('UNKNOWN') };
}

/** The measured load's planned length in seconds, when the executor has one. */
function plannedSeconds(p: ReturnType<typeof chaosProfile>): number | null {
  try {
    const { scenarios } = validateProfile(p);
    // Iteration-based executors end when their iterations are done: no fixed length to show.
    if (scenarios.some((x) => x.scenario.executor.endsWith('iterations'))) return null;
    return plannedDurationMs(scenarios) / 1_000;
  } catch {
    return null; // runLoad reports the profile's error
  }
}

function describeLoad(s: ChaosScenario): string {
  const p = chaosProfile(s.name, s.load, s.expect);
  return p.description;
}

/** Runs `tick` about once a second until stopped; a slow tick delays the next one, never overlaps it. */
function startSampling(tick: () => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped && i < 24 * 3_600; i++) {
      const t0 = performance.now();
      try {
        await tick();
      } catch {
        // A sample that cannot be taken is a gap in the charts, not a reason to stop the run.
      }
      const waitMs = 1_000 - (performance.now() - t0);
      if (waitMs > 0 && !stopped) await new Promise((r) => setTimeout(r, waitMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** The harness's own checks, as invariants: were the faults applied and healed, was enough exercised? */
function chaosChecks(a: {
  s: ChaosScenario;
  timeline: readonly TimelineStep[];
  controller: FaultController;
  exercised: Readonly<Record<string, number>>;
  breach: Breach | undefined;
  gateFailed: boolean;
}): InvariantResult[] {
  const out: InvariantResult[] = [];
  const { controller } = a;
  const stoppedEarly = a.breach !== undefined || a.gateFailed;
  const missing = a.timeline.length - controller.injected;
  out.push({
    name: 'chaos-faults-applied',
    description: 'every fault of the timeline was injected and healed (else the run proves nothing about it)',
    valid:
      controller.unhealed.length > 0 || controller.errors.length > 0 || (missing > 0 && !stoppedEarly)
        ? 'unknown'
        : a.gateFailed
          ? 'unknown'
          : true,
    violations: 0,
    examples: [...controller.errors, ...controller.unhealed]
      .slice(0, 5)
      .map((e) => ({ kind: 'fault-error', error: e })),
    checked: a.timeline.length,
    ...(a.gateFailed
      ? { unknownReason: 'the steady state did not hold before the first fault: no fault injected' }
      : controller.errors.length || controller.unhealed.length
        ? { unknownReason: [...controller.errors, ...controller.unhealed].join('; ') }
        : missing > 0 && !stoppedEarly
          ? {
              unknownReason: `${missing} of ${a.timeline.length} faults never injected (timeline longer than the load?)`,
            }
          : {}),
  });
  const short = Object.entries(a.s.mustExercise ?? {}).filter(([k, min]) => (a.exercised[k] ?? 0) < min);
  if (a.s.mustExercise) {
    out.push({
      name: 'chaos-exercised',
      description: `the run exercised what this scenario is about: ${Object.entries(a.s.mustExercise)
        .map(([k, v]) => `${k} >= ${v}`)
        .join(', ')}`,
      valid: short.length ? 'unknown' : true,
      violations: 0,
      examples: short.map(([k, min]) => ({
        kind: 'not-exercised',
        counter: k,
        expected: min,
        found: a.exercised[k] ?? 0,
      })),
      checked: Object.keys(a.s.mustExercise).length,
      ...(short.length
        ? { unknownReason: short.map(([k, min]) => `${k} = ${a.exercised[k] ?? 0} < ${min}`).join(', ') }
        : {}),
    });
  }
  return out;
}

function counterIn(m: Readonly<Record<string, MetricSummary>> | undefined, key: string): number | null {
  const x = m?.[key];
  return x?.type === 'counter' ? x.values.count : null;
}

/** Per-phase figures the load summary does not have: confirmations, largest lag and backlog. */
function phaseFigures(
  load: LoadSummary | undefined,
  recorded: readonly SampleLike[],
  intervals: readonly { startS: number; endS: number | null; label: string }[],
  loadStartS: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const endS = recorded.length ? recorded[recorded.length - 1]!.t : loadStartS;
  for (const w of phaseWindows(intervals, endS)) {
    const inW = recorded.filter((x) => x.t >= w.fromS && x.t < w.toS);
    const lags = inW.map((x) => maxLag(x)).filter((v): v is number => v !== undefined);
    const backlog = inW.map((x) => x.outbox_backlog).filter((v): v is number => v !== undefined);
    out[`${w.phase}_lag_max`] = lags.length ? Math.max(...lags) : null;
    out[`${w.phase}_outbox_backlog_max`] = backlog.length ? Math.max(...backlog) : null;
    out[`${w.phase}_duration_s`] = Math.round((w.toS - w.fromS) * 1000) / 1000;
  }
  for (const p of load?.phases ?? []) out[`${p.phase}_confirms`] = counterIn(p.metrics, 'payments_confirmed');
  return out;
}
