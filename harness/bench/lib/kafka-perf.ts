// Kafka's raw produce rate on this machine, from Kafka's own tool: ProducerPerformance (in the
// kafka-tools jar on the broker's classpath) on a fresh topic, against the broker's direct INTERNAL
// listener (no Toxiproxy), acks=all: the ceiling the pipeline's events/s is compared with.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { harnessKafka } from '../../lib/kafka.ts';
import { parseTimes, timedShellArgs } from '../../lib/procmon.ts';
import { toolPaths } from '../../toolchain/toolchain.ts';

export interface ProducerPerfResult {
  readonly records: number;
  readonly recordSize: number;
  readonly recordsPerS: number;
  readonly mbPerS: number;
  readonly avgLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuS: number | null;
  readonly command: string;
  readonly line: string;
}

export async function producerPerformance(o: {
  readonly brokers: string;
  readonly records?: number;
  readonly recordSize?: number;
  readonly partitions?: number;
  readonly log?: (l: string) => void;
}): Promise<ProducerPerfResult> {
  const records = o.records ?? 200_000;
  const recordSize = o.recordSize ?? 300;
  const topic = `bench-producer-perf-${randomBytes(4).toString('hex')}`;
  const admin = harnessKafka(o.brokers, 'payproof-bench-perf').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: o.partitions ?? 6, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const args = [
      '-Xms256m',
      '-Xmx512m',
      '-cp',
      toolPaths().kafkaClasspath,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${o.brokers}`,
      'acks=all',
    ];
    const command = `java -cp '<kafka libs>/*' ${args.slice(4).join(' ')}`;
    o.log?.(`[kafka] ${command}`);
    const sh = timedShellArgs('java', args);
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const p = spawn(sh.file, sh.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (b) => {
        out = (out + b).slice(-20_000);
      });
      p.stderr.on('data', (b) => {
        err = (err + b).slice(-20_000);
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), 300_000);
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      p.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stdout: out, stderr: err });
      });
    });
    // "200000 records sent, 95238.1 records/sec (27.25 MB/sec), 512.34 ms avg latency, 1200.00 ms max latency, 480 ms 50th, 1100 ms 95th, 1180 ms 99th, 1195 ms 99.9th."
    const line = stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => /^\d+ records sent,/.test(l.trim()));
    if (code !== 0 || !line)
      throw new Error(`ProducerPerformance failed (exit ${code}):\n${stdout}\n${stderr}`);
    const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? Number.NaN);
    return {
      records: num(/^(\d+) records sent/),
      recordSize,
      recordsPerS: num(/([\d.]+) records\/sec/),
      mbPerS: num(/\(([\d.]+) MB\/sec\)/),
      avgLatencyMs: num(/([\d.]+) ms avg latency/),
      maxLatencyMs: num(/([\d.]+) ms max latency/),
      p50Ms: num(/([\d.]+) ms 50th/),
      p99Ms: num(/([\d.]+) ms 99th/),
      cpuS: parseTimes(stderr) ?? null,
      command,
      line: line.trim(),
    };
  } finally {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
