// A deployment started the way an operator would, with the system's own entry point and no harness
// launcher: `node system/main.ts provision`, then `node system/main.ts supervise ...` (pid files in
// PAYPROOF_PID_DIR), against services that are already up; and the target file that describes it
// (native process controller). The e2e tests run the harness against it as `external:<file>`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harnessKafka } from '../../harness/lib/kafka.ts';
import { waitFor } from '../../harness/lib/wait-for.ts';
import { applicationDatabaseUrl } from '../../harness/system/plant.ts';
import { provisionSystem, systemEnv } from '../../harness/system/provision.ts';
import type { ServiceEndpoints } from '../../harness/target/target.ts';
import type { TargetFile } from '../../harness/target/target-file.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';
import {
  instanceName,
  isProcessKind,
  type ProcessKind,
  type ProcessSpec,
  processSpecs,
} from '../../system/contracts/processes.ts';

const main = join(repoRoot, 'system', 'main.ts');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports on 127.0.0.1 (the supervisor numbers metrics ports from a base). */
async function freeRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

export interface Deployment {
  readonly file: string;
  readonly target: TargetFile;
  readonly supervisor: ChildProcess;
  readonly log: string;
  stop(): Promise<void>;
}

/** `instances`: the supervise arguments, e.g. ['api', 'relay', 'purchase=2']. */
export async function deploy(e: ServiceEndpoints, instances: readonly string[]): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'payproof-deploy-'));
  const env = {
    ...systemEnv(e),
    TOPUP_INTERVAL_MS: '1000',
    NODE_OPTIONS: '--disable-warning=TimeoutNegativeWarning',
  };
  // provision migrates, so it connects as the owner; the processes connect as the application role
  // the migrations create, as the harness's launcher and docker-compose.yml start them.
  await provisionSystem(e);

  const list: { kind: ProcessKind; name: string }[] = [];
  for (const a of instances) {
    const [kind, n = '1'] = a.split('=');
    if (!kind || !isProcessKind(kind)) throw new Error(`no process kind ${kind}`);
    for (let i = 1; i <= Number(n); i++) list.push({ kind, name: instanceName(kind, i) });
  }
  // The supervisor starts kinds in the system's order and numbers metrics ports in that order.
  const order = new Map(
    (await import('../../system/contracts/processes.ts')).processKinds.map((k, i) => [k, i]),
  );
  list.sort((a, b) => order.get(a.kind)! - order.get(b.kind)! || a.name.localeCompare(b.name));
  const base = await freeRun(list.length + 1);
  const apiPort = base;
  const log = join(dir, 'supervise.log');
  const out = (await import('node:fs')).openSync(log, 'a');
  const supervisor = spawn(process.execPath, [main, 'supervise', ...instances], {
    env: {
      ...env,
      DATABASE_URL: applicationDatabaseUrl(e.databaseUrl),
      PORT: String(apiPort),
      METRICS_PORT_BASE: String(base),
      PAYPROOF_PID_DIR: join(dir, 'pids'),
    },
    stdio: ['ignore', out, out],
    detached: true,
  });
  let port = base;
  const target: TargetFile = {
    version: 1,
    name: `node system/main.ts supervise ${instances.join(' ')}`,
    api: { url: `http://127.0.0.1:${apiPort}` },
    postgres: { url: e.databaseUrl, direct: e.direct.databaseUrl },
    kafka: { brokers: e.kafkaBrokers, direct: e.direct.kafkaBrokers },
    redis: { url: e.redisUrl, direct: e.direct.redisUrl },
    toxiproxy: { url: e.toxiproxyUrl, proxies: { postgres: 'postgres', redis: 'redis', kafka: ['kafka'] } },
    processes: {
      controller: 'native',
      list: list.map(({ kind, name }) => ({
        name,
        kind,
        metricsUrl: `http://127.0.0.1:${kind === 'api' ? apiPort : ++port}`,
        pidFile: join(dir, 'pids', `${name.replace('#', '-')}.pid`),
      })),
    },
  };
  const file = join(dir, 'target.json');
  writeFileSync(file, `${JSON.stringify(target, null, 2)}\n`);
  const stop = async () => {
    if (supervisor.exitCode !== null || supervisor.signalCode !== null) return;
    const exited = new Promise((r) => supervisor.once('exit', r));
    supervisor.kill('SIGTERM');
    const t = setTimeout(() => {
      try {
        process.kill(-supervisor.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 30_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitFor(
      'every process of the deployment to answer /healthz',
      async () => {
        for (const x of target.processes.list) {
          const ok = await fetch(`${x.metricsUrl}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
            (r) => r.ok,
            () => false,
          );
          if (!ok) return false;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    // Up means consuming, as the harness's launcher waits for it: on fresh services the group
    // coordinator (__consumer_offsets) comes up after the processes answer /healthz, and a run whose
    // workers have not joined yet measures no consumer lag and cannot judge its steady state.
    await groupsStable(e.direct.kafkaBrokers, list);
  } catch (err) {
    await stop();
    throw err;
  }
  return { file, target, supervisor, log, stop };
}

/** Waits until every consumer group of `list` is Stable with one member per instance. */
async function groupsStable(brokers: string, list: readonly { kind: ProcessKind }[]): Promise<void> {
  const want = new Map<string, number>();
  for (const { kind } of list) {
    const spec: ProcessSpec = processSpecs[kind];
    const group = spec.group;
    if (group) want.set(group, (want.get(group) ?? 0) + 1);
  }
  const admin = harnessKafka(brokers, 'payproof-deploy').admin();
  await admin.connect();
  try {
    await waitFor(
      'every consumer group of the deployment to be stable with all its instances',
      async () => {
        const { groups } = await admin.describeGroups([...want.keys()]);
        return groups.every((g) => g.state === 'Stable' && g.members.length === want.get(g.groupId));
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  } finally {
    await admin.disconnect();
  }
}
