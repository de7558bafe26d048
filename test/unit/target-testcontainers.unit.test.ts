// The testcontainers target, without a Docker engine (none here): the pure parts (the proxies, the
// endpoints from the containers' mapped addresses, the broker's environment), the PROXIED listener
// added to @testcontainers/kafka's own container definition and its start-script rewrite run by sh,
// and the one-line message when Docker is missing. Starting the containers is NOT exercised here.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { providerFor } from '../../harness/target/providers.ts';
import {
  advertiseAlso,
  confluentEnvName,
  containerEndpoints,
  images,
  proxiedKafka,
  proxyDefinitions,
  testcontainersLacks,
} from '../../harness/target/testcontainers.ts';

describe('testcontainers target: what the containers become', () => {
  it('has the native proxies, each forwarding to its service by network alias (kafka to its PROXIED listener)', () => {
    expect(proxyDefinitions()).toEqual([
      { name: 'postgres', upstream: 'postgres:5432' },
      { name: 'redis', upstream: 'redis:6379' },
      { name: 'kafka', upstream: 'kafka:9095' },
    ]);
  });

  it("maps the containers' mapped ports to the target's endpoints: clients through the proxies, direct for the harness", () => {
    const e = containerEndpoints(
      {
        postgres: { host: 'localhost', port: 32771 },
        redis: { host: 'localhost', port: 32772 },
        kafka: { host: 'localhost', port: 32773 },
        toxiproxyApi: { host: 'localhost', port: 32768 },
        proxies: {
          postgres: { host: 'localhost', port: 32780 },
          redis: { host: 'localhost', port: 32781 },
          kafka: { host: 'localhost', port: 32782 },
        },
      },
      '/tmp/run',
    );
    expect(e).toEqual({
      databaseUrl: 'postgres://payproof@localhost:32780/payproof',
      kafkaBrokers: 'localhost:32782',
      redisUrl: 'redis://localhost:32781',
      toxiproxyUrl: 'http://localhost:32768',
      direct: {
        databaseUrl: 'postgres://payproof@localhost:32771/payproof',
        kafkaBrokers: 'localhost:32773',
        redisUrl: 'redis://localhost:32772',
      },
      runDir: '/tmp/run',
    });
  });

  it("names broker properties as Confluent's image reads them from the environment", () => {
    expect(confluentEnvName('offsets.topic.num.partitions')).toBe('KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS');
    expect(confluentEnvName('a.b_c-d')).toBe('KAFKA_A_B___C__D');
  });

  it('pins every image by version, Toxiproxy at the toolchain version', () => {
    for (const image of Object.values(images)) expect(image).toMatch(/:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    expect(images.toxiproxy).toBe('ghcr.io/shopify/toxiproxy:2.12.0');
  });

  it('lacks service restarts and broker faults, with the reason', () => {
    expect(Object.keys(testcontainersLacks).sort()).toEqual(['brokers', 'services']);
    expect(testcontainersLacks.services).toMatch(/stop.*removing it.*restart/);
  });
});

describe("the broker's PROXIED listener on @testcontainers/kafka's own container definition", () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** The definition the module makes, as it is just before the container is created (no Docker needed). */
  async function defined() {
    const c = await proxiedKafka(images.kafka, { host: 'localhost', port: 32782 });
    const inner = c as unknown as {
      beforeContainerCreated(): Promise<void>;
      environment: Record<string, string>;
      createOpts: { Cmd: string[] };
    };
    await inner.beforeContainerCreated();
    return inner;
  }

  it("listens on PROXIED (9095) besides the module's PLAINTEXT, BROKER and CONTROLLER listeners", async () => {
    const { environment } = await defined();
    expect(environment.KAFKA_LISTENERS).toBe(
      'PLAINTEXT://0.0.0.0:9093,BROKER://0.0.0.0:9092,CONTROLLER://0.0.0.0:9094,PROXIED://0.0.0.0:9095',
    );
    expect(environment.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe(
      'BROKER:PLAINTEXT,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT',
    );
    expect(environment.KAFKA_PROCESS_ROLES).toBe('broker,controller'); // KRaft (cp-kafka >= 8)
  });

  it("its command, run by sh on a start script like the module's, advertises PROXIED after the module's listeners", async () => {
    const { createOpts } = await defined();
    const [flag, line] = createOpts.Cmd;
    expect(flag).toBe('-c');
    expect(line).toContain('/tmp/testcontainers_start.sh');
    // The same command on a script of our own, in a folder of our own: the start script the module
    // writes once the container runs (its export line, then the image's run script: an echo here).
    const dir = mkdtempSync(join(tmpdir(), 'payproof-kafka-start-'));
    temps.push(dir);
    const script = join(dir, 'start.sh');
    writeFileSync(
      script,
      '#!/bin/sh\nexport KAFKA_ADVERTISED_LISTENERS=BROKER://abc123:9092,PLAINTEXT://localhost:32773\necho "advertised=$KAFKA_ADVERTISED_LISTENERS"\n',
    );
    chmodSync(script, 0o755);
    const r = spawnSync('sh', ['-c', line!.replaceAll('/tmp/testcontainers_start.sh', script)], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Waiting for script...');
    expect(r.stdout).toContain(
      'advertised=BROKER://abc123:9092,PLAINTEXT://localhost:32773,PROXIED://localhost:32782',
    );
    expect(readFileSync(script, 'utf8')).not.toContain('PROXIED'); // the module's script is left as written
  });

  it("refuses a command that is not the module's any more (an upgrade must fail at start, not bypass the proxy)", () => {
    expect(() => advertiseAlso(['-c', 'exec kafka'], 'PROXIED://h:1')).toThrow(
      /container command has changed/,
    );
  });
});

describe('testcontainers target without Docker', () => {
  it('says in one line that Docker is missing and names the native default', () => {
    const before = process.env.PAYPROOF_DOCKER;
    process.env.PAYPROOF_DOCKER = '/nonexistent/docker';
    try {
      const why = providerFor('testcontainers').unavailable();
      expect(why).toMatch(
        /^--target testcontainers needs Docker: no docker command on the PATH \(ENOENT\); the default target is native \(--target native\)$/,
      );
    } finally {
      if (before === undefined) delete process.env.PAYPROOF_DOCKER;
      else process.env.PAYPROOF_DOCKER = before;
    }
  });
});
