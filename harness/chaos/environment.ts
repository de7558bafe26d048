// Where a chaos run happens: a fresh stack and system of its own (free ports, logs in the run
// folder), or a stack already running (`npm run system`) that the run attaches to. Attached runs
// can inject network faults only: restarting someone else's broker, or signalling processes whose
// pids and metrics ports we do not know, is not ours to do.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PrometheusService } from '../stack/prometheus.ts';
import { type Endpoints, type Stack, startStack } from '../stack/stack.ts';
import type { AlertFault } from '../system/alert-rules.ts';
import { type ProcessKind, processKinds, type RunningSystem, startSystem } from '../system/launcher.ts';
import { seed } from '../system/seed.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import type { SystemControl, SystemSpec } from './scenario.ts';

export interface RunEnvironment {
  readonly endpoints: Endpoints;
  /** Undefined when attached. */
  readonly stack: Stack | undefined;
  readonly system: SystemControl;
  readonly attached: boolean;
  /** How the system reaches PostgreSQL, Kafka and Redis: directly, or through Toxiproxy. */
  readonly path: 'direct' | 'proxied';
  /** Restarts done by the supervisor (0 when unknown). */
  restarts(): number;
  /** Every pid of the system (last-resort SIGCONT). */
  pids(): number[];
  /** The Prometheus scraping the system (undefined when attached). */
  readonly prometheus?: PrometheusService;
  close(): Promise<void>;
}

/** `purchase-worker#2` → `purchase`, `api#1` → `api`. */
export function kindOfName(name: string): ProcessKind | undefined {
  const base = name.split('#')[0]!.replace(/-worker$/, '');
  return (processKinds as readonly string[]).includes(base) ? (base as ProcessKind) : undefined;
}

/** A RunningSystem as SystemControl, with per-instance environment given when an instance is added. */
function controlOf(sys: RunningSystem, pendingEnv: Map<ProcessKind, NodeJS.ProcessEnv[]>): SystemControl {
  return {
    apiUrl: sys.apiUrl,
    processes: () =>
      sys.processes.map((p) => ({
        name: p.name,
        kind: p.kind,
        pid: p.proc.pid,
        running: p.proc.running,
        metricsPort: p.metricsPort,
        restarts: p.restarts,
      })),
    signal: (name, sig) => sys.signal(name, sig),
    async add(kind, env) {
      if (env) pendingEnv.set(kind, [...(pendingEnv.get(kind) ?? []), env]);
      return (await sys.add(kind)).name;
    },
    remove: (name) => sys.remove(name),
    settle: (timeoutMs) => sys.waitGroupsStable(timeoutMs),
  };
}

export interface StartOptions {
  readonly runDir: string;
  readonly spec: SystemSpec;
  /** Planted bugs (PAYPROOF_FAULTS). */
  readonly faults: readonly string[];
  readonly log: (line: string) => void;
  /**
   * The system talks to PostgreSQL, Kafka and Redis directly, not through Toxiproxy: for runs with
   * no network fault in their timeline (plain load runs), where the proxies would only cost CPU
   * (~1 ms per payment on two cores, docs/benchmarks.md). Chaos runs keep the proxies.
   */
  readonly direct?: boolean;
  /** Planted bugs in the alert rules Prometheus loads. */
  readonly alertFaults?: readonly AlertFault[];
}

/** A fresh stack (free ports) and system, seeded; logs under `runDir/logs`. */
export async function startEnvironment(o: StartOptions): Promise<RunEnvironment> {
  const stack = await startStack({
    ports: 'free',
    runDir: o.runDir,
    onProgress: (l) => o.log(`[stack] ${l}`),
  });
  try {
    await seed(stack.endpoints.direct.databaseUrl, o.spec.seed);
    // The environment of an instance is fixed when it is first started and kept across restarts.
    const pendingEnv = new Map<ProcessKind, NodeJS.ProcessEnv[]>();
    const assigned = new Map<string, NodeJS.ProcessEnv>();
    const envFor = (name: string): NodeJS.ProcessEnv => {
      const kind = kindOfName(name);
      if (kind && !assigned.has(name)) {
        const next = pendingEnv.get(kind)?.shift();
        if (next) assigned.set(name, next);
      }
      return { ...o.spec.envFor?.(name), ...assigned.get(name) };
    };
    const t0 = performance.now();
    const e = stack.endpoints;
    const sys = await startSystem({
      endpoints: o.direct
        ? {
            ...e,
            databaseUrl: e.direct.databaseUrl,
            kafkaBrokers: e.direct.kafkaBrokers,
            redisUrl: e.direct.redisUrl,
          }
        : e,
      runDir: o.runDir,
      apiPort: 'free',
      faults: o.faults,
      instances: o.spec.instances,
      env: { LOG_LEVEL: 'warn', TOPUP_INTERVAL_MS: '1000', ...o.spec.env },
      envFor,
      // Scraped every second, rules compressed 10x: a run lasts about 90 s (alert-rules.ts).
      prometheus: { port: 'free', intervalS: 1, timeScale: 0.1, faults: o.alertFaults ?? [] },
    });
    o.log(
      `[system] ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${sys.processes.map((p) => p.name).join(', ')}`,
    );
    return {
      endpoints: stack.endpoints,
      stack,
      system: controlOf(sys, pendingEnv),
      attached: false,
      path: o.direct ? 'direct' : 'proxied',
      restarts: () => sys.restarts,
      pids: () => Object.values(sys.pids()),
      prometheus: sys.prometheus,
      close: async () => {
        await sys.stop();
        await stack.stop();
      },
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** The newest `.runs/<name>/stack.json` (what `npm run system` and `npm run stack` write). */
export function newestStackJson(root = join(repoRoot, '.runs')): string | undefined {
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .map((d) => join(root, d, 'stack.json'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

export interface AttachOptions {
  /** A stack.json; default: the newest under .runs/. */
  readonly stackJson?: string;
  /** The stack's endpoints themselves (tests hand over the shared test stack's). */
  readonly endpoints?: Endpoints;
  /** The API; default http://127.0.0.1:$PORT or :3000 (npm run system's default). */
  readonly apiUrl?: string;
}

/** Uses a stack and system someone else started; never stops them. */
export async function attachEnvironment(o: AttachOptions): Promise<RunEnvironment> {
  const path = o.endpoints ? undefined : (o.stackJson ?? newestStackJson());
  if (!o.endpoints && (!path || !existsSync(path))) {
    throw new Error(
      '--attach: no stack.json found (start one with `npm run system`, or pass --stack <path/to/stack.json>)',
    );
  }
  const endpoints =
    o.endpoints ?? (JSON.parse(readFileSync(path!, 'utf8')) as { endpoints: Endpoints }).endpoints;
  const apiUrl = o.apiUrl ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const ready = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready) throw new Error(`--attach: the API at ${apiUrl} is not ready (pass --api <url>)`);
  return {
    endpoints,
    stack: undefined,
    system: { apiUrl, processes: () => [], signal: () => false },
    attached: true,
    path: 'proxied',
    restarts: () => 0,
    pids: () => [],
    close: async () => undefined,
  };
}
