// npm run bench:kafka-client: the CPU cost per message of kafkajs (what payproof runs) and of
// @platformatic/kafka (the candidate successor, issue 11), for what payproof does with Kafka, against
// the project's real broker (one Kafka node started by the harness, direct listener, no Toxiproxy).
//
//   produce  an idempotent producer, acks=all, batches of N = 1, 10, 100 messages of ~450-byte JSON
//            envelopes keyed by a uuid, to a 6-partition topic, one request awaited after another
//            (as the relay does); the same number of messages for both clients.
//   consume  a consumer group reading a pre-filled 6-partition topic from the beginning, JSON.parse
//            of every value, a manual offset commit after each fetched batch (autocommit off),
//            until every message was consumed.
//
// Each measurement runs in a fresh Node process (the flags of payproof's system processes), so one
// client's heap and JIT never touch the other's; runs alternate the order of the clients. The
// headline is the CPU of that process per message (process.cpuUsage(), user + system, every thread),
// which moves much less than throughput on a shared machine; the broker's CPU per message and the
// CPU taken by other users of the machine ("others") are read from /proc for the same window.
//
//   npm run bench:kafka-client [-- --messages 20000] [-- --runs 3] [-- --quick]

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Consumer as PltConsumer,
  Producer as PltProducer,
  stringSerializers,
} from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { type CommandSpec, parseOrExit } from '../cli/command.ts';
import { median as medianOrNone } from '../lib/median.ts';
import { ProcessMonitor, type Watched } from '../lib/procmon.ts';
import { type Stack, startStack } from '../stack/stack.ts';
import { n, table } from './lib/format.ts';

/** 'platformatic-iter': the same consumer read with `for await` (one message at a time), consume only. */
type Client = 'kafkajs' | 'platformatic' | 'platformatic-iter';
const clients: readonly Client[] = ['kafkajs', 'platformatic', 'platformatic-iter'];
const clientLabel: Record<Client, string> = {
  kafkajs: 'kafkajs 2.2.4',
  platformatic: '@platformatic/kafka',
  'platformatic-iter': '@platformatic/kafka, for await',
};
const partitions = 6;
const batchSizes = [1, 10, 100] as const;
const produceTopic = 'bench.kafka-client.produce';
const consumeTopic = 'bench.kafka-client.consume';
/** The flags of payproof's system processes (harness/system/launcher.ts). */
const childExecArgv = ['--max-semi-space-size=4', '--disable-warning=TimeoutNegativeWarning'];
const jobEnv = 'PAYPROOF_KAFKA_CLIENT_BENCH_JOB';

type Job =
  | {
      readonly kind: 'produce';
      readonly client: Client;
      readonly brokers: string;
      readonly topic: string;
      readonly batch: number;
      readonly messages: number;
    }
  | {
      readonly kind: 'consume';
      readonly client: Client;
      readonly brokers: string;
      readonly topic: string;
      readonly groupId: string;
      readonly expected: number;
    };

interface Result {
  readonly messages: number;
  /** Wall time of the measured window, ms (consume: from the first message to the last commit). */
  readonly wallMs: number;
  /** CPU of the measuring process in the window, ms (user + system). */
  readonly cpuMs: number;
  /** Produce requests or offset commits awaited in the window. */
  readonly requests: number;
  /** Consume: ms from the start (group join included) to the first message. */
  readonly firstMessageMs?: number;
}

type ToParent = { type: 'ready' } | { type: 'result'; result: Result };

// ---------------------------------------------------------------------------------------------
// The measuring process.

/** A ~450-byte envelope shaped like payproof's PURCHASE_CONFIRMED. */
function envelope(): { key: string; value: string } {
  const studentId = randomUUID();
  const value = JSON.stringify({
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: new Date().toISOString(),
    payload: {
      paymentId: randomUUID(),
      studentId,
      courseId: randomUUID(),
      amountCents: 1000 + Math.floor(Math.random() * 100_000),
      metadata: { source: 'kafka-client-bench', channel: 'web', attempt: 1, note: 'x'.repeat(48) },
    },
  });
  return { key: studentId, value };
}

function send(msg: ToParent): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(msg, (err: Error | null) => (err ? reject(err) : resolve())),
  );
}

/** Tells the parent it is connected and warmed up, and waits for the go. */
async function readyThenGo(): Promise<void> {
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await send({ type: 'ready' });
  await go;
}

const cpuMsSince = (c: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1_000;
};

async function produceJob(job: Extract<Job, { kind: 'produce' }>): Promise<Result> {
  // Every message built before the window: the relay reads ready-made envelope text from the outbox.
  const warmup = Array.from({ length: Math.max(job.batch * 5, 50) }, envelope);
  const all = Array.from({ length: job.messages }, envelope);
  const batches: { key: string; value: string }[][] = [];
  for (let i = 0; i < all.length; i += job.batch) batches.push(all.slice(i, i + job.batch));
  let sendBatch: (messages: { key: string; value: string }[]) => Promise<unknown>;
  let close: () => Promise<void>;
  /** Throws unless the producer got a producer id from the broker (InitProducerId): idempotent. */
  let assertIdempotent: () => void;
  if (job.client === 'kafkajs') {
    const kafka = new Kafka({
      clientId: 'bench-producer',
      brokers: [job.brokers],
      logLevel: logLevel.NOTHING,
    });
    // As the relay's producer (system/relay/main.ts).
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    sendBatch = (messages) => producer.send({ topic: job.topic, acks: -1, messages });
    close = () => producer.disconnect();
    // kafkajs exposes no producer id; its idempotent producer refuses any acks but -1.
    assertIdempotent = () => {};
  } else {
    // idempotent: true sets acks = ProduceAcks.ALL (-1) and one request in flight per broker.
    const producer = new PltProducer({
      clientId: 'bench-producer',
      bootstrapBrokers: [job.brokers],
      idempotent: true,
      autocreateTopics: false,
      serializers: stringSerializers,
    });
    assertIdempotent = () => {
      if (producer.producerId === undefined)
        throw new Error('the producer has no producer id: not idempotent');
    };
    sendBatch = (messages) => producer.send({ messages: messages.map((m) => ({ topic: job.topic, ...m })) });
    close = () => producer.close();
  }
  // Warm-up outside the window: connections, metadata, the producer id (InitProducerId), JIT.
  for (let i = 0; i < warmup.length; i += job.batch) await sendBatch(warmup.slice(i, i + job.batch));
  assertIdempotent();
  await readyThenGo();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const b of batches) await sendBatch(b);
  const cpuMs = cpuMsSince(c0);
  const wallMs = performance.now() - t0;
  await close();
  return { messages: job.messages, wallMs, cpuMs, requests: batches.length };
}

async function consumeJob(job: Extract<Job, { kind: 'consume' }>): Promise<Result> {
  let count = 0;
  let commits = 0;
  let tFirst = 0;
  let checksum = 0;
  const decode = (value: Buffer | null | undefined) => {
    // What a worker does first with every value (system/contracts/validate.ts parseEvent).
    const event = JSON.parse((value as Buffer).toString('utf8')) as { payload: { amountCents: number } };
    checksum += event.payload.amountCents;
  };
  if (job.client === 'kafkajs') {
    const kafka = new Kafka({
      clientId: 'bench-consumer',
      brokers: [job.brokers],
      logLevel: logLevel.NOTHING,
    });
    // As the workers' consumer (system/lib/worker.ts, system/lib/consumer.ts).
    const consumer = kafka.consumer({
      groupId: job.groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      minBytes: 16 * 1024,
      maxWaitTimeInMs: 20,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [job.topic], fromBeginning: true });
    await readyThenGo();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let inFlight = 0;
    const { promise: done, resolve, reject } = Promise.withResolvers<void>();
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        inFlight++;
        if (tFirst === 0) tFirst = performance.now();
        for (const m of batch.messages) decode(m.value);
        count += batch.messages.length;
        const last = batch.messages[batch.messages.length - 1]!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        commits++;
        inFlight--;
        if (count >= job.expected && inFlight === 0) resolve();
      },
    });
    await done;
    const cpuMs = cpuMsSince(c0);
    const tEnd = performance.now();
    await consumer.disconnect();
    if (count !== job.expected || checksum === 0)
      throw new Error(`consumed ${count}, expected ${job.expected}`);
    return { messages: count, wallMs: tEnd - tFirst, cpuMs, requests: commits, firstMessageMs: tFirst - t0 };
  }
  const consumer = new PltConsumer({
    clientId: 'bench-consumer',
    bootstrapBrokers: [job.brokers],
    groupId: job.groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 15_000,
    heartbeatInterval: 1_000,
    minBytes: 16 * 1024,
    maxWaitTime: 20,
    // kafkajs's defaults (10 MB per fetch, 1 MB per partition), so both fetch the same amounts.
    maxBytes: 10 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
    autocommit: false,
  });
  // The bootstrap connection and metadata outside the window, as kafkajs's connect().
  await consumer.metadata({ topics: [job.topic] });
  await readyThenGo();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const stream = await consumer.consume({
    topics: [job.topic],
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
  });
  // The stream yields messages, not batches: the records of one fetch response are pushed into its
  // buffer together, so the buffer running empty is the end of a fetched batch. Then the last
  // message of every partition it held is committed (the library sends them as one OffsetCommit).
  const last = new Map<number, { commit: () => void | Promise<void> }>();
  const commitBatch = async () => {
    await Promise.all([...last.values()].map((x) => x.commit()));
    last.clear();
    commits++;
  };
  if (job.client === 'platformatic') {
    // A batch at a time, as a worker takes chunks: read() until the buffer is empty (synchronous),
    // handle and commit, then wait for the next fetch. One 'readable' listener for the whole run
    // (as Node's own async iterator does).
    let wake: (() => void) | undefined;
    stream.on('readable', () => {
      wake?.();
      wake = undefined;
    });
    stream.on('error', (err) => {
      throw err;
    });
    while (count < job.expected) {
      let m = stream.read() as Message<Buffer, Buffer, Buffer, Buffer> | null;
      if (m === null) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (tFirst === 0) tFirst = performance.now();
      for (; m !== null; m = stream.read() as Message<Buffer, Buffer, Buffer, Buffer> | null) {
        decode(m.value);
        count++;
        last.set(m.partition, m);
      }
      await commitBatch();
    }
  } else {
    // The README's way: one message at a time through the async iterator.
    for await (const m of stream) {
      if (tFirst === 0) tFirst = performance.now();
      decode(m.value);
      count++;
      last.set(m.partition, m);
      if (stream.readableLength === 0 || count >= job.expected) {
        await commitBatch();
        if (count >= job.expected) break;
      }
    }
  }
  const cpuMs = cpuMsSince(c0);
  const tEnd = performance.now();
  await stream.close();
  await consumer.close(true);
  if (count !== job.expected || checksum === 0)
    throw new Error(`consumed ${count}, expected ${job.expected}`);
  return { messages: count, wallMs: tEnd - tFirst, cpuMs, requests: commits, firstMessageMs: tFirst - t0 };
}

async function child(job: Job): Promise<void> {
  const result = job.kind === 'produce' ? await produceJob(job) : await consumeJob(job);
  await send({ type: 'result', result });
  process.disconnect();
  // Clients may keep timers (heartbeats, metadata) alive after close.
  setTimeout(() => process.exit(0), 200).unref();
}

// ---------------------------------------------------------------------------------------------
// The parent: broker, topics, runs, table.

interface Row {
  readonly run: number;
  readonly what: string;
  readonly client: Client;
  readonly result: Result;
  readonly brokerCpuMs: number;
  readonly othersPct: number;
  readonly machineBusyPct: number;
  readonly load1: number;
}

const live = new Set<ChildProcess>();

function runJob(
  job: Job,
  monitor: ProcessMonitor,
  watched: Watched[],
): Promise<{ result: Result; brokerCpuMs: number; othersPct: number; machineBusyPct: number }> {
  const script = fileURLToPath(import.meta.url);
  const proc = fork(script, [], {
    execArgv: childExecArgv,
    env: { ...process.env, MALLOC_ARENA_MAX: '2', [jobEnv]: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(proc);
  const self: Watched = { name: 'measured client', pid: proc.pid!, selfOnly: true };
  watched.push(self);
  return new Promise((resolve, reject) => {
    let start: ReturnType<ProcessMonitor['snapshot']> | undefined;
    let out: Awaited<ReturnType<typeof runJob>> | undefined;
    const timer = setTimeout(() => {
      reject(new Error(`${job.kind} ${job.client}: no result after 120 s`));
      proc.kill('SIGKILL');
    }, 120_000);
    proc.on('message', (msg: ToParent) => {
      if (msg.type === 'ready') {
        start = monitor.snapshot();
        proc.send('go');
      } else if (msg.type === 'result' && start) {
        const w = monitor.between(start, monitor.snapshot());
        out = {
          result: msg.result,
          brokerCpuMs: 1_000 * (w.rows.find((r) => r.name === 'kafka')?.cpuS ?? Number.NaN),
          othersPct: w.othersPct,
          machineBusyPct: w.machineBusyPct,
        };
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      watched.splice(watched.indexOf(self), 1);
      if (out) resolve(out);
      else reject(new Error(`${job.kind} ${job.client}: exited (${signal ?? code}) without a result`));
    });
  });
}

async function createTopics(brokers: string): Promise<void> {
  // As harness/stack/stack.ts creates the system's topics; a fresh topic's metadata can lag its
  // creation for a moment (UNKNOWN_TOPIC_OR_PARTITION), so wait until every partition has a leader.
  const admin = new Kafka({
    clientId: 'bench-admin',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const wanted = [produceTopic, consumeTopic];
    await admin.createTopics({
      waitForLeaders: false,
      topics: wanted.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: wanted });
        if (
          topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))
        )
          return;
      } catch (err) {
        if (attempt >= 50) throw err;
      }
      if (attempt >= 50) throw new Error('bench topics have no leaders after 10 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Joins a throwaway group once, so that the first measured consumer does not meet the offsets
 * topic being created and loaded (GROUP_LOAD_IN_PROGRESS) on a fresh broker.
 */
async function warmGroupCoordinator(brokers: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'bench-warmup',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const consumer = kafka.consumer({ groupId: `bench-warmup-${randomUUID()}`, sessionTimeout: 10_000 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [consumeTopic], fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: async () => {} });
    await joined;
  } finally {
    await consumer.disconnect();
  }
}

/** Fills the consume topic once (not measured): `count` envelopes, batches of 1,000, acks=all. */
async function prefill(brokers: string, count: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-prefill', brokers: [brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < count; i += 1_000)
      await producer.send({
        topic: consumeTopic,
        acks: -1,
        messages: Array.from({ length: Math.min(1_000, count - i) }, envelope),
      });
  } finally {
    await producer.disconnect();
  }
}

/** Odd runs in the listed order, even runs reversed. */
const ordered = <T>(xs: readonly T[], run: number): T[] => (run % 2 === 1 ? [...xs] : [...xs].reverse());

/** Every list here has one figure per run, so never empty. */
const median = (xs: readonly number[]) => medianOrNone(xs) ?? Number.NaN;

export const kafkaClientBenchCommand: CommandSpec = {
  invocation: 'npm run bench:kafka-client --',
  summary:
    "CPU per message of kafkajs (what payproof runs) and @platformatic/kafka, producing and consuming\nagainst the harness's real broker, each measurement in a fresh Node process.",
  usage: ['[--messages N] [--runs N] [--quick]'],
  options: {
    messages: {
      type: 'string',
      value: 'N',
      description: 'messages per produce run at N = 100 (default 20000, --quick 5000)',
      number: { min: 1, integer: true },
    },
    runs: {
      type: 'string',
      value: 'N',
      description: 'runs, the clients alternating (default 3)',
      number: { min: 1, integer: true },
    },
    quick: { type: 'boolean', description: 'fewer messages (minutes)' },
  },
  examples: [
    'npm run bench:kafka-client -- --quick',
    'npm run bench:kafka-client -- --messages 50000 --runs 5',
  ],
  exits: '0 measured, 64 usage error',
};

async function main(): Promise<void> {
  const { values } = parseOrExit(kafkaClientBenchCommand) as {
    values: { messages?: string; runs?: string; quick?: boolean };
  };
  const int = (v: string | undefined, dflt: number, name: string) => {
    const x = v === undefined ? dflt : Number(v);
    if (!Number.isSafeInteger(x) || x < 1) throw new Error(`--${name} ${v}: expected a positive integer`);
    return x;
  };
  // --messages: messages per produce run at N = 100; N = 10 and N = 1 send the same number of
  // requests (a tenth, a hundredth of the messages), so that a run stays bounded on a busy machine
  // where one acks=all round trip can take tens of ms. The consume topic holds five times as many.
  const messages = int(values.messages, values.quick ? 5_000 : 20_000, 'messages');
  const runs = int(values.runs, 3, 'runs');
  const produceCount = (batch: number) => Math.max(batch, Math.round(messages / 100) * batch);
  const consumeCount = messages * 5;

  const cores = availableParallelism();
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log('machine');
  console.log(`  cpus:    ${cores} x ${cpus()[0]?.model ?? 'unknown'}`);
  console.log(`  node:    ${process.version}`);
  console.log(`  load:    ${load()} (1/5/15 min, at start: the machine is shared)`);
  console.log(
    `  plan:    ${runs} runs, clients alternating; produce ${batchSizes.map((b) => `N=${b}: ${produceCount(b)}`).join(', ')} messages; consume ${consumeCount} messages`,
  );

  let stack: Stack | undefined;
  const stopAll = async () => {
    for (const p of live) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
    await stack?.stop();
    if (stack) rmSync(stack.endpoints.runDir, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${sig}: stopping...`);
    void stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  try {
    const t0 = performance.now();
    stack = await startStack({ ports: 'free', migrate: false });
    const brokers = stack.endpoints.direct.kafkaBrokers;
    console.log(
      `  broker:  Kafka at ${brokers} (direct listener), ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await createTopics(brokers);
    await prefill(brokers, consumeCount);
    await warmGroupCoordinator(brokers);
    const kafkaPid = stack.kafka.process?.pid;
    if (kafkaPid === undefined) throw new Error('kafka is not running');
    // Every process of ours is watched, so that "others" is what other users of the machine took.
    const watched: Watched[] = [
      ...Object.entries(stack.pids()).map(([name, pid]) => ({ name, pid, tree: true })),
      { name: 'bench', pid: process.pid, selfOnly: true },
    ];
    const monitor = new ProcessMonitor(() => watched, cores);
    monitor.snapshot();

    for (let run = 1; run <= runs; run++) {
      const jobs: { what: string; job: (c: Client) => Job }[] = [
        ...batchSizes.map((batch) => ({
          what: `produce N=${batch}`,
          job: (client: Client): Job => ({
            kind: 'produce',
            client,
            brokers,
            topic: produceTopic,
            batch,
            messages: produceCount(batch),
          }),
        })),
        {
          what: 'consume',
          job: (client: Client): Job => ({
            kind: 'consume',
            client,
            brokers,
            topic: consumeTopic,
            groupId: `bench-${client}-${run}-${randomUUID()}`,
            expected: consumeCount,
          }),
        },
      ];
      for (const { what, job } of jobs)
        for (const client of ordered(what === 'consume' ? clients : clients.slice(0, 2), run)) {
          const out = await runJob(job(client), monitor, watched);
          const row: Row = { run, what, client, ...out, load1: loadavg()[0]! };
          rows.push(row);
          const r = out.result;
          console.log(
            `  run ${run}  ${what.padEnd(12)} ${client.padEnd(12)} ${String(r.messages).padStart(6)} msgs  ${n(r.wallMs / 1000, 2)} s  ${n((1000 * r.messages) / r.wallMs, 0)} msgs/s  CPU ${n(r.cpuMs / r.messages, 4)} ms/msg  broker ${n(out.brokerCpuMs / r.messages, 4)} ms/msg  others ${n(out.othersPct, 0)}%  load ${n(row.load1, 1)}${r.firstMessageMs === undefined ? '' : `  (join to first message ${n(r.firstMessageMs, 0)} ms)`}`,
          );
        }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }

  const whats = [...batchSizes.map((b) => `produce N=${b}`), 'consume'];
  const spread = (xs: number[], digits: number) =>
    `${n(Math.min(...xs), digits)}-${n(Math.max(...xs), digits)}`;
  const body: string[][] = [];
  for (const what of whats)
    for (const client of clients) {
      const rs = rows.filter((r) => r.what === what && r.client === client);
      if (rs.length === 0) continue;
      const cpu = rs.map((r) => r.result.cpuMs / r.result.messages);
      const rate = rs.map((r) => (1000 * r.result.messages) / r.result.wallMs);
      const broker = rs.map((r) => r.brokerCpuMs / r.result.messages);
      const kjs = rows
        .filter((r) => r.what === what && r.client === 'kafkajs')
        .map((r) => r.result.cpuMs / r.result.messages);
      body.push([
        what,
        clientLabel[client],
        String(rs[0]!.result.messages),
        n(median(cpu), 4),
        spread(cpu, 4),
        client === 'kafkajs' ? '1.00' : n(median(cpu) / median(kjs), 2),
        n(median(rate), 0),
        spread(rate, 0),
        n(median(broker), 4),
        n(median(rs.map((r) => r.result.requests)), 0),
        n(median(rs.map((r) => r.othersPct)), 0),
        n(median(rs.map((r) => r.load1)), 1),
      ]);
    }
  console.log(
    `\nresults (${runs} runs each; median and min-max; CPU of the client's Node process per message)`,
  );
  console.log(
    table(
      [
        'measurement',
        'client',
        'msgs',
        'CPU ms/msg',
        'spread',
        'vs kafkajs',
        'msgs/s',
        'spread',
        'broker ms/msg',
        'requests',
        'others %',
        'load1',
      ],
      body,
    ),
  );
  console.log(
    '\n  requests: produce requests (produce) or offset commits (consume) awaited per run. others: CPU of other users of the machine, % of one core, in the window.',
  );
  console.log(`  load average at the end: ${load()}`);
}

const jobText = process.env[jobEnv];
if (jobText) {
  await child(JSON.parse(jobText) as Job);
} else {
  await main();
  // The broker is stopped: a client socket or timer left in this process must not keep it alive.
  process.exit(0);
}
