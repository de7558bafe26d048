// What the system under test runs on: one abstraction for every command. A target says where each
// service answers (directly, and through its Toxiproxy proxy), which Toxiproxy proxies stand for a
// logical one, how to kill / pause / restart each process of the system, and what it cannot do.
//
//   native          today's single-node stack on this machine, started by the harness (default)
//   native-cluster  the same with three KRaft brokers (replication 3, min.insync.replicas 2)
//   compose         docker-compose.yml (or compose:<file>) on a Docker engine
//   testcontainers  the test suite's services in containers (the npm testcontainers modules)
//   external:<file> a deployment someone else runs, described by a target file (docs/targets.md)
//
// A provider is known before anything starts (`lacks` says what it cannot do and why), so a
// scenario whose faults the target cannot perform is UNKNOWN with that reason, not a silent pass.
import type { ProcessView, SystemControl } from '../chaos/scenario.ts';

/** What a fault may need from the target. */
export type Capability = 'network' | 'processes' | 'scaling' | 'services' | 'brokers' | 'planted-bugs';

export const capabilityText: Readonly<Record<Capability, string>> = {
  network: 'inject network faults through Toxiproxy',
  processes: 'kill and pause processes of the system',
  scaling: 'add and remove instances of a process',
  services: 'kill and restart infrastructure services (brokers, PostgreSQL)',
  brokers: 'kill, isolate or restart one broker of a Kafka cluster',
  'planted-bugs': 'start the system with planted bugs (PAYPROOF_FAULTS)',
};

export const providerNames = ['native', 'native-cluster', 'compose', 'testcontainers', 'external'] as const;
export type ProviderName = (typeof providerNames)[number];

/** A `--target` value, parsed. */
export interface TargetRef {
  readonly provider: ProviderName;
  /** The target file, for `external:<file>`; the compose file, for `compose:<file>`. */
  readonly file?: string;
  /** As the user wrote it (for replay commands and reports). */
  readonly text: string;
}

/** Where clients reach the services: everything but `direct` goes through Toxiproxy when there is one. */
export interface ServiceEndpoints {
  readonly databaseUrl: string;
  /** Comma-separated bootstrap addresses (one per broker on a cluster). */
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  /** The Toxiproxy HTTP API; '' when the target has none. */
  readonly toxiproxyUrl: string;
  /** Direct addresses, bypassing faults: for the harness's own setup and checks only. */
  readonly direct: { readonly databaseUrl: string; readonly redisUrl: string; readonly kafkaBrokers: string };
  /** Folder for this target's logs and stack.json. */
  readonly runDir: string;
}

/** Kill and start the infrastructure's services: `kafka` (or `kafka-1`..`kafka-3`), `postgres`. */
export interface ServiceControl {
  names(): readonly string[];
  /** SIGKILL (a broker) or an immediate shutdown (PostgreSQL): no clean stop. */
  kill(name: string): Promise<void>;
  /** Starts it again and waits until it answers (bounded). */
  start(name: string): Promise<void>;
}

/** A target that is up: what a run talks to and faults. */
export interface Target {
  readonly ref: TargetRef;
  readonly endpoints: ServiceEndpoints;
  readonly system: SystemControl;
  readonly services: ServiceControl | undefined;
  /** What this target cannot do, and why (empty: everything). */
  readonly lacks: Partial<Record<Capability, string>>;
  /** The Toxiproxy proxies behind a logical name (`kafka` → every broker's proxy on a cluster). */
  proxies(logical: string): readonly string[];
  /** How the system reaches PostgreSQL, Kafka and Redis: directly, or through Toxiproxy. */
  readonly path: 'direct' | 'proxied';
  /** True when the harness started it (and stops it on close). */
  readonly owned: boolean;
  /** Restarts of system processes seen by the process controller (0 when unknown). */
  restarts(): number;
  /** Every pid of the system that the harness may SIGCONT as a last resort ([] when not native). */
  pids(): number[];
  /** The Prometheus scraping the system (native targets; undefined elsewhere). */
  readonly prometheus?: import('../stack/prometheus.ts').PrometheusService;
  close(): Promise<void>;
}

/** How to start (or reach) a target for one run. */
export interface OpenOptions {
  readonly runDir: string;
  readonly spec: import('../chaos/scenario.ts').SystemSpec;
  /** Planted bugs (PAYPROOF_FAULTS): only for targets that start the system. */
  readonly faults: readonly string[];
  readonly log: (line: string) => void;
  /** The system talks to the services without Toxiproxy (runs with no network fault). */
  readonly direct?: boolean;
  /** false: do not insert the reference data (students, courses, trainers); a look, not a run. */
  readonly seed?: boolean;
  /** Planted bugs in the alert rules Prometheus loads (native targets). */
  readonly alertFaults?: readonly import('../system/alert-rules.ts').AlertFault[];
}

/** A kind of target, known before anything starts. */
export interface TargetProvider {
  readonly ref: TargetRef;
  /** What it cannot do, and why. */
  readonly lacks: Partial<Record<Capability, string>>;
  /** undefined when this machine can run it; else one line saying why not and what to use instead. */
  unavailable(): string | undefined;
  open(o: OpenOptions): Promise<Target>;
}

/** Parses `--target` (or PAYPROOF_TARGET): a provider name, `external:<file>` or `compose:<file>`. */
export function parseTargetRef(text: string | undefined): TargetRef {
  const t = (text ?? '').trim() || 'native';
  const withFile = /^(external|compose):(.*)$/s.exec(t);
  if (withFile) {
    const provider = withFile[1] as 'external' | 'compose';
    const file = withFile[2];
    if (!file)
      throw new Error(
        `--target ${provider}:<file>: name the ${provider === 'external' ? 'target file (docs/targets.md)' : 'compose file (or --target compose)'}`,
      );
    return { provider, file, text: t };
  }
  if (t === 'external') throw new Error('--target external needs its file: --target external:<file>');
  if (!(providerNames as readonly string[]).includes(t))
    throw new Error(
      `--target ${t}: no such target (one of ${providerNames.filter((p) => p !== 'external').join(', ')}, compose:<file>, external:<file>)`,
    );
  return { provider: t as ProviderName, text: t };
}

/** What a set of fault needs asks of a provider that it lacks: one reason each. */
export function missingCapabilities(
  needs: Iterable<Capability>,
  lacks: Partial<Record<Capability, string>>,
): string[] {
  const out: string[] = [];
  for (const n of new Set(needs)) {
    const why = lacks[n];
    if (why !== undefined) out.push(`cannot ${capabilityText[n]}: ${why}`);
  }
  return out;
}

/** Default resume of a paused process: SIGCONT to its group, else to the pid itself. */
export function resumeByPid(p: Pick<ProcessView, 'pid'>): void {
  for (const t of [-p.pid, p.pid]) {
    try {
      process.kill(t, 'SIGCONT');
      return;
    } catch {
      // not a group leader, or gone (killed and restarted meanwhile: nothing to resume)
    }
  }
}
