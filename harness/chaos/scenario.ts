// What a chaos scenario is: data plus a few small functions. A scenario names a fault timeline
// relative to the start of the load, the load profile, the steady-state hypothesis (probes with
// tolerances) and what decides PASS (k6 thresholds per phase, invariants). One file per scenario
// in chaos/, `export default defineScenario({...})`; harness/chaos/catalogue.ts finds them by name.
import type { Duration } from '../load/duration.ts';
import { parseDurationMs } from '../load/duration.ts';
import type { LoadProfile, Workload } from '../load/profile.ts';
import type { Thresholds } from '../load/thresholds.ts';
import type { History } from '../run/history.ts';
import type { ProcessKind } from '../system/launcher.ts';
import type { SeedOptions } from '../system/seed.ts';
import type { Capability, ServiceControl } from '../target/target.ts';
import type { FlowDuringFault, TransportExpectation } from './flow-during-fault.ts';

/** A proxy as faults name it: `kafka`, `postgres`, `redis`, or one broker (`kafka-2`). */
export type LogicalProxy = string;

/** One process of the system under test, as the faults see it. */
export interface ProcessView {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly pid: number;
  readonly running: boolean;
  readonly metricsPort: number;
  /** Where its /metrics and /healthz answer (default http://127.0.0.1:<metricsPort>). */
  readonly metricsUrl?: string;
  /** Restarts performed by the supervisor so far. */
  readonly restarts: number;
}

/** What faults may do to the processes: a RunningSystem we started, or one we attached to. */
export interface SystemControl {
  readonly apiUrl: string;
  processes(): readonly ProcessView[];
  /** Sends a signal to one process's group; false when it is not running. */
  signal(name: string, sig: NodeJS.Signals): boolean;
  /**
   * Resumes a process paused by SIGSTOP, by the view taken when it was paused (a process restarted
   * meanwhile is another one and was never stopped). Default: SIGCONT to that pid.
   */
  resume?(p: ProcessView): void;
  /** Starts one more instance of a kind, with extra environment; returns its name. Absent when attached. */
  add?(kind: ProcessKind, env?: NodeJS.ProcessEnv): Promise<string>;
  /** Stops one instance for good (scale down). Absent when attached. */
  remove?(name: string): Promise<void>;
  /** Waits (bounded) until every group is Stable with every running instance. Absent when attached. */
  settle?(timeoutMs: number): Promise<void>;
}

/** Counts overlapping holds on one resource, so overlapping faults heal only when the last one ends. */
export interface Holds {
  /** Returns the number of holds after taking this one (1: the first: apply the fault). */
  acquire(key: string): number;
  /** Returns the number of holds left (0: the last: heal). */
  release(key: string): number;
}

/** Everything a fault action may touch. */
export interface FaultContext {
  readonly toxiproxyUrl: string;
  /** Kafka bootstrap addresses: `proxied` is what the system uses, `direct` bypasses every fault. */
  readonly kafka: { readonly proxied: string; readonly direct: string };
  readonly directDatabaseUrl: string;
  /** Kill and start the infrastructure's services (brokers, PostgreSQL); undefined when the target cannot. */
  readonly services: ServiceControl | undefined;
  /** The Toxiproxy proxies behind a logical name (`kafka`: every broker's proxy on a cluster). */
  proxies(logical: LogicalProxy): readonly string[];
  readonly system: SystemControl;
  readonly history: History;
  readonly holds: Holds;
  /** Unique per fault instance: names toxics so that overlapping faults never remove each other's. */
  readonly id: string;
  /** Aborted when the run is interrupted: long-running faults stop at once. */
  readonly signal: AbortSignal;
  /** Paused pids must be resumed even if the runner dies: the heal guard does it. */
  readonly guard: { paused(pid: number): void; resumed(pid: number): void };
  readonly log: (line: string) => void;
  /** Figures a fault reports for result.json (e.g. messages flooded). */
  readonly figures: Record<string, number | string>;
}

/** Undoes a fault. Must be idempotent and bounded (a heal that hangs is a bug: Toxiproxy #412). */
export type Heal = () => Promise<void>;

/** A fault action: what it targets, and how to inject it (returning its heal). */
export interface Fault {
  /** Label on the timeline and in result.faults, e.g. `partition kafka`, `SIGKILL purchase-worker`. */
  readonly label: string;
  /** `partition`, `latency`, `kill`, `pause`, `restart`... */
  readonly kind: string;
  /** `kafka`, `postgres`, `redis`, a process kind or name. */
  readonly target: string;
  /**
   * What the target must be able to do (harness/target/target.ts): a fault whose target cannot do
   * it makes the scenario UNKNOWN with the reason, before anything runs.
   */
  readonly needs?: readonly Capability[];
  inject(ctx: FaultContext): Promise<Heal>;
}

/** One entry of the timeline: inject at `at` (since the load started), heal `for` later. */
export interface TimelineStep {
  readonly at: Duration;
  /** How long the fault stays on; omitted for instantaneous faults (a kill): healed right away. */
  readonly for?: Duration;
  readonly fault: Fault;
}

/** A steady-state probe: a per-second metric of the run and its tolerances. */
export interface Probe {
  /** e.g. `confirm latency p95`. */
  readonly name: string;
  /**
   * A per-second sample metric: `confirm_p95_ms`, `error_pct` (failed share of requests, %),
   * `consumer_lag` (largest lag of any group), `outbox_backlog`.
   */
  readonly metric: ProbeMetric;
  /** Tolerance before the fault and after recovery (the steady state). */
  readonly max: number;
  /** Tolerance while the fault is on, checked every second; 'skip' (default): not checked then. */
  readonly during?: number | 'skip';
}

export type ProbeMetric = 'confirm_p95_ms' | 'error_pct' | 'consumer_lag' | 'outbox_backlog';

/** The system's shape for this scenario. */
export interface SystemSpec {
  readonly instances?: Partial<Record<ProcessKind, number>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Extra environment by process name (e.g. a clock skew for `session-worker#2`). */
  readonly envFor?: (name: string) => NodeJS.ProcessEnv | undefined;
  readonly seed?: SeedOptions;
}

/** The load, as changes to the chaos default (chaosProfile in harness/chaos/defaults.ts). */
export interface LoadSpec {
  /**
   * With `rate` (or the default rate), the most requests in flight; alone, a closed model of that
   * many users thinking ~250 ms, which takes whatever the machine gives.
   */
  readonly vus?: number;
  /**
   * Payments per second, an open model (constant-arrival-rate, at most `vus` in flight); default
   * 100 unless `vus` alone asks for the closed model. A closed model takes whatever the machine
   * gives, so the pipeline (niced below the API) gets what is left, which varies run to run far
   * more than the machine does.
   */
  readonly rate?: number;
  readonly duration?: Duration;
  readonly workload?: Workload;
  /** Replaces the whole profile (thresholds then come from `expect` only). */
  readonly profile?: LoadProfile;
}

/** k6 thresholds that decide PASS, over the whole run and per phase (before / during / after the faults). */
export interface Expectations {
  readonly run?: Thresholds;
  readonly before?: Thresholds;
  readonly during?: Thresholds;
  readonly after?: Thresholds;
}

/** What the run must have exercised to prove anything; a shortfall makes the run UNKNOWN. */
export type ExercisedMinimum = Readonly<Record<string, number>>;

export interface ChaosScenario {
  /** The file name in chaos/, e.g. `partition-kafka`. */
  readonly name: string;
  /** One line, shown by `--list`. */
  readonly description: string;
  /** Why it matters and what is expected, phase by phase (docs and the report). */
  readonly hypothesis: string;
  readonly system?: SystemSpec;
  readonly load?: LoadSpec;
  readonly timeline: readonly TimelineStep[];
  readonly steadyState: { readonly probes: readonly Probe[]; readonly settle?: Duration };
  /** The system must be back in its steady state this long after the last heal. */
  readonly recoverWithin: Duration;
  readonly expect: Expectations;
  readonly invariants?: {
    /** Only these decide (default: every invariant of the checker). */
    readonly only?: readonly string[];
    /** Invariants this scenario does not necessarily exercise: their 'unknown' is reported, not counted. */
    readonly mayBeUnexercised?: readonly string[];
  };
  /** Counters (Exercised keys, or chaos ones such as `faultsInjected`) that must reach a minimum. */
  readonly mustExercise?: ExercisedMinimum;
  /**
   * What Prometheus must say about this scenario's faults (alert-criteria.ts): each alert fires
   * within `within` of the first fault's start and clears within `clearWithin` of the last heal.
   * Whether declared or not, no alert may fire in the steady state before the first fault.
   */
  readonly alerts?: {
    /** Alerts the fault must raise, each within its bound, and clear after the heal. */
    readonly fire: readonly AlertExpectation[];
    /**
     * Alerts that must stay silent from the first fault to the end of the run (a page for the wrong
     * cause is a false positive too). Alerts in neither list may fire: secondary effects a fault
     * may or may not have on this machine (e.g. lag while a rebalance settles).
     */
    readonly silent?: readonly string[];
  };
  /**
   * Issue 15: the flow keeps going while the faults are on (the Redis Streams fallback): the
   * payments confirmed during the faults reach their sessions within this bound (after convergence).
   */
  readonly flowDuringFault?: FlowDuringFault;
  /** Issue 15: what the relay's breaker must have done (switches, events through the fallback). */
  readonly transport?: TransportExpectation;
  readonly checker?: {
    /** Largest clock skew of any process, ms. */
    readonly clockToleranceMs?: number;
    /** Bound on the wait for quiescence after the load; default 60 s. */
    readonly convergenceTimeout?: Duration;
  };
}

/** An alert a scenario's fault must raise (a rule name of system/alerts/payproof.rules.yml). */
export interface AlertExpectation {
  readonly alert: string;
  /** Bound from the first fault's injection to the first second the alert is firing. */
  readonly within: Duration;
  /** Bound from the last heal to the second from which it is no longer firing, to the end of the run. */
  readonly clearWithin: Duration;
}

/** Identity function that type-checks a scenario and validates its durations early. */
export function defineScenario(s: ChaosScenario): ChaosScenario {
  for (const [i, step] of s.timeline.entries()) {
    parseDurationMs(step.at, `${s.name}.timeline[${i}].at`);
    if (step.for !== undefined) parseDurationMs(step.for, `${s.name}.timeline[${i}].for`);
  }
  parseDurationMs(s.recoverWithin, `${s.name}.recoverWithin`);
  for (const name of s.alerts?.silent ?? [])
    if ((s.alerts?.fire ?? []).some((a) => a.alert === name))
      throw new Error(`${s.name}.alerts: ${name} is declared both to fire and to stay silent`);
  for (const [i, a] of (s.alerts?.fire ?? []).entries()) {
    parseDurationMs(a.within, `${s.name}.alerts.fire[${i}].within`);
    parseDurationMs(a.clearWithin, `${s.name}.alerts.fire[${i}].clearWithin`);
  }
  if (!/^[a-z0-9-]+$/.test(s.name))
    throw new Error(`scenario name ${JSON.stringify(s.name)}: use kebab-case`);
  return s;
}

/** Faults the scenario applies, and what they need from the run. */
export function needsOf(s: Pick<ChaosScenario, 'timeline'>): Set<string> {
  return new Set(s.timeline.flatMap((t) => t.fault.needs ?? []));
}
