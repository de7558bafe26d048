// Runs the reference system as separate processes (API, relay, four workers, N instances each),
// the way a deployment would: every client address goes through the stack's proxies, every
// crashed process is restarted (the seed's "auto-restart"), every process is stopped by pid.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ConsumerGroup,
  groupNames,
  instanceName,
  type ProcessKind,
  type ProcessSpec,
  processKinds,
  processSpecs,
} from '../../system/contracts/index.ts';
import { harnessKafka } from '../lib/kafka.ts';
import { sleep, waitFor } from '../lib/wait-for.ts';
import { BackendPriority } from '../stack/backend-priority.ts';
import { freePort, portFree } from '../stack/ports.ts';
import { ManagedProcess, pipelineNice } from '../stack/process.ts';
import { PrometheusService } from '../stack/prometheus.ts';
import type { Endpoints } from '../stack/stack.ts';
import { systemCompileCacheDir } from '../toolchain/compile-cache.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { type AlertFault, renderRules } from './alert-rules.ts';
import { applicationDatabaseUrl, plantSchemaFaults } from './plant.ts';
import { scrapeTargets } from './scrape-targets.ts';

// The process list is the system's (system/contracts/processes.ts): a new worker there is launched
// here without a change.
export { type ProcessKind, processKinds };

/** Every process starts through the system's own entry point, as a deployment starts it. */
const systemMain = join(repoRoot, 'system', 'main.ts');

/** Consumer group of each worker kind. */
export const groupOf: Partial<Record<ProcessKind, ConsumerGroup>> = Object.fromEntries(
  processKinds.flatMap((k) => {
    const spec: ProcessSpec = processSpecs[k];
    return spec.group ? [[k, spec.group]] : [];
  }),
);

export interface SystemOptions {
  /** Where the processes reach PostgreSQL (as the owner: they connect as the application role), Kafka, Redis. */
  readonly endpoints: Pick<Endpoints, 'databaseUrl' | 'kafkaBrokers' | 'redisUrl'>;
  /** Logs go to <runDir>/logs/<name>.log. */
  readonly runDir: string;
  readonly instances?: Partial<Record<ProcessKind, number>>;
  /** Planted bugs (PAYPROOF_FAULTS). */
  readonly faults?: readonly string[];
  /** API port: a number, or 'free'. */
  readonly apiPort?: number | 'free';
  /** Extra environment for every process (TOPUP_INTERVAL_MS, LOG_LEVEL...). */
  readonly env?: NodeJS.ProcessEnv;
  /** Per-instance extra environment, by process name (e.g. clock skew for `session#2`). */
  readonly envFor?: (name: string) => NodeJS.ProcessEnv | undefined;
  readonly autoRestart?: boolean;
  /** Receives every log line of every process, prefixed by name (npm run system shows them). */
  readonly onLog?: (name: string, line: string) => void;
  /** A Prometheus that scrapes every process and evaluates the alert rules; none when absent. */
  readonly prometheus?: PrometheusOptions;
}

export interface PrometheusOptions {
  /** A number (npm run system: 9090 unless PAYPROOF_PROMETHEUS_PORT), or 'free'. */
  readonly port: number | 'free';
  /** Scrape and rule evaluation interval (default 5 s; chaos runs use 1 s). */
  readonly intervalS?: number;
  /** Multiplies every window and `for` of the rules (chaos: 0.1). */
  readonly timeScale?: number;
  /** Planted bugs in the alert rules themselves. */
  readonly faults?: readonly AlertFault[];
}

/** One process of the system; `proc` changes when it is restarted. */
export interface SystemProcess {
  readonly kind: ProcessKind;
  readonly name: string;
  proc: ManagedProcess;
  /** Changes only when a restart finds it taken by another program (the scrape targets follow). */
  metricsPort: number;
  restarts: number;
  /** False while the harness stops it on purpose (no auto-restart). */
  supervised: boolean;
}

export class RunningSystem {
  readonly apiUrl: string;
  readonly processes: SystemProcess[] = [];
  #opts: SystemOptions;
  #apiPort: number;
  #stopping = false;
  #seq: Partial<Record<ProcessKind, number>> = {};
  /** Restarts performed by the supervisor after a crash or a kill. */
  restarts = 0;
  /** The Prometheus scraping this system, when it was asked for. */
  prometheus: PrometheusService | undefined;

  constructor(opts: SystemOptions, apiPort: number) {
    this.#opts = opts;
    this.#apiPort = apiPort;
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
  }

  #env(kind: ProcessKind, name: string, metricsPort: number): NodeJS.ProcessEnv {
    const e = this.#opts.endpoints;
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // A small young generation and two malloc arenas: each process keeps ~half the resident
      // memory for the same work (docs/benchmarks.md, memory); the scavenges cost little CPU here.
      // PAYPROOF_SYSTEM_NODE_OPTIONS adds flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see
      // where a run's CPU goes in each process (written when the process stops).
      NODE_OPTIONS: `--disable-warning=TimeoutNegativeWarning --max-semi-space-size=4${process.env.PAYPROOF_SYSTEM_NODE_OPTIONS ? ` ${process.env.PAYPROOF_SYSTEM_NODE_OPTIONS}` : ''}`,
      MALLOC_ARENA_MAX: '2',
      // Node's compile cache (issue 11, memory): with a warm cache Node reads each .ts file's
      // stripped source from disk and never loads its type stripper (a wasm module, ~17 MiB of
      // resident memory in every process); system/main.ts writes the cache once it has started.
      NODE_COMPILE_CACHE: systemCompileCacheDir,
      NODE_ENV: 'development',
      // Least privilege: the system connects as the application role, never as the owner.
      DATABASE_URL: applicationDatabaseUrl(e.databaseUrl),
      KAFKA_BROKERS: e.kafkaBrokers,
      REDIS_URL: e.redisUrl,
      PAYPROOF_FAULTS: (this.#opts.faults ?? []).join(','),
      ...((this.#opts.faults ?? []).length > 0 ? { PAYPROOF_ALLOW_PLANTED_FAULTS: 'yes-i-am-testing' } : {}),
      INSTANCE_ID: name,
      METRICS_PORT: String(metricsPort),
      ...(kind === 'api' ? { PORT: String(this.#apiPort), METRICS_PORT: String(this.#apiPort) } : {}),
      ...this.#opts.env,
      ...this.#opts.envFor?.(name),
    };
  }

  #spawn(sp: Omit<SystemProcess, 'proc'> & { proc?: ManagedProcess }): SystemProcess {
    const proc = ManagedProcess.start({
      name: sp.name,
      // The API keeps the CPU first: the relay and the workers run at a lower priority (nice and
      // autogroup, see lowerPriority), so a pipeline catching up on a backlog slows itself, not
      // the confirmations. Every process starts through system/main.ts, as a deployment does.
      command: process.execPath,
      // PAYPROOF_SYSTEM_EXEC_ARGV: V8 flags that NODE_OPTIONS refuses (e.g. --single-threaded-gc), for
      // an experiment (docs/benchmarks.md); given before the script, as `node FLAGS system/main.ts`.
      args: [
        ...(process.env.PAYPROOF_SYSTEM_EXEC_ARGV?.split(/\s+/).filter(Boolean) ?? []),
        systemMain,
        sp.kind,
      ],
      ...(sp.kind === 'api' ? {} : { nice: pipelineNice }),
      cwd: repoRoot,
      env: this.#env(sp.kind, sp.name, sp.metricsPort),
      logFile: join(this.#opts.runDir, 'logs', `${sp.name.replace('#', '-')}.log`),
      onLine: this.#opts.onLog ? (line) => this.#opts.onLog!(sp.name, line) : undefined,
    });
    const p = sp as SystemProcess;
    p.proc = proc;
    void proc.exited.then(async (exit) => {
      if (this.#stopping || !p.supervised || this.#opts.autoRestart === false) return;
      // Crashed or killed: restart it, as a process supervisor would, after a short pause.
      this.#opts.onLog?.(p.name, `[payproof] exited (${exit.signal ?? exit.code}); restarting`);
      await sleep(Math.min(2_000, 200 * 2 ** Math.min(p.restarts, 4)));
      if (this.#stopping || !p.supervised) return;
      // A free port is only free when chosen: another program may have taken it since (then this
      // process would fail to listen on every restart, and a scrape would reach the other program).
      if (p.kind !== 'api' && !(await portFree(p.metricsPort))) {
        this.#opts.onLog?.(p.name, `[payproof] metrics port ${p.metricsPort} is taken; moving`);
        p.metricsPort = await freePort();
        this.#syncTargets();
      }
      p.restarts++;
      this.restarts++;
      this.#spawn(p);
    });
    return p;
  }

  async add(kind: ProcessKind): Promise<SystemProcess> {
    const n = (this.#seq[kind] ?? 0) + 1;
    this.#seq[kind] = n;
    const name = instanceName(kind, n);
    const metricsPort = kind === 'api' ? this.#apiPort : await freePort();
    const p = this.#spawn({ kind, name, metricsPort, restarts: 0, supervised: true });
    this.processes.push(p);
    this.#syncTargets();
    return p;
  }

  get(name: string): SystemProcess {
    const p = this.processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name}; have ${this.processes.map((x) => x.name).join(', ')}`);
    return p;
  }

  ofKind(kind: ProcessKind): SystemProcess[] {
    return this.processes.filter((p) => p.kind === kind);
  }

  /** Sends a signal to one process (SIGKILL, SIGSTOP, SIGCONT...); the supervisor restarts killed ones. */
  signal(name: string, sig: NodeJS.Signals): boolean {
    return this.get(name).proc.signal(sig);
  }

  /** Stops one process for good (scale down): graceful SIGTERM, no restart. */
  async remove(name: string): Promise<void> {
    const p = this.get(name);
    p.supervised = false;
    await p.proc.stop(20_000);
    this.processes.splice(this.processes.indexOf(p), 1);
    this.#syncTargets();
  }

  /** Prometheus follows the processes: one target per instance (a restart keeps its port). */
  #syncTargets(): void {
    this.prometheus?.writeTargets(scrapeTargets(this.processes));
  }

  /** Starts Prometheus on this system's processes (startSystem does it when asked). */
  async startPrometheus(o: PrometheusOptions): Promise<PrometheusService> {
    const intervalS = o.intervalS ?? 5;
    const prom = new PrometheusService({
      runDir: this.#opts.runDir,
      port: o.port === 'free' ? await freePort() : o.port,
      rules: renderRules({ timeScale: o.timeScale ?? 1, faults: o.faults ?? [] }),
      scrapeIntervalS: intervalS,
      evaluationIntervalS: intervalS,
    });
    await prom.start(scrapeTargets(this.processes));
    this.prometheus = prom;
    return prom;
  }

  /** Pids of every running process, by name. */
  pids(): Record<string, number> {
    return Object.fromEntries(this.processes.filter((p) => p.proc.running).map((p) => [p.name, p.proc.pid]));
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      'the API to be ready',
      async () => (await fetch(`${this.apiUrl}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok,
      { timeoutMs, intervalMs: 100 },
    );
    await waitFor(
      'every worker and relay to serve /metrics',
      async () => {
        for (const p of this.processes.filter((x) => x.kind !== 'api')) {
          const ok = await fetch(`http://127.0.0.1:${p.metricsPort}/healthz`, {
            signal: AbortSignal.timeout(1_000),
          }).then(
            (r) => r.ok,
            () => false,
          );
          if (!ok) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 100 },
    );
    await this.waitGroupsStable(timeoutMs);
  }

  /** Waits until every consumer group has as many members as running instances and is Stable. */
  async waitGroupsStable(timeoutMs = 60_000): Promise<void> {
    const admin = harnessKafka(this.#opts.endpoints.kafkaBrokers, 'payproof-launcher').admin();
    await admin.connect();
    try {
      await waitFor(
        'consumer groups to be stable with every instance',
        async () => {
          const want = Object.fromEntries(groupNames.map((g) => [g, 0]));
          for (const p of this.processes) {
            const g = groupOf[p.kind];
            if (g && p.proc.running) want[g]!++;
          }
          const { groups } = await admin.describeGroups(groupNames);
          return groups.every(
            (g) => want[g.groupId] === 0 || (g.state === 'Stable' && g.members.length === want[g.groupId]),
          );
        },
        { timeoutMs, intervalMs: 250 },
      );
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // API first (no new work), then the workers and the relay, all gracefully.
    await Promise.allSettled(this.ofKind('api').map((p) => p.proc.stop(10_000)));
    await Promise.allSettled(this.processes.filter((p) => p.kind !== 'api').map((p) => p.proc.stop(20_000)));
    await this.prometheus?.stop();
    await this.backendPriority?.stop();
  }

  /** The relay's and the workers' PostgreSQL backends at the pipeline's priority (backend-priority.ts). */
  backendPriority: BackendPriority | undefined;

  /**
   * Lowers the pipeline's backends when PAYPROOF_BACKEND_NICE is set (1..19, e.g. 10 like the
   * pipeline's processes). Off by default: its effect on latency is not shown yet (docs/benchmarks.md,
   * session 8), and with it CI's partition-kafka run caught up more slowly (confirm → sessions p95
   * 5.3 s against a 4 s bound) in the one rehearsal that had it on.
   */
  startBackendPriority(env: NodeJS.ProcessEnv = process.env): void {
    const nice = Number(env.PAYPROOF_BACKEND_NICE ?? 0);
    if (!Number.isInteger(nice) || nice <= 0 || nice > 19) return;
    this.backendPriority = new BackendPriority(this.#opts.endpoints.databaseUrl, { nice });
    this.backendPriority.start();
  }
}

/** One instance of every process kind. */
export const defaultInstances = Object.fromEntries(processKinds.map((k) => [k, 1])) as Record<
  ProcessKind,
  number
>;

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const apiPort = opts.apiPort === 'free' || opts.apiPort === undefined ? await freePort() : opts.apiPort;
  mkdirSync(join(opts.runDir, 'logs'), { recursive: true });
  // Guards a planted bug removes are dropped here, with the owner's connection.
  await plantSchemaFaults(opts.endpoints.databaseUrl, opts.faults ?? []);
  const sys = new RunningSystem(opts, apiPort);
  const counts = { ...defaultInstances, ...opts.instances };
  try {
    for (const kind of processKinds) for (let i = 0; i < counts[kind]; i++) await sys.add(kind);
    await sys.waitReady();
    sys.startBackendPriority();
    if (opts.prometheus) await sys.startPrometheus(opts.prometheus);
    return sys;
  } catch (err) {
    await sys.stop();
    throw err;
  }
}
