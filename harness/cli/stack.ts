// npm run stack: the infrastructure alone, migrated, with its endpoints printed; Ctrl-C stops it.
import { join } from 'node:path';
import { startStack, stopOnSignals } from '../stack/stack.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { bool, type CommandSpec, type Parsed, runCommand, str, UsageError } from './command.ts';
import { targetFrom, targetOption } from './values.ts';

export const stackCommand: CommandSpec = {
  invocation: 'npm run stack --',
  summary:
    'Starts the infrastructure alone (PostgreSQL, Kafka KRaft, Redis, Toxiproxy with one proxy each), migrated,\nand prints its endpoints (every client address goes through Toxiproxy); Ctrl-C stops it.',
  usage: ['[--free-ports] [--exit] [--bare] [--target native|native-cluster]'],
  options: {
    'free-ports': { type: 'boolean', description: 'pick free ports instead of the fixed defaults' },
    exit: { type: 'boolean', description: 'stop again as soon as it is ready (a start-up check)' },
    bare: {
      type: 'boolean',
      description: "no migrations, no topics: left to the system's own `node system/main.ts provision`",
    },
    target: targetOption,
  },
  examples: [
    'npm run stack                        # fixed ports; Ctrl-C stops it',
    'npm run stack -- --free-ports --exit # start, print, stop: does the toolchain work here?',
    'npm run stack -- --bare              # empty services, for a deployment that provisions itself',
  ],
  exits: '0 after Ctrl-C or --exit, 64 usage error, 2 when the stack cannot start',
};

async function main(args: Parsed): Promise<number> {
  const target = targetFrom(str(args, 'target'));
  if (target.ref.provider !== 'native' && target.ref.provider !== 'native-cluster')
    throw new UsageError(
      `--target ${target.ref.text}: npm run stack starts native infrastructure (native, native-cluster)`,
    );
  const bare = bool(args, 'bare');
  const runDir = join(repoRoot, '.runs', `stack-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  console.log(`starting stack (logs in ${runDir}/logs)`);
  const stack = await startStack({
    runDir,
    ports: bool(args, 'free-ports') ? 'free' : 'fixed',
    ...(target.ref.provider === 'native-cluster' ? { brokers: 3 } : {}),
    ...(bare ? { migrate: false, topics: false } : {}),
    onProgress: (l) => console.log(`  ${l}`),
  });
  stopOnSignals(() => stack.stop());
  const e = stack.endpoints;
  console.log(`
stack ready in ${(stack.timingsMs.total! / 1000).toFixed(1)}s (every client address below goes through Toxiproxy)
${bare ? 'bare: no schema, no topics (node system/main.ts provision creates them)\n' : ''}DATABASE_URL=${e.databaseUrl}
KAFKA_BROKERS=${e.kafkaBrokers}
REDIS_URL=${e.redisUrl}
TOXIPROXY_URL=${e.toxiproxyUrl}
direct (no proxy): DATABASE_URL=${e.direct.databaseUrl} KAFKA_BROKERS=${e.direct.kafkaBrokers} REDIS_URL=${e.direct.redisUrl}
stack.json: ${join(runDir, 'stack.json')}
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
