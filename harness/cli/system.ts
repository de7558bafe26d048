// npm run system: the stack plus the reference system (API, relay, four workers), on fixed
// ports, logs on the terminal, everything stopped cleanly on Ctrl-C.
//   --workers purchase=3,allocation=2   instances per kind (api, relay, purchase, allocation, session, cache)
//   --faults skip-inbox,...             planted bugs (PAYPROOF_FAULTS also works)
//   --quiet                             do not echo process logs
import { join } from 'node:path';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { defaultInstances, processKinds, startSystem } from '../system/launcher.ts';
import { seed } from '../system/seed.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { flagString, parseArgs, parseCounts } from './args.ts';

const args = parseArgs();
const instances = { ...defaultInstances, ...parseCounts(flagString(args, 'workers'), processKinds) };
const faults = (flagString(args, 'faults') ?? process.env.PAYPROOF_FAULTS ?? '').split(',').filter(Boolean);
const quiet = args.flags.has('quiet');
const runDir = join(repoRoot, '.runs', `system-${new Date().toISOString().replace(/[:.]/g, '-')}`);

console.log(`starting stack and system (logs in ${runDir}/logs)`);
const stack = await startStack({ runDir, ports: 'fixed', onProgress: (l) => console.log(`  ${l}`) });
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
  onLog: quiet ? undefined : (name, line) => process.stdout.write(`${name.padEnd(22)} ${line}\n`),
});
stopSystem = () => system.stop();
const e = stack.endpoints;
console.log(`
payproof system ready (${Object.entries(instances)
  .map(([k, n]) => `${k}×${n}`)
  .join(', ')}${faults.length ? `; PLANTED BUGS: ${faults.join(',')}` : ''})
API            ${system.apiUrl}   (POST /payments, POST /payments/:id/confirm, GET /students/:id/dashboard, /metrics)
DATABASE_URL=${e.databaseUrl}
KAFKA_BROKERS=${e.kafkaBrokers}
REDIS_URL=${e.redisUrl}
TOXIPROXY_URL=${e.toxiproxyUrl}
seed: ${seeded.students.length} students (first ${seeded.students[0]}), ${seeded.courses.length} courses (first ${seeded.courses[0]}), ${seeded.trainers.length} trainers
pids: ${JSON.stringify({ ...stack.pids(), ...system.pids() })}
Ctrl-C stops everything.`);
await new Promise(() => {});
