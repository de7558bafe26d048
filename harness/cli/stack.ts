// npm run stack: the infrastructure alone, migrated, with its endpoints printed; Ctrl-C stops it.
import { join } from 'node:path';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, type Parsed, runCommand } from './command.ts';

export const stackCommand: CommandSpec = {
  invocation: 'npm run stack --',
  summary:
    'Starts the infrastructure alone (PostgreSQL, Kafka KRaft, Redis, Toxiproxy with one proxy each), migrated,\nand prints its endpoints (every client address goes through Toxiproxy); Ctrl-C stops it.',
  usage: ['[--free-ports] [--exit]'],
  options: {
    'free-ports': { type: 'boolean', description: 'pick free ports instead of the fixed defaults' },
    exit: { type: 'boolean', description: 'stop again as soon as it is ready (a start-up check)' },
  },
  examples: [
    'npm run stack                        # fixed ports; Ctrl-C stops it',
    'npm run stack -- --free-ports --exit # start, print, stop: does the toolchain work here?',
  ],
  exits: '0 after Ctrl-C or --exit, 64 usage error, 2 when the stack cannot start',
};

async function main(args: Parsed): Promise<number> {
  const runDir = join(repoRoot, '.runs', `stack-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  console.log(`starting stack (logs in ${runDir}/logs)`);
  const stack = await startStack({
    runDir,
    ports: bool(args, 'free-ports') ? 'free' : 'fixed',
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
  if (bool(args, 'exit')) {
    await stack.stop();
    console.log('stopped');
    return 0;
  }
  return new Promise<number>(() => {});
}

if (import.meta.main) await runCommand(stackCommand, main);
