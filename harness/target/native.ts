// The `native` target: a fresh stack on this machine (free ports, logs in the run folder) and the
// system's processes started by the harness's launcher (through `node system/main.ts <kind>`),
// supervised, seeded. It can do everything: proxies, signals, scaling, service restarts.

// The stack, the launcher and the seed (kafkajs, pg, toxiproxy) are loaded when a target opens, not
// when a command only parses its flags (`--help` stays fast).
import { type ProcessKind, processKinds } from '../../system/contracts/processes.ts';
import type { SystemControl } from '../chaos/scenario.ts';
import type { Stack } from '../stack/stack.ts';
import type { RunningSystem } from '../system/launcher.ts';
import type {
  Capability,
  OpenOptions,
  ServiceControl,
  ServiceEndpoints,
  Target,
  TargetProvider,
  TargetRef,
} from './target.ts';

/** `purchase-worker#2` → `purchase`, `api#1` → `api`. */
export function kindOfName(name: string): ProcessKind | undefined {
  const base = name.split('#')[0]!.replace(/-worker$/, '');
  return (processKinds as readonly string[]).includes(base) ? (base as ProcessKind) : undefined;
}

/** A RunningSystem as SystemControl, with per-instance environment given when an instance is added. */
export function controlOf(
  sys: RunningSystem,
  pendingEnv: Map<ProcessKind, NodeJS.ProcessEnv[]>,
): SystemControl {
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

/**
 * The stack's brokers and PostgreSQL as services a fault may kill and start again: `kafka` is every
 * broker (the whole cluster down), `kafka-N` one broker of a cluster, `postgres`.
 */
export function stackServices(stack: Stack): ServiceControl {
  const brokers = (name: string) => {
    if (name === 'kafka') return [...stack.kafkas];
    const k = stack.kafkas.find((x) => x.name === name);
    return k ? [k] : undefined;
  };
  const names = () => [
    'kafka',
    ...(stack.kafkas.length > 1 ? stack.kafkas.map((k) => k.name) : []),
    'postgres',
  ];
  return {
    names,
    async kill(name) {
      const ks = brokers(name);
      if (ks) await Promise.all(ks.map((k) => k.kill()));
      else if (name === 'postgres') await stack.postgres.crash();
      else throw new Error(`no service ${name} (${names().join(', ')})`);
    },
    async start(name) {
      const ks = brokers(name);
      if (ks) {
        await Promise.all(ks.map((k) => k.start()));
        // Ready when the whole cluster answers again with every broker registered.
        await stack.kafka.waitReady(stack.endpoints.kafkaBrokers, 90_000, stack.kafkas.length);
      } else if (name === 'postgres') await stack.postgres.start();
      else throw new Error(`no service ${name} (${names().join(', ')})`);
    },
  };
}

export interface NativeOptions {
  /** Kafka brokers: 1 (native) or 3 (native-cluster). */
  readonly brokers?: number;
}

function clusterLacks(brokers: number): Partial<Record<Capability, string>> {
  return brokers > 1
    ? {}
    : {
        brokers: 'a single broker has no follower to take over (use --target native-cluster: three brokers)',
      };
}

export function nativeProvider(
  ref: TargetRef = { provider: 'native', text: 'native' },
  n: NativeOptions = {},
): TargetProvider {
  const lacks = clusterLacks(n.brokers ?? 1);
  return {
    ref,
    lacks,
    unavailable: () => undefined,
    open: (o) => openNative(ref, n, o),
  };
}

/** The system as a target runs it: seeded, started by the launcher, and controllable. */
export interface LaunchedSystem {
  readonly sys: RunningSystem;
  readonly control: SystemControl;
}

/**
 * Seeds the reference data and starts the system's processes with the harness's launcher against
 * `e` (its proxied addresses, or its direct ones with `o.direct`), Prometheus scraping them unless
 * `prometheus` is false. The native and testcontainers targets both start the system this way.
 */
export async function launchSystem(
  e: ServiceEndpoints,
  o: OpenOptions,
  prometheus = true,
): Promise<LaunchedSystem> {
  const { startSystem } = await import('../system/launcher.ts');
  const { seed } = await import('../system/seed.ts');
  await seed(e.direct.databaseUrl, o.spec.seed);
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
  const sys = await startSystem({
    endpoints: o.direct ? e.direct : e,
    runDir: o.runDir,
    apiPort: 'free',
    faults: o.faults,
    instances: o.spec.instances,
    env: { LOG_LEVEL: 'warn', TOPUP_INTERVAL_MS: '1000', ...o.spec.env },
    envFor,
    // Scraped every second, rules compressed 10x: a run lasts about 90 s (alert-rules.ts).
    ...(prometheus
      ? { prometheus: { port: 'free', intervalS: 1, timeScale: 0.1, faults: o.alertFaults ?? [] } }
      : {}),
  });
  o.log(
    `[system] ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${sys.processes.map((p) => p.name).join(', ')}`,
  );
  return { sys, control: controlOf(sys, pendingEnv) };
}

/**
 * A target the harness starts: `services` are up (its `stop` stops them); the system is launched on
 * them, and the target closes both. When the launch fails, the services are stopped.
 */
export async function launchOwnedTarget(
  services: { readonly endpoints: ServiceEndpoints; stop(): Promise<void> },
  o: OpenOptions,
  t: Pick<Target, 'ref' | 'services' | 'lacks' | 'proxies'>,
  prometheus = true,
): Promise<Target> {
  try {
    const { sys, control } = await launchSystem(services.endpoints, o, prometheus);
    return {
      ...t,
      endpoints: services.endpoints,
      system: control,
      path: o.direct ? 'direct' : 'proxied',
      owned: true,
      restarts: () => sys.restarts,
      pids: () => Object.values(sys.pids()),
      ...(sys.prometheus ? { prometheus: sys.prometheus } : {}),
      close: async () => {
        await sys.stop();
        await services.stop();
      },
    };
  } catch (err) {
    await services.stop();
    throw err;
  }
}

async function openNative(ref: TargetRef, n: NativeOptions, o: OpenOptions): Promise<Target> {
  const { startStack } = await import('../stack/stack.ts');
  const stack = await startStack({
    ...(n.brokers ? { brokers: n.brokers } : {}),
    ports: 'free',
    runDir: o.runDir,
    onProgress: (l) => o.log(`[stack] ${l}`),
  });
  return launchOwnedTarget(stack, o, {
    ref,
    services: stackServices(stack),
    lacks: clusterLacks(n.brokers ?? 1),
    // `kafka` is every broker's proxy; `kafka-N` one broker's (a cluster only).
    proxies: (logical) => (logical === 'kafka' ? stack.kafkaProxies : [logical]),
  });
}
