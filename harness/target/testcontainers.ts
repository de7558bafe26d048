// The `testcontainers` target: PostgreSQL, a KRaft Kafka, Redis and Toxiproxy in containers on one
// Docker network (the npm testcontainers modules), the proxies the native stack has (`postgres`,
// `redis`, `kafka`), provisioned by the system's own `provision` step; then the system's processes
// started on this machine by the native launcher against the proxied addresses, so process faults
// and planted bugs work as on native. NEVER RUN against a Docker engine where it was written (none
// there): the pure parts are unit-tested, the rest is typechecked against the modules' types.
//
// Kafka behind Toxiproxy: a client told by the broker to reconnect to the broker's own address would
// bypass the proxy. The native broker therefore advertises the proxy's address on its EXTERNAL
// listener (stack/kafka.ts). Here the proxy's address is the Toxiproxy container's mapped port, known
// once Toxiproxy runs: Toxiproxy starts first, its `kafka` proxy is created (upstream `kafka:9095`,
// resolved lazily, on each connection), and the broker gets a PROXIED listener on 9095 advertising
// that mapped address. @testcontainers/kafka writes KAFKA_ADVERTISED_LISTENERS into a start script
// once the container runs (BROKER for the network, PLAINTEXT for the host, both computed by the
// module) and offers no way to add one: the container's command is wrapped to append PROXIED to that
// line before running the script (`advertiseAlso`; a unit test runs it on the module's own command).
import { mkdirSync } from 'node:fs';
import type { StartedTestContainer } from 'testcontainers';
import { loadToolchain, toolPaths } from '../toolchain/toolchain.ts';
import { needsDocker } from './docker-engine.ts';
import { launchOwnedTarget } from './native.ts';
import type {
  Capability,
  OpenOptions,
  ServiceEndpoints,
  Target,
  TargetProvider,
  TargetRef,
} from './target.ts';

/** Images, pinned by version: the same as docker-compose.yml's where it has one. */
export const images = {
  postgres: 'postgres:17.6-bookworm',
  redis: 'redis:7.4.5-alpine',
  // @testcontainers/kafka drives Confluent's image; 8.1.x ships Apache Kafka 4.1, as the native stack.
  kafka: 'confluentinc/cp-kafka:8.1.1',
  toxiproxy: `ghcr.io/shopify/toxiproxy:${loadToolchain().toxiproxy.version}`,
} as const;

/** Network aliases, and the port each service listens on inside the network. */
export const inNetwork = {
  postgres: { alias: 'postgres', port: 5432 },
  redis: { alias: 'redis', port: 6379 },
  /** The broker's PROXIED listener: only Toxiproxy connects to it. */
  kafka: { alias: 'kafka', port: 9095 },
} as const;

/** The module's host-facing Kafka listener (PLAINTEXT, advertised as its mapped port): the direct path. */
export const kafkaHostPort = 9093;

/** A host and port as reached from this machine. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** The Toxiproxy proxies, as the native stack names them, and what each forwards to in the network. */
export function proxyDefinitions(): {
  readonly name: 'postgres' | 'redis' | 'kafka';
  readonly upstream: string;
}[] {
  return (['postgres', 'redis', 'kafka'] as const).map((name) => ({
    name,
    upstream: `${inNetwork[name].alias}:${inNetwork[name].port}`,
  }));
}

/** Where the started containers answer on this machine. */
export interface ContainerAddresses {
  readonly postgres: Address;
  readonly redis: Address;
  /** The broker's PLAINTEXT listener (mapped 9093). */
  readonly kafka: Address;
  readonly toxiproxyApi: Address;
  /** Each proxy's mapped listen port. */
  readonly proxies: { readonly postgres: Address; readonly redis: Address; readonly kafka: Address };
}

/** `host:port`, bracketing an IPv6 literal (for URLs). */
function hostPort(a: Address): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

const pgUrl = (a: Address) => `postgres://payproof@${hostPort(a)}/payproof`;
const redisUrl = (a: Address) => `redis://${hostPort(a)}`;

/** The target's endpoints: everything through the proxies, `direct` to the containers' own ports. */
export function containerEndpoints(a: ContainerAddresses, runDir: string): ServiceEndpoints {
  return {
    databaseUrl: pgUrl(a.proxies.postgres),
    kafkaBrokers: hostPort(a.proxies.kafka),
    redisUrl: redisUrl(a.proxies.redis),
    toxiproxyUrl: `http://${hostPort(a.toxiproxyApi)}`,
    direct: { databaseUrl: pgUrl(a.postgres), kafkaBrokers: hostPort(a.kafka), redisUrl: redisUrl(a.redis) },
    runDir,
  };
}

/** A broker property as Confluent's image reads it from the environment (`a.b_c-d` → `KAFKA_A_B___C__D`). */
export function confluentEnvName(property: string): string {
  return `KAFKA_${property.replaceAll('_', '___').replaceAll('-', '__').replaceAll('.', '_').toUpperCase()}`;
}

/** The listener and protocol map of the module's broker, with the PROXIED listener added. */
export function withProxiedListener(env: Readonly<Record<string, string>>): Record<string, string> {
  const listeners = env.KAFKA_LISTENERS;
  const map = env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP;
  if (!listeners || !map)
    throw new Error('@testcontainers/kafka set no KAFKA_LISTENERS / protocol map: its start has changed');
  return {
    KAFKA_LISTENERS: `${listeners},PROXIED://0.0.0.0:${inNetwork.kafka.port}`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: `${map},PROXIED:PLAINTEXT`,
  };
}

/**
 * The module's container command (`sh -c "...wait for <script>...; <script>"`), changed to run a
 * copy of its start script whose `export KAFKA_ADVERTISED_LISTENERS=` line also advertises `listener`.
 * Shell builtins only (the image's tools are not assumed). Throws when the command is not the
 * module's any more, so an upgrade that changes it fails at start instead of bypassing the proxy.
 */
export function advertiseAlso(command: readonly string[], listener: string): string[] {
  const script = command.length === 2 && command[0] === '-c' ? /; (\/\S+\.sh)$/.exec(command[1]!) : null;
  if (!script)
    throw new Error(`@testcontainers/kafka's container command has changed: ${JSON.stringify(command)}`);
  const path = script[1]!;
  const copy = `${path}.proxied`;
  const rewrite =
    `while IFS= read -r line; do case "$line" in "export KAFKA_ADVERTISED_LISTENERS="*) line="$line,${listener}";; esac; ` +
    `printf '%s\\n' "$line"; done < ${path} > ${copy}; chmod +x ${copy}; ${copy}`;
  return ['-c', `${command[1]!.slice(0, -path.length)}${rewrite}`];
}

/**
 * @testcontainers/kafka's broker with the PROXIED listener too, advertising `proxied` (the `kafka`
 * proxy's mapped address). Only the container's definition: nothing runs until `start()`.
 */
export async function proxiedKafka(image: string, proxied: Address) {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const advertised = `PROXIED://${hostPort(proxied)}`;
  class ProxiedKafkaContainer extends KafkaContainer {
    // The module sets its listeners and its waiting command here, just before the container is created.
    protected override async beforeContainerCreated(): Promise<void> {
      await super.beforeContainerCreated();
      this.withEnvironment(withProxiedListener(this.environment));
      this.withCommand(advertiseAlso(this.createOpts.Cmd ?? [], advertised));
    }
  }
  return new ProxiedKafkaContainer(image);
}

/** What this target cannot do, and why. */
export const testcontainersLacks: Partial<Record<Capability, string>> = {
  services:
    "testcontainers stops a container only by removing it (StartedTestContainer.stop) and restarts it in one step (restart()): no kill with the service down for a fault's window, then a start; and Docker maps new random host ports on a start, so the harness's direct addresses would go stale (use --target native)",
  brokers: 'a single broker has no follower to take over (use --target native-cluster: three brokers)',
};

/** The services in containers, up, proxied and provisioned. */
export interface ContainerStack {
  readonly endpoints: ServiceEndpoints;
  stop(): Promise<void>;
}

/** Starts the containers, the proxies, checks Kafka advertises its proxy, and provisions. */
export async function startContainers(runDir: string, log: (line: string) => void): Promise<ContainerStack> {
  const { Network } = await import('testcontainers');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const { ToxiProxyContainer } = await import('@testcontainers/toxiproxy');
  const { tunedSettings } = await import('../stack/postgres.ts');
  const { cacheOnlyArgs } = await import('../stack/redis.ts');
  const { brokerTuning } = await import('../stack/kafka.ts');
  const { defaultPartitions } = await import('../../system/contracts/topics.ts');
  const { provisionSystem } = await import('../system/provision.ts');

  mkdirSync(runDir, { recursive: true });
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    // Containers first, then their network (a network with containers attached cannot be removed).
    await Promise.allSettled(started.splice(1).map((c) => c.stop()));
    await Promise.allSettled(started.splice(0).map((c) => c.stop()));
  };
  const t0 = performance.now();
  const since = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
  try {
    const network = await new Network().start();
    started.push(network);
    const toxiproxy = await new ToxiProxyContainer(images.toxiproxy).withNetwork(network).start();
    started.push(toxiproxy);
    const proxies: Record<string, Address> = {};
    for (const p of proxyDefinitions()) {
      const created = await toxiproxy.createProxy({ name: p.name, upstream: p.upstream, enabled: true });
      proxies[p.name] = { host: created.host, port: created.port };
    }
    log(`toxiproxy ready in ${since()}`);
    const on = <C extends { withNetwork(n: typeof network): C; withNetworkAliases(...a: string[]): C }>(
      c: C,
      alias: string,
    ) => c.withNetwork(network).withNetworkAliases(alias);
    const [postgres, redis, kafka] = await Promise.all([
      on(new PostgreSqlContainer(images.postgres), inNetwork.postgres.alias)
        .withDatabase('payproof')
        .withUsername('payproof')
        .withPassword('payproof')
        // The system connects as payproof_app without a password, as on the native stack.
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withCommand(['postgres', ...tunedSettings(process.env).flatMap((s) => ['-c', s])])
        .start()
        .then(track),
      on(new RedisContainer(images.redis), inNetwork.redis.alias)
        .withCommand(['redis-server', ...cacheOnlyArgs])
        .start()
        .then(track),
      on(await proxiedKafka(images.kafka, proxies.kafka!), inNetwork.kafka.alias)
        .withEnvironment({
          ...Object.fromEntries(
            Object.entries(brokerTuning({ partitions: defaultPartitions })).map(([k, v]) => [
              confluentEnvName(k),
              v,
            ]),
          ),
          KAFKA_HEAP_OPTS: '-Xms256m -Xmx768m',
        })
        .start()
        .then(track),
    ]);
    log(`postgres, redis, kafka ready in ${since()}`);
    const at = (c: StartedTestContainer, port: number): Address => ({
      host: c.getHost(),
      port: c.getMappedPort(port),
    });
    const endpoints = containerEndpoints(
      {
        postgres: at(postgres, inNetwork.postgres.port),
        redis: at(redis, inNetwork.redis.port),
        kafka: at(kafka, kafkaHostPort),
        toxiproxyApi: at(toxiproxy, 8474),
        proxies: { postgres: proxies.postgres!, redis: proxies.redis!, kafka: proxies.kafka! },
      },
      runDir,
    );
    await assertAdvertisesProxy(endpoints.kafkaBrokers);
    await provisionSystem(endpoints.direct);
    log(`provisioned in ${since()}`);
    return { endpoints, stop };
  } catch (err) {
    await stop();
    throw err;
  }

  function track<C extends { stop(): Promise<unknown> }>(c: C): C {
    started.push(c);
    return c;
  }
}

/** A client bootstrapped at the proxy must be told to stay on it, or it would bypass every fault. */
async function assertAdvertisesProxy(proxied: string): Promise<void> {
  const { harnessKafka } = await import('../lib/kafka.ts');
  const admin = harnessKafka(proxied, 'payproof-testcontainers').admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    const seen = brokers.map((b) => `${b.host}:${b.port}`);
    if (!seen.every((b) => b === proxied))
      throw new Error(
        `kafka advertises ${seen.join(', ')} through its proxy ${proxied}: clients would bypass it`,
      );
  } finally {
    await admin.disconnect();
  }
}

export function testcontainersProvider(ref: TargetRef): TargetProvider {
  return {
    ref,
    lacks: testcontainersLacks,
    unavailable: () => needsDocker(ref),
    open: (o) => openTestcontainers(ref, o),
  };
}

async function openTestcontainers(ref: TargetRef, o: OpenOptions): Promise<Target> {
  const stack = await startContainers(o.runDir, (l) => o.log(`[containers] ${l}`));
  // Prometheus is the native one (the launcher starts it), when this machine has it.
  const prometheus = toolPaths().prometheus !== '';
  if (!prometheus) o.log('[containers] no Prometheus on this machine: the alert checks have nothing to read');
  return launchOwnedTarget(
    stack,
    o,
    { ref, services: undefined, lacks: testcontainersLacks, proxies: (logical) => [logical] },
    prometheus,
  );
}
