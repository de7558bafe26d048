// One API that starts and stops the whole infrastructure: PostgreSQL, Kafka, Redis, Toxiproxy,
// and one Toxiproxy proxy in front of each of Kafka, PostgreSQL and Redis. Clients only ever get
// the proxies' addresses.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Proxy as ToxiProxy } from 'toxiproxy-node-client';
import { allTopics, defaultPartitions } from '../../system/contracts/topics.ts';
import { brokerList } from '../lib/kafka.ts';
import { waitFor } from '../lib/wait-for.ts';
import { warmSystemCompileCache } from '../toolchain/compile-cache.ts';
import { ensureToolchain, toolPaths } from '../toolchain/toolchain.ts';
import { clusterId, type KafkaOptions, KafkaService } from './kafka.ts';
import { migrate } from './migrate.ts';
import { fixedPorts, freePort, freePorts, type Ports } from './ports.ts';
import { PostgresService, postgresUrl } from './postgres.ts';
import { RedisService } from './redis.ts';
import { ToxiproxyService } from './toxiproxy.ts';

/** A Toxiproxy proxy of the stack: `kafka` (one broker) or `kafka-1`..`kafka-3` (a cluster), `postgres`, `redis`. */
export type ProxyName = string;

/** Where clients reach the services. Everything but `direct` goes through Toxiproxy. */
export interface Endpoints {
  readonly databaseUrl: string;
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  readonly toxiproxyUrl: string;
  /** Direct addresses, bypassing faults: for the harness's own setup and checks only. */
  readonly direct: { readonly databaseUrl: string; readonly redisUrl: string; readonly kafkaBrokers: string };
  readonly runDir: string;
  readonly ports: Ports;
}

export interface StackOptions {
  /** Folder for data and logs; a fresh temp folder by default. */
  readonly runDir?: string;
  /** 'fixed' (defaults, env-overridable) for npm run stack; 'free' picks free ports (tests). */
  readonly ports?: 'fixed' | 'free' | Ports;
  readonly migrate?: boolean;
  readonly partitions?: number;
  /** Kafka brokers: 1 (default) or 3 (a KRaft cluster, replication 3, min.insync.replicas 2). */
  readonly brokers?: number;
  /** Planted misconfiguration of a cluster: unclean leader election allowed. */
  readonly uncleanLeaderElection?: boolean;
  /** Create the system's topics (default true; false leaves it to `node system/main.ts provision`). */
  readonly topics?: boolean;
  /** Called with a line per milestone (service ready, with time). */
  readonly onProgress?: (line: string) => void;
}

export interface StartTimings {
  readonly [service: string]: number;
}

/** Ports of one broker of a cluster beyond the first (the first uses the stack's own ports). */
export interface BrokerPorts {
  readonly internal: number;
  readonly external: number;
  readonly controller: number;
  readonly proxy: number;
}

export class Stack {
  readonly endpoints: Endpoints;
  readonly postgres: PostgresService;
  /** The first broker (the only one, unless the stack is a cluster). */
  readonly kafka: KafkaService;
  /** Every broker: one, or three for `brokers: 3` (named kafka-1..kafka-3, proxies of the same names). */
  readonly kafkas: readonly KafkaService[];
  /** Toxiproxy proxy name of each broker, in broker order. */
  readonly kafkaProxies: readonly string[];
  readonly redis: RedisService;
  readonly toxiproxy: ToxiproxyService;
  readonly proxies: Map<ProxyName, ToxiProxy> = new Map();
  readonly timingsMs: Record<string, number> = {};
  #stopping: Promise<void> | undefined;

  /** Data of every service: a temp folder, removed when the stack stops (logs stay in runDir). */
  readonly dataRoot: string;

  constructor(runDir: string, ports: Ports, opts: StackOptions, extraBrokers: readonly BrokerPorts[] = []) {
    const paths = toolPaths();
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    const dataRoot = mkdtempSync(join(tmpdir(), 'payproof-data-'));
    chmodSync(dataRoot, 0o755);
    this.dataRoot = dataRoot;
    this.postgres = new PostgresService({ runDir, dataRoot, port: ports.postgres, bin: paths.postgresBin });
    this.redis = new RedisService({ runDir, port: ports.redis, bin: paths.redisServer });
    this.toxiproxy = new ToxiproxyService({ runDir, port: ports.toxiproxy, bin: paths.toxiproxyServer });
    const brokers: BrokerPorts[] = [
      {
        internal: ports.kafkaInternal,
        external: ports.kafkaExternal,
        controller: ports.kafkaController,
        proxy: ports.kafkaProxy,
      },
      ...extraBrokers,
    ];
    const cluster = brokers.length > 1;
    const id = clusterId();
    const voters = brokers.map((b, i) => `${i + 1}@127.0.0.1:${b.controller}`).join(',');
    this.kafkas = brokers.map(
      (b, i) =>
        new KafkaService({
          runDir,
          dataRoot,
          classpath: paths.kafkaClasspath,
          internalPort: b.internal,
          externalPort: b.external,
          controllerPort: b.controller,
          advertisedPort: b.proxy,
          partitions: opts.partitions ?? defaultPartitions,
          ...(cluster
            ? {
                name: `kafka-${i + 1}`,
                nodeId: i + 1,
                voters,
                clusterId: id,
                replication: 3,
                // Three JVMs on two cores: a smaller heap each (measured in docs/targets.md).
                heapMb: 384,
                uncleanLeaderElection: opts.uncleanLeaderElection === true,
              }
            : {}),
        } as KafkaOptions),
    );
    this.kafka = this.kafkas[0]!;
    this.kafkaProxies = cluster ? brokers.map((_, i) => `kafka-${i + 1}`) : ['kafka'];
    const proxied = brokers.map((b) => `127.0.0.1:${b.proxy}`).join(',');
    const direct = brokers.map((b) => `127.0.0.1:${b.internal}`).join(',');
    this.endpoints = {
      databaseUrl: postgresUrl(ports.postgresProxy),
      kafkaBrokers: proxied,
      redisUrl: `redis://127.0.0.1:${ports.redisProxy}`,
      toxiproxyUrl: `http://127.0.0.1:${ports.toxiproxy}`,
      direct: {
        databaseUrl: postgresUrl(ports.postgres),
        redisUrl: `redis://127.0.0.1:${ports.redis}`,
        kafkaBrokers: direct,
      },
      runDir,
      ports,
    };
  }

  /** Pids of every process this stack started and that is still running. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const svc of [this.postgres, ...this.kafkas, this.redis, this.toxiproxy]) {
      const p = svc.process;
      if (p?.running) out[p.name] = p.pid;
    }
    return out;
  }

  proxy(name: ProxyName): ToxiProxy {
    const p = this.proxies.get(name);
    if (!p) throw new Error(`no proxy named ${name}`);
    return p;
  }

  /** Stops everything this stack started; safe to call more than once and from signal handlers. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // Proxies first so that clients fail fast instead of hanging on half-stopped services.
      await Promise.allSettled([...this.kafkas.map((k) => k.stop()), this.redis.stop()]);
      await Promise.allSettled([this.postgres.stop(), this.toxiproxy.stop()]);
      if (!process.env.PAYPROOF_KEEP_DATA) rmSync(this.dataRoot, { recursive: true, force: true });
    })();
    return this.#stopping;
  }
}

async function timed(
  stack: Stack,
  name: string,
  t0: number,
  fn: () => Promise<unknown>,
  say?: (l: string) => void,
) {
  await fn();
  const ms = Math.round(performance.now() - t0);
  stack.timingsMs[name] = ms;
  say?.(`${name} ready in ${(ms / 1000).toFixed(1)}s`);
}

/** Starts a whole stack and waits until every service answers real requests through its proxy. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const brokerCount = opts.brokers ?? 1;
  if (brokerCount !== 1 && brokerCount !== 3) throw new Error(`brokers: 1 or 3, not ${brokerCount}`);
  ensureToolchain();
  // Before the system starts: its processes then never load Node's TypeScript stripper.
  await warmSystemCompileCache((l) => process.stderr.write(`${l}\n`));
  const runDir = opts.runDir ?? mkdtempSync(join(tmpdir(), 'payproof-stack-'));
  mkdirSync(runDir, { recursive: true });
  const ports =
    opts.ports === 'fixed'
      ? fixedPorts()
      : opts.ports === 'free' || opts.ports === undefined
        ? await freePorts()
        : opts.ports;
  // Brokers 2 and 3 of a cluster always take free ports (the fixed defaults name one broker).
  const extra: BrokerPorts[] = [];
  const taken = new Set(Object.values(ports));
  const next = async () => {
    let p = await freePort();
    while (taken.has(p)) p = await freePort();
    taken.add(p);
    return p;
  };
  for (let i = 1; i < brokerCount; i++)
    extra.push({
      internal: await next(),
      external: await next(),
      controller: await next(),
      proxy: await next(),
    });
  const stack = new Stack(runDir, ports, opts, extra);
  const say = opts.onProgress;
  const t0 = performance.now();
  try {
    await timed(
      stack,
      'toxiproxy',
      t0,
      async () => {
        await stack.toxiproxy.start();
        const mk = async (name: ProxyName, listen: number, upstream: number) =>
          stack.proxies.set(
            name,
            await stack.toxiproxy.createProxy(name, `127.0.0.1:${listen}`, `127.0.0.1:${upstream}`),
          );
        await mk('postgres', ports.postgresProxy, ports.postgres);
        const brokerPorts = [{ proxy: ports.kafkaProxy, external: ports.kafkaExternal }, ...extra];
        for (const [i, name] of stack.kafkaProxies.entries())
          await mk(name, brokerPorts[i]!.proxy, brokerPorts[i]!.external);
        await mk('redis', ports.redisProxy, ports.redis);
      },
      say,
    );
    await Promise.all([
      timed(
        stack,
        'kafka',
        t0,
        async () => {
          // The nodes of a cluster elect a controller among themselves: start them side by side.
          await Promise.all(stack.kafkas.map((k) => k.start()));
          await stack.kafka.waitReady(stack.endpoints.kafkaBrokers, 90_000, stack.kafkas.length);
          if (opts.topics !== false)
            await createTopics(
              stack.endpoints.kafkaBrokers,
              opts.partitions ?? defaultPartitions,
              stack.kafkas.length,
            );
        },
        say,
      ),
      timed(
        stack,
        'postgres',
        t0,
        async () => {
          await stack.postgres.start();
          await stack.postgres.ensureDatabase();
          if (opts.migrate !== false) await migrate(stack.endpoints.direct.databaseUrl);
        },
        say,
      ),
      timed(stack, 'redis', t0, () => stack.redis.start(), say),
    ]);
    stack.timingsMs.total = Math.round(performance.now() - t0);
    writeFileSync(
      join(runDir, 'stack.json'),
      `${JSON.stringify({ endpoints: stack.endpoints, pids: stack.pids(), timingsMs: stack.timingsMs }, null, 2)}\n`,
    );
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

async function createTopics(brokers: string, partitions: number, replication: number) {
  const kafka = new Kafka({
    clientId: 'payproof-stack',
    brokers: brokerList(brokers),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = allTopics().filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        // Waited for below: on a cluster, kafkajs's own wait fails while the new partitions'
        // metadata reaches the other brokers ("does not host this topic-partition").
        waitForLeaders: false,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: topic.endsWith('.dlq') ? 1 : partitions,
          replicationFactor: replication,
          ...(replication >= 3 ? { configEntries: [{ name: 'min.insync.replicas', value: '2' }] } : {}),
        })),
      });
    }
    await waitFor(
      'every partition of every topic to have a leader and its replicas in sync',
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: allTopics() });
        return topics.every((t) =>
          t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length),
        );
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Stops the stack on SIGINT / SIGTERM / uncaught errors, then exits. Returns a function that
 * removes the handlers (for callers that stop the stack themselves).
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  log: (l: string) => void = console.error,
): () => void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`\n${sig}: stopping...`);
    stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
