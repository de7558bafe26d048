// Apache Kafka, one node in KRaft mode, from its jars on Maven Central. Three listeners:
// CONTROLLER (raft), INTERNAL (inter-broker traffic and transaction markers, direct) and EXTERNAL,
// which binds its own port but ADVERTISES the Toxiproxy listen address, so a client that
// bootstraps at the proxy is told to stay on the proxy and can never bypass it.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
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
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what StorageTool random-uuid prints). */
function clusterId(): string {
  // As Kafka's own Uuid.randomUuid does: an id starting with '-' would be read as an option.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export class KafkaService {
  readonly logFile: string;
  readonly configFile: string;
  readonly dataDir: string;
  #opts: KafkaOptions;
  #proc: ManagedProcess | undefined;

  constructor(opts: KafkaOptions) {
    this.#opts = opts;
    this.dataDir = join(opts.dataRoot, 'kafka');
    this.configFile = join(opts.runDir, 'kafka', 'server.properties');
    this.logFile = join(opts.runDir, 'logs', 'kafka.log');
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
    const props = {
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@127.0.0.1:${o.controllerPort}`,
      listeners: `INTERNAL://127.0.0.1:${o.internalPort},EXTERNAL://127.0.0.1:${o.externalPort},CONTROLLER://127.0.0.1:${o.controllerPort}`,
      'advertised.listeners': `INTERNAL://127.0.0.1:${o.internalPort},EXTERNAL://127.0.0.1:${o.advertisedPort}`,
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'controller.listener.names': 'CONTROLLER',
      'log.dirs': this.dataDir,
      'num.partitions': String(o.partitions ?? 6),
      'default.replication.factor': '1',
      'offsets.topic.replication.factor': '1',
      'offsets.topic.num.partitions': '8',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'transaction.state.log.num.partitions': '4',
      'min.insync.replicas': '1',
      'group.initial.rebalance.delay.ms': '0',
      'auto.create.topics.enable': 'true',
      'log.flush.interval.messages': '9223372036854775807',
      'num.network.threads': '2',
      'num.io.threads': '4',
      'log.retention.hours': '24',
      'share.coordinator.state.topic.replication.factor': '1',
      'share.coordinator.state.topic.min.isr': '1',
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
      '-Djava.awt.headless=true',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      '-Dlog4j2.level=WARN',
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
      clusterId(),
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
      name: 'kafka',
      command: 'java',
      args: this.#java(['kafka.Kafka', this.configFile]),
      logFile: this.logFile,
      // The broker serves only the asynchronous side (the relay and the workers; the API writes
      // the outbox): it yields the CPU to the API like they do.
      nice: pipelineNice,
    });
  }

  /** Waits until the broker answers a metadata request on `brokers` (the proxy, normally). */
  async waitReady(brokers: string, timeoutMs = 60_000): Promise<void> {
    const kafka = new Kafka({
      clientId: 'payproof-ready',
      brokers: [brokers],
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
          return c.brokers.length > 0 && c.controller !== null;
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
