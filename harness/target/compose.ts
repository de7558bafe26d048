// The `compose` target: docker-compose.yml (or `compose:<file>`) on a Docker engine, as project
// `payproof`. The harness starts it (`docker compose up -d --wait`) unless it is already up, in which
// case it reuses it and never brings it down. Then it is an external deployment whose target file the
// harness writes itself, from what compose says:
//
//   docker compose config --format json   the PostgreSQL user and database, the Toxiproxy config file
//   docker compose ps --format json       every container, with its published ports (Publishers)
//   deploy/toxiproxy.json                 the proxies: listen port → Toxiproxy's published port
//
// and hands it to the external provider (external.ts): same readiness check, seed, docker process
// controller (docker kill / pause / unpause by container name; a killed container is started again,
// as its restart policy would have if `docker kill` did not cancel it). On top of an external target it can
// kill and start PostgreSQL and Kafka (`docker compose kill -s KILL` / `start`, then waits until the
// service's healthcheck passes). It cannot plant bugs (the image runs NODE_ENV=production, where the
// system refuses PAYPROOF_FAULTS), scale (every service publishes fixed host ports), or fault one
// broker of a cluster (one broker).
//
// Every docker call goes through one executable: PAYPROOF_DOCKER, or `docker` on the PATH.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { instanceName, isProcessKind } from '../../system/contracts/processes.ts';
import type { SystemControl } from '../chaos/scenario.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { dockerExecutable, needsDocker } from './docker-engine.ts';
import { openExternal } from './external.ts';
import type { Capability, ServiceControl, Target, TargetProvider, TargetRef } from './target.ts';
import type { TargetFile, TargetProcess } from './target-file.ts';

export interface ComposeOptions {
  /** The docker CLI (default: PAYPROOF_DOCKER, else `docker`). */
  readonly executable?: string;
  /** The compose project name, pinned so a second run finds the first one's containers. */
  readonly project?: string;
  /** Bound on `up -d --wait` (the first start builds the image). */
  readonly upTimeoutMs?: number;
  /** Bound on a restarted service becoming healthy again. */
  readonly serviceTimeoutMs?: number;
  readonly pollMs?: number;
}

/** One published port of a container, as `docker compose ps --format json` prints it. */
interface Publisher {
  readonly URL?: string;
  readonly TargetPort: number;
  readonly PublishedPort: number;
  readonly Protocol?: string;
}

/** One container of the project, as `docker compose ps --format json` prints it. */
export interface ComposeContainer {
  readonly Name: string;
  readonly Service: string;
  readonly State: string;
  readonly Health?: string;
  readonly Publishers?: readonly Publisher[] | null;
}

/** The part of `docker compose config --format json` the target needs. */
export interface ComposeConfig {
  readonly services: Readonly<
    Record<
      string,
      {
        readonly environment?: Readonly<Record<string, string | null>> | null;
        readonly command?: readonly string[] | null;
        readonly volumes?: readonly { type?: string; source?: string; target?: string }[] | null;
      }
    >
  >;
}

/** One proxy of Toxiproxy's config file (deploy/toxiproxy.json). */
export interface ToxiproxyProxy {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
}

/**
 * `docker compose ps --format json`: one JSON object per line since Compose 2.21, a JSON array
 * before it (docker/compose#10958).
 */
export function parseComposePs(out: string): ComposeContainer[] {
  const text = out.trim();
  if (!text) return [];
  if (text.startsWith('[')) return JSON.parse(text) as ComposeContainer[];
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ComposeContainer);
}

/** `host:port` where this machine reaches a service's container port (its first published one if none named). */
function published(ps: readonly ComposeContainer[], service: string, targetPort?: number): string {
  const c = ps.find((x) => x.Service === service);
  if (!c) throw new Error(`compose service ${service} is not running`);
  // IPv4 bindings first: ps lists 0.0.0.0 and :: for one port.
  const p = [...(c.Publishers ?? [])]
    .filter((x) => x.PublishedPort > 0 && (targetPort === undefined || x.TargetPort === targetPort))
    .sort((a, b) => Number((a.URL ?? '').includes(':')) - Number((b.URL ?? '').includes(':')))[0];
  if (!p)
    throw new Error(
      `compose service ${service} publishes no port${targetPort ? ` ${targetPort}` : ''} (the harness runs on the host: publish it in the compose file)`,
    );
  const host = !p.URL || p.URL === '0.0.0.0' || p.URL === '::' ? '127.0.0.1' : p.URL;
  return `${host.includes(':') ? `[${host}]` : host}:${p.PublishedPort}`;
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** The Toxiproxy config file the compose file mounts at Toxiproxy's `-config`, else deploy/toxiproxy.json. */
export function toxiproxyConfigPath(config: ComposeConfig, composeFile: string): string {
  const t = config.services.toxiproxy;
  const command = t?.command ?? [];
  const mounted = command[command.indexOf('-config') + 1];
  const bind = t?.volumes?.find((v) => v.type === 'bind' && v.target === mounted && v.source);
  return bind?.source ?? join(dirname(composeFile), 'deploy', 'toxiproxy.json');
}

/**
 * The target file of a compose deployment, from what compose says about it. Kafka is reached at its
 * host listener for the harness's own reads: its proxied listener advertises `toxiproxy:9092`, a
 * name only the compose network resolves (the system's processes do go through the proxy).
 */
export function composeTargetFile(a: {
  readonly name: string;
  readonly ps: readonly ComposeContainer[];
  readonly config: ComposeConfig;
  readonly proxies: readonly ToxiproxyProxy[];
  readonly executable: string;
}): TargetFile {
  const env = a.config.services.postgres?.environment ?? {};
  const user = env.POSTGRES_USER || 'postgres';
  const db = env.POSTGRES_DB || user;
  const pg = (address: string) => `postgres://${user}@${address}/${db}`;
  const proxied = (upstream: RegExp) => a.proxies.filter((p) => upstream.test(p.upstream.split(':')[0]!));
  const viaToxiproxy = (p: ToxiproxyProxy | undefined) =>
    p ? published(a.ps, 'toxiproxy', portOf(p.listen)) : undefined;
  const pgProxy = proxied(/^postgres$/)[0];
  const redisProxy = proxied(/^redis$/)[0];
  const kafkaProxies = proxied(/^kafka(-\d+)?$/);
  const kafkaDirect = published(a.ps, 'kafka');
  const list: TargetProcess[] = a.ps.flatMap((c) => {
    if (!isProcessKind(c.Service)) return [];
    const n = Number(/-(\d+)$/.exec(c.Name)?.[1] ?? 1);
    return [
      {
        name: instanceName(c.Service, n),
        kind: c.Service,
        container: c.Name,
        metricsUrl: `http://${published(a.ps, c.Service)}`,
      },
    ];
  });
  return {
    version: 1,
    name: a.name,
    api: { url: `http://${published(a.ps, 'api', 3000)}` },
    postgres: {
      url: pg(viaToxiproxy(pgProxy) ?? published(a.ps, 'postgres', 5432)),
      direct: pg(published(a.ps, 'postgres', 5432)),
    },
    kafka: { brokers: kafkaDirect, direct: kafkaDirect },
    redis: {
      url: `redis://${viaToxiproxy(redisProxy) ?? published(a.ps, 'redis', 6379)}`,
      direct: `redis://${published(a.ps, 'redis', 6379)}`,
    },
    toxiproxy: {
      url: `http://${published(a.ps, 'toxiproxy', 8474)}`,
      proxies: {
        ...(pgProxy ? { postgres: pgProxy.name } : {}),
        ...(redisProxy ? { redis: redisProxy.name } : {}),
        ...(kafkaProxies.length ? { kafka: kafkaProxies.map((p) => p.name) } : {}),
      },
    },
    processes: { controller: 'docker', docker: { executable: a.executable }, list },
  };
}

export const composeLacks: Partial<Record<Capability, string>> = {
  'planted-bugs':
    'the compose image runs NODE_ENV=production, where the system refuses PAYPROOF_FAULTS (plant bugs on --target native)',
  scaling:
    'every compose service publishes fixed host ports, so a second instance of one could not start (use --target native)',
  brokers: 'docker-compose.yml runs one Kafka broker (use --target native-cluster: three brokers)',
};

/** The docker CLI, asynchronous (a compose start takes minutes): stdout, or an error with stderr. */
function dockerAsync(executable: string) {
  const run = promisify(execFile);
  return async (argv: readonly string[], timeoutMs = 60_000): Promise<string> => {
    try {
      return (await run(executable, argv, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })).stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`${executable} ${argv.join(' ')}: ${e.stderr?.trim() || e.message}`);
    }
  };
}

/** `docker compose -f <file> -p <project> <args>`. */
function composeCli(docker: ReturnType<typeof dockerAsync>, file: string, project: string) {
  return (args: readonly string[], timeoutMs?: number) =>
    docker(['compose', '-f', file, '-p', project, ...args], timeoutMs);
}

/**
 * `docker kill` cancels the container's restart policy (moby daemon/kill.go: ExitOnNext and
 * HasBeenManuallyStopped), so `restart: unless-stopped` never brings a killed process back. The harness
 * stands in for it, as the native supervisor does: once the container has exited, `docker start`.
 */
function restartWhenKilled(
  system: SystemControl,
  containerOf: (name: string) => string | undefined,
  docker: ReturnType<typeof dockerAsync>,
  log: (line: string) => void,
): SystemControl {
  return {
    ...system,
    signal(name, sig) {
      const sent = system.signal(name, sig);
      const c = containerOf(name);
      if (sent && sig === 'SIGKILL' && c)
        void docker(['wait', c], 120_000)
          .then(() => docker(['start', c]))
          .catch((err: Error) => log(`[compose] ${name} not started again after SIGKILL: ${err.message}`));
      return sent;
    },
  };
}

/** PostgreSQL and Kafka killed and started by compose; started means its healthcheck passes again. */
export function composeServices(
  compose: ReturnType<typeof composeCli>,
  names: readonly string[],
  o: { timeoutMs: number; pollMs: number },
): ServiceControl {
  const known = (name: string) => {
    if (!names.includes(name)) throw new Error(`no service ${name} (${names.join(', ')})`);
  };
  return {
    names: () => names,
    async kill(name) {
      known(name);
      await compose(['kill', '-s', 'KILL', name]);
    },
    async start(name) {
      known(name);
      await compose(['start', name], o.timeoutMs);
      const deadline = Date.now() + o.timeoutMs;
      for (;;) {
        const c = parseComposePs(await compose(['ps', '--all', '--format', 'json', name]))[0];
        if (c?.State === 'running' && (!c.Health || c.Health === 'healthy')) return;
        if (Date.now() > deadline)
          throw new Error(
            `compose service ${name} not healthy ${o.timeoutMs / 1000} s after its start (${c ? `${c.State} ${c.Health ?? ''}` : 'no container'})`,
          );
        await new Promise((r) => setTimeout(r, o.pollMs));
      }
    },
  };
}

/** An engine without the Compose v2 plugin (`docker compose`) cannot run this target either. */
function composePluginMissing(ref: TargetRef, executable: string): string | undefined {
  const r = spawnSync(executable, ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) return undefined;
  const why = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n')[0];
  return `--target ${ref.text} needs Docker Compose v2 (docker compose version: ${why}); the default target is native (--target native)`;
}

export function composeProvider(ref: TargetRef, c: ComposeOptions = {}): TargetProvider {
  const executable = c.executable ?? dockerExecutable();
  return {
    ref,
    lacks: composeLacks,
    unavailable: () => needsDocker(ref, executable) ?? composePluginMissing(ref, executable),
    async open(o): Promise<Target> {
      const file = ref.file ? resolve(ref.file) : join(repoRoot, 'docker-compose.yml');
      const project = c.project ?? 'payproof';
      const docker = dockerAsync(executable);
      const compose = composeCli(docker, file, project);
      const running = parseComposePs(await compose(['ps', '--format', 'json']));
      const owned = running.length === 0;
      let closed = false;
      const down = async () => {
        if (!owned || closed) return;
        closed = true;
        await compose(['down', '-v'], c.upTimeoutMs ?? 15 * 60_000);
      };
      try {
        // Inside the try: a failed or timed-out `up` leaves containers that the next run would take
        // for a deployment someone else started.
        if (owned) {
          o.log(
            `[compose] ${file}: docker compose up -d --wait (project ${project}; the first start builds the image)`,
          );
          await compose(['up', '-d', '--wait'], c.upTimeoutMs ?? 15 * 60_000);
        } else
          o.log(
            `[compose] project ${project} is already up (${running.length} containers): reused, left running`,
          );
        const config = JSON.parse(await compose(['config', '--format', 'json'])) as ComposeConfig;
        const proxies = JSON.parse(
          readFileSync(toxiproxyConfigPath(config, file), 'utf8'),
        ) as ToxiproxyProxy[];
        const ps = parseComposePs(await compose(['ps', '--format', 'json']));
        const t = composeTargetFile({ name: `compose ${project}`, ps, config, proxies, executable });
        const target = await openExternal(ref, t, composeLacks, o);
        const services = ['kafka', 'postgres'].filter((s) => config.services[s]);
        const containerOf = (name: string) => t.processes.list.find((p) => p.name === name)?.container;
        return {
          ...target,
          system: restartWhenKilled(target.system, containerOf, docker, o.log),
          services: composeServices(compose, services, {
            timeoutMs: c.serviceTimeoutMs ?? 120_000,
            pollMs: c.pollMs ?? 1_000,
          }),
          owned,
          close: down,
        };
      } catch (err) {
        await down().catch((e: Error) => o.log(`[compose] ${e.message}`));
        throw err;
      }
    },
  };
}
