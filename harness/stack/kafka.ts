// Apache Kafka, one node in KRaft mode, from its jars on Maven Central. Three listeners:
// CONTROLLER (raft), INTERNAL (inter-broker traffic and transaction markers, direct) and EXTERNAL,
// which binds its own port but ADVERTISES the Toxiproxy listen address, so a client that
// bootstraps at the proxy is told to stay on the proxy and can never bypass it.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { brokerList } from '../lib/kafka.ts';
import { waitFor } from '../lib/wait-for.ts';
import { ManagedProcess, pipelineNice } from './process.ts';

export interface KafkaOptions {
  readonly runDir: string;
  readonly dataRoot: string;
  readonly classpath: string;
  readonly internalPort: number;
  readonly externalPort: number;
  readonly controllerPort: number;
  /** The port clients use: Toxiproxy's listen port for the kafka proxy. */
  readonly advertisedPort: number;
  readonly partitions?: number;
  readonly heapMb?: number;
  /** Process, log and data folder name: `kafka`, or `kafka-1`..`kafka-3` in a cluster. */
  readonly name?: string;
  /** KRaft node id (1 by default). */
  readonly nodeId?: number;
  /** `1@127.0.0.1:port,2@...`: every controller of the cluster (default: this node alone). */
  readonly voters?: string;
  /** Shared by every node of a cluster (StorageTool format -t). */
  readonly clusterId?: string;
  /** Replication of every topic, internal ones included (1, or 3 in a cluster: min ISR 2). */
  readonly replication?: number;
  /** Planted misconfiguration only: an out-of-sync replica may become leader. */
  readonly uncleanLeaderElection?: boolean;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
export function clusterId(): string {
  // As Kafka's own Uuid.randomUuid does: an id starting with '-' would be read as an option.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function clusterIdOf(o: KafkaOptions): string {
  return o.clusterId ?? clusterId();
}

/**
 * How every payproof broker is tuned, native or in a container (every property but its listeners,
 * roles and folders).
 */
export function brokerTuning(
  o: Pick<KafkaOptions, 'partitions' | 'replication' | 'uncleanLeaderElection'>,
): Record<string, string> {
  const rf = o.replication ?? 1;
  // Three replicas: a write acknowledged with acks=all is on two of them at least.
  const minIsr = String(rf >= 3 ? 2 : 1);
  return {
    'num.partitions': String(o.partitions ?? 6),
    'default.replication.factor': String(rf),
    'offsets.topic.replication.factor': String(rf),
    'offsets.topic.num.partitions': '8',
    'transaction.state.log.replication.factor': String(rf),
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '4',
    'min.insync.replicas': minIsr,
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    'log.flush.interval.messages': '9223372036854775807',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'log.retention.hours': '24',
    'share.coordinator.state.topic.replication.factor': String(rf),
    'share.coordinator.state.topic.min.isr': minIsr,
    // A replica that fell out of sync never becomes leader: no acknowledged write is truncated
    // away (the default; written out because the planted misconfiguration turns it on).
    'unclean.leader.election.enable': String(o.uncleanLeaderElection ?? false),
    // One node is its own controller: fencing it for a late heartbeat only takes every partition
    // offline. On a saturated 2-core machine its controller thread fell 3 s behind at start-up and
    // fenced it ("Timed out heartbeat from broker 1", verify 2026-12-02, pause-worker: the relay
    // then ran on the fallback for 40 s). A cluster keeps the default 9 s: its scenarios need a
    // dead broker fenced.
    ...(rf === 1 ? { 'broker.session.timeout.ms': '30000' } : {}),
  };
}

export class KafkaService {
  readonly logFile: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly name: string;
  #opts: KafkaOptions;
  #proc: ManagedProcess | undefined;

  constructor(opts: KafkaOptions) {
    this.#opts = opts;
    const name = opts.name ?? 'kafka';
    this.name = name;
    this.dataDir = join(opts.dataRoot, name);
    this.configFile = join(opts.runDir, name, 'server.properties');
    this.logFile = join(opts.runDir, 'logs', `${name}.log`);
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  /** Brokers as clients must use them: through the proxy. */
  get advertised(): string {
    return `127.0.0.1:${this.#opts.advertisedPort}`;
  }

  /** The direct EXTERNAL listener, for harness checks that must not go through faults. */
  get direct(): string {
    return `127.0.0.1:${this.#opts.internalPort}`;
  }

  #writeConfig() {
    const o = this.#opts;
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(dirname(this.configFile), { recursive: true });
    const id = o.nodeId ?? 1;
    const props = {
      'process.roles': 'broker,controller',
      'node.id': String(id),
      'controller.quorum.voters': o.voters ?? `${id}@127.0.0.1:${o.controllerPort}`,
      listeners: `INTERNAL://127.0.0.1:${o.internalPort},EXTERNAL://127.0.0.1:${o.externalPort},CONTROLLER://127.0.0.1:${o.controllerPort}`,
      'advertised.listeners': `INTERNAL://127.0.0.1:${o.internalPort},EXTERNAL://127.0.0.1:${o.advertisedPort}`,
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'controller.listener.names': 'CONTROLLER',
      'log.dirs': this.dataDir,
      ...brokerTuning(o),
    };
    writeFileSync(
      this.configFile,
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
  }

  #java(args: string[]): string[] {
    const heap = this.#opts.heapMb ?? 768;
    return [
      `-Xms${Math.min(256, heap)}m`,
      `-Xmx${heap}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+UseStringDeduplication',
      // C1 only: a broker of this stack lives minutes, and C2 compiling it spent ~40% of its CPU
      // in the bench's 1000-user phase (3-4% of a core); with C1 alone the broker's CPU per
      // payment fell from ~0.15 to 0.10 ms at the same throughput (docs/benchmarks.md, twenty-first round).
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      '-Dlog4j2.level=WARN',
      // PAYPROOF_KAFKA_JVM_OPTS: extra JVM flags for an experiment (docs/benchmarks.md records each
      // one tried); after the tuned ones, so they win.
      ...(process.env.PAYPROOF_KAFKA_JVM_OPTS?.split(/\s+/).filter(Boolean) ?? []),
      '-cp',
      this.#opts.classpath,
      ...args,
    ];
  }

  /** Formats the storage directory once (kafka.tools.StorageTool). */
  async format(): Promise<void> {
    if (existsSync(join(this.dataDir, 'meta.properties'))) return;
    this.#writeConfig();
    const args = this.#java([
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterIdOf(this.#opts),
      '-c',
      this.configFile,
      '-g',
    ]);
    await new Promise<void>((resolve, reject) => {
      const p = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (b) => (out += b));
      p.stderr.on('data', (b) => (out += b));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`kafka storage format failed: ${out}`)),
      );
    });
  }

  async start(): Promise<void> {
    await this.format();
    this.#proc = ManagedProcess.start({
      name: this.name,
      command: 'java',
      args: this.#java(['kafka.Kafka', this.configFile]),
      logFile: this.logFile,
      // The broker serves only the asynchronous side (the relay and the workers; the API writes
      // the outbox): it yields the CPU to the API like they do.
      nice: pipelineNice,
    });
  }

  /** Port of this node's INTERNAL listener (direct). */
  get internalPort(): number {
    return this.#opts.internalPort;
  }

  /** Waits until the broker answers a metadata request on `brokers` (the proxy, normally). */
  async waitReady(brokers: string, timeoutMs = 60_000, expectBrokers = 1): Promise<void> {
    const kafka = new Kafka({
      clientId: 'payproof-ready',
      brokers: brokerList(brokers),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 1000,
    });
    await waitFor(
      'kafka to answer a metadata request',
      async () => {
        if (!this.#proc?.running) throw new Error(`kafka exited (see ${this.logFile})`);
        const admin = kafka.admin();
        try {
          await admin.connect();
          const c = await admin.describeCluster();
          return c.brokers.length >= expectBrokers && c.controller !== null;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(20_000);
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
  }
}
