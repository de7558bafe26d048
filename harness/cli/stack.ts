// npm run stack: the infrastructure alone, migrated, with its endpoints printed; Ctrl-C stops it.
import { join } from 'node:path';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { repoRoot } from '../toolchain/toolchain.ts';

const runDir = join(repoRoot, '.runs', `stack-${new Date().toISOString().replace(/[:.]/g, '-')}`);
console.log(`starting stack (logs in ${runDir}/logs)`);
const stack = await startStack({
  runDir,
  ports: process.argv.includes('--free-ports') ? 'free' : 'fixed',
  onProgress: (l) => console.log(`  ${l}`),
});
stopOnSignals(() => stack.stop());
const e = stack.endpoints;
console.log(`
stack ready in ${(stack.timingsMs.total! / 1000).toFixed(1)}s (every client address below goes through Toxiproxy)
DATABASE_URL=${e.databaseUrl}
KAFKA_BROKERS=${e.kafkaBrokers}
REDIS_URL=${e.redisUrl}
TOXIPROXY_URL=${e.toxiproxyUrl}
pids: ${JSON.stringify(stack.pids())}
Ctrl-C to stop.`);
if (process.argv.includes('--exit')) {
  await stack.stop();
  console.log('stopped');
  process.exit(0);
}
await new Promise(() => {});
