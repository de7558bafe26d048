// npm run system: the stack plus the reference system (API, relay, four workers), on fixed
// ports, logs on the terminal, everything stopped cleanly on Ctrl-C.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { defaultInstances, processKinds, startSystem } from '../system/launcher.ts';
import { metricsLines, systemFile } from '../system/metrics-endpoints.ts';
import { seed } from '../system/seed.ts';
import type { TargetProvider } from '../target/target.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, type Parsed, runCommand, str } from './command.ts';
import { plantedFaultNames, plantedFrom, targetFrom, targetOption, workerCounts } from './values.ts';

export const systemCommand: CommandSpec = {
  invocation: 'npm run system --',
  summary:
    'Starts the stack (PostgreSQL, Kafka, Redis, Toxiproxy) and the reference system (API, relay, four workers)\non fixed ports, prints every address (API, DATABASE_URL, Kafka, Redis, each /metrics endpoint, Prometheus), shows\nthe logs; Ctrl-C stops everything.',
  usage: [
    '[--workers kind=N,...] [--faults a,b] [--quiet] [--target native|native-cluster]',
    '--target external:<file>   (checks a running deployment and prints its addresses)',
  ],
  options: {
    workers: {
      type: 'string',
      value: 'kind=N,...',
      description: `instances per kind (${processKinds.join(', ')}), 0..16`,
    },
    faults: {
      type: 'string',
      value: 'a,b',
      description: 'planted bugs (PAYPROOF_FAULTS also works)',
      choices: plantedFaultNames,
      list: true,
    },
    quiet: { type: 'boolean', description: "do not echo the processes' logs (they stay in the run folder)" },
    target: targetOption,
  },
  examples: [
    'npm run system                                   # API on http://127.0.0.1:3000 (PORT overrides it)',
    'npm run system -- --workers purchase=3,allocation=2',
    'npm run system -- --faults skip-inbox --quiet    # a planted bug, logs in .runs/ only',
    'npm run system -- --target native-cluster        # three Kafka brokers (replication 3)',
    'npm run system -- --target external:deploy.json  # is that deployment up? prints its addresses',
    'npm run system -- --target compose               # docker-compose.yml: up (or reused), its addresses',
  ],
  exits: '0 after Ctrl-C, 64 usage error, 2 when the stack or the system cannot start',
};

async function main(args: Parsed): Promise<number> {
  const instances = { ...defaultInstances, ...workerCounts(str(args, 'workers'), processKinds) };
  const faults = plantedFrom(str(args, 'faults'));
  const quiet = bool(args, 'quiet');
  const target = targetFrom(str(args, 'target'));
  const unavailable = target.unavailable();
  if (unavailable) {
    console.error(unavailable);
    return 2;
  }
  if (target.ref.provider === 'external' || target.ref.provider === 'compose') return showDeployment(target);
  const brokers = target.ref.provider === 'native-cluster' ? 3 : 1;
  const runDir = join(repoRoot, '.runs', `system-${new Date().toISOString().replace(/[:.]/g, '-')}`);

  console.log(`starting stack and system (logs in ${runDir}/logs)`);
  const stack = await startStack({
    runDir,
    ports: 'fixed',
    brokers,
    onProgress: (l) => console.log(`  ${l}`),
  });
  let stopSystem: (() => Promise<void>) | undefined;
  stopOnSignals(async () => {
    await stopSystem?.();
    await stack.stop();
  });
  const seeded = await seed(stack.endpoints.direct.databaseUrl);
  const apiPort = Number(process.env.PORT ?? 3000);
  const system = await startSystem({
    endpoints: stack.endpoints,
    runDir,
    instances,
    faults,
    apiPort,
    prometheus: { port: prometheusPort(), intervalS: 5 },
    onLog: quiet ? undefined : (name, line) => process.stdout.write(`${name.padEnd(22)} ${line}\n`),
  });
  stopSystem = () => system.stop();
  // Beside stack.json: `npm run chaos -- <scenario> --attach` reads the processes' metrics from it.
  writeFileSync(join(runDir, 'system.json'), `${JSON.stringify(systemFile(system.processes), null, 2)}\n`);
  const e = stack.endpoints;
  console.log(`
payproof system ready (${Object.entries(instances)
    .map(([k, n]) => `${k}×${n}`)
    .join(', ')}${faults.length ? `; PLANTED BUGS: ${faults.join(',')}` : ''})
API            ${system.apiUrl}   (POST /payments, GET /payments/:id, GET /students/:id/dashboard: Bearer token of the dev issuer; POST /webhooks/provider: signed by the provider)
DATABASE_URL=${e.databaseUrl}
KAFKA_BROKERS=${e.kafkaBrokers}
REDIS_URL=${e.redisUrl}
TOXIPROXY_URL=${e.toxiproxyUrl}
PROMETHEUS_URL=${system.prometheus?.url}   (scrapes every process every 5 s; alerts: ${system.prometheus?.url}/alerts, targets file ${system.prometheus?.targetsFile})
metrics (Prometheus, one endpoint per process):
${metricsLines(system.processes)
  .map((l) => `  ${l}`)
  .join('\n')}
seed: ${seeded.students.length} students (first ${seeded.students[0]}), ${seeded.courses.length} courses (first ${seeded.courses[0]}), ${seeded.trainers.length} trainers
pids: ${JSON.stringify({ ...stack.pids(), ...system.pids() })}
Ctrl-C stops everything.`);
  return new Promise<number>(() => {});
}

/** Prometheus's port for npm run system: 9090, or PAYPROOF_PROMETHEUS_PORT. */
function prometheusPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PAYPROOF_PROMETHEUS_PORT ?? '9090';
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535)
    throw new Error(`PAYPROOF_PROMETHEUS_PORT=${raw} is not a port number`);
  return n;
}

/**
 * A deployment the harness does not launch itself: say whether it answers, and where everything is.
 * An external one is left as it is; a compose one is started when it was not up (and seeded), and
 * brought down on Ctrl-C only then.
 */
async function showDeployment(target: TargetProvider): Promise<number> {
  const compose = target.ref.provider === 'compose';
  const t = await target
    .open({ runDir: '', spec: {}, faults: [], seed: compose, log: (l) => console.log(l) })
    .catch((err: Error) => err);
  if (t instanceof Error) {
    console.error(t.message);
    return 2;
  }
  const e = t.endpoints;
  console.log(`API            ${t.system.apiUrl}   ready
DATABASE_URL=${e.databaseUrl}${e.direct.databaseUrl !== e.databaseUrl ? `   (direct ${e.direct.databaseUrl})` : ''}
KAFKA_BROKERS=${e.kafkaBrokers}${e.direct.kafkaBrokers !== e.kafkaBrokers ? `   (direct ${e.direct.kafkaBrokers})` : ''}
REDIS_URL=${e.redisUrl}${e.direct.redisUrl !== e.redisUrl ? `   (direct ${e.direct.redisUrl})` : ''}
TOXIPROXY_URL=${e.toxiproxyUrl || '(none)'}
processes:
${t.system
  .processes()
  .map(
    (p) =>
      `  ${p.name.padEnd(22)} ${p.running ? 'running' : 'NOT RUNNING'}${p.pid ? ` pid ${p.pid}` : ''}${p.metricsUrl ? ` ${p.metricsUrl}/metrics` : ''}`,
  )
  .join('\n')}
cannot: ${
    Object.entries(t.lacks)
      .map(([k, v]) => `${k} (${v})`)
      .join('; ') || 'nothing'
  }`);
  if (compose && t.owned) {
    console.log('Ctrl-C stops it (docker compose down -v).');
    stopOnSignals(() => t.close());
    return new Promise<number>(() => {});
  }
  await t.close();
  return 0;
}

if (import.meta.main) await runCommand(systemCommand, main);
