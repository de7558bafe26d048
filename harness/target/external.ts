// The `external:<file>` target: a deployment someone else runs (started with `node system/main.ts`,
// Compose, Kubernetes, systemd...), described by a target file (target-file.ts, docs/targets.md).
// The harness never starts or stops it; it seeds its reference data (idempotent), drives the API,
// faults it through the Toxiproxy proxies the file names and its process controller, and checks
// it through the direct addresses. What it cannot do is in `lacks`, known before a run starts.
import { resolve } from 'node:path';
import {
  DockerController,
  dockerCli,
  NativePidController,
  NoController,
  type ProcessController,
} from './controllers.ts';
import type { Capability, OpenOptions, Target, TargetProvider, TargetRef } from './target.ts';
import { readTargetFile, type TargetFile } from './target-file.ts';

/** Logical proxy names → the file's Toxiproxy proxies; `kafka-N` is the N-th broker's. */
export function proxyResolver(t: TargetFile): (logical: string) => readonly string[] {
  return (logical) => {
    const p = t.toxiproxy?.proxies;
    const one = (name: string | undefined) => {
      if (!name) throw new Error(`the target file names no Toxiproxy proxy for ${logical}`);
      return [name];
    };
    if (logical === 'postgres') return one(p?.postgres);
    if (logical === 'redis') return one(p?.redis);
    if (logical === 'kafka') return p?.kafka?.length ? p.kafka : one(undefined);
    const broker = /^kafka-(\d+)$/.exec(logical);
    if (broker) return one(p?.kafka?.[Number(broker[1]) - 1]);
    throw new Error(`no proxy ${logical} (postgres, redis, kafka, kafka-N)`);
  };
}

export function lacksOf(t: TargetFile): Partial<Record<Capability, string>> {
  const lacks: Partial<Record<Capability, string>> = {
    scaling: 'the instances of an external deployment are its own (scale it where it runs)',
    services:
      "the harness does not restart an external deployment's brokers or database (kill them by hand, or use the native or native-cluster target)",
    brokers: "the harness does not kill or restart an external deployment's brokers",
    'planted-bugs':
      'planted bugs are switched on when the system starts: start the deployment with PAYPROOF_FAULTS=<bugs>',
  };
  if (!t.toxiproxy)
    lacks.network = 'the target file names no Toxiproxy (toxiproxy.url and toxiproxy.proxies)';
  if (t.processes.controller === 'none')
    lacks.processes = "the target file's process controller is none (use native pids or docker containers)";
  return lacks;
}

export function controllerFor(t: TargetFile): ProcessController {
  switch (t.processes.controller) {
    case 'native':
      return new NativePidController(t.processes.list);
    case 'docker':
      return new DockerController(t.processes.list, dockerCli(t.processes.docker?.executable));
    case 'none':
      return new NoController(t.processes.list);
  }
}

export function externalProvider(ref: TargetRef, file?: TargetFile): TargetProvider {
  const t = file ?? readTargetFile(resolve(ref.file!));
  const lacks = lacksOf(t);
  return {
    ref,
    lacks,
    unavailable: () => undefined,
    open: (o) => openExternal(ref, t, lacks, o),
  };
}

/** Opens the deployment a target file describes (the compose provider hands its own file here too). */
export async function openExternal(
  ref: TargetRef,
  t: TargetFile,
  lacks: Partial<Record<Capability, string>>,
  o: OpenOptions,
): Promise<Target> {
  const ready = await fetch(`${t.api.url}/readyz`, { signal: AbortSignal.timeout(3_000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!ready) throw new Error(`target ${ref.text}: the API at ${t.api.url} is not ready (GET /readyz)`);
  const endpoints = {
    databaseUrl: t.postgres.url,
    kafkaBrokers: t.kafka.brokers,
    redisUrl: t.redis.url,
    toxiproxyUrl: t.toxiproxy?.url ?? '',
    direct: {
      databaseUrl: t.postgres.direct ?? t.postgres.url,
      kafkaBrokers: t.kafka.direct ?? t.kafka.brokers,
      redisUrl: t.redis.direct ?? t.redis.url,
    },
    runDir: o.runDir,
  };
  if (o.seed !== false)
    await (await import('../system/seed.ts')).seed(endpoints.direct.databaseUrl, o.spec.seed);
  const controller = controllerFor(t);
  o.log(
    `[target] ${ref.text}: API ${t.api.url}, ${t.processes.list.length} processes (${t.processes.controller} controller)` +
      (t.toxiproxy ? `, Toxiproxy ${t.toxiproxy.url}` : ', no Toxiproxy'),
  );
  return {
    ref,
    endpoints,
    system: {
      apiUrl: t.api.url,
      processes: () => controller.processes(),
      signal: (name, sig) => controller.signal(name, sig),
      resume: (p) => controller.resume(p),
    },
    services: undefined,
    lacks,
    proxies: proxyResolver(t),
    path: t.toxiproxy ? 'proxied' : 'direct',
    owned: false,
    restarts: () => controller.restarts(),
    pids: () => controller.pids(),
    close: async () => undefined,
  };
}

/**
 * A target file for a stack.json that `npm run stack` / `npm run system` wrote (what `--attach`
 * reads): its proxies, the API given, no process control (the pids of a harness-launched system
 * are not in stack.json); the processes `npm run system` lists in system.json, for their metrics.
 */
export function targetFileFromStackJson(
  stack: {
    endpoints: {
      databaseUrl: string;
      kafkaBrokers: string;
      redisUrl: string;
      toxiproxyUrl: string;
      direct: { databaseUrl: string; kafkaBrokers: string; redisUrl: string };
    };
  },
  apiUrl: string,
  processes: TargetFile['processes']['list'] = [],
): TargetFile {
  const e = stack.endpoints;
  return {
    version: 1,
    name: 'attached',
    api: { url: apiUrl },
    postgres: { url: e.databaseUrl, direct: e.direct.databaseUrl },
    kafka: { brokers: e.kafkaBrokers, direct: e.direct.kafkaBrokers },
    redis: { url: e.redisUrl, direct: e.direct.redisUrl },
    toxiproxy: { url: e.toxiproxyUrl, proxies: { postgres: 'postgres', redis: 'redis', kafka: ['kafka'] } },
    processes: { controller: 'none', list: [...processes] },
  };
}
