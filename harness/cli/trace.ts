// npm run trace -- <paymentId>: the payment's whole trace (confirmation, outbox row, publish, each
// worker's handling, sessions, cache invalidation) with the time of each hop, from the database,
// the topics and the logs of a running (or finished) stack.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newestStackJson } from '../chaos/environment.ts';
import type { Endpoints } from '../stack/stack.ts';
import { formatTrace, tracePayment } from '../trace/trace.ts';
import { bool, type CommandSpec, type Parsed, runCommand, str, UsageError } from './command.ts';

export const traceCommand: CommandSpec = {
  invocation: 'npm run trace --',
  summary:
    "A payment's whole trace, each hop with its time: confirmation, outbox row, publish, each consumer's\nhandling and commit, purchase, allocation, sessions, cache invalidation; from the database, the\ntopics and the processes' logs.",
  usage: ['<paymentId> [--stack stack.json] [--logs DIR] [--no-topics] [--json]'],
  positionals: {
    name: 'paymentId',
    max: 1,
    description: "the payment (its id is every event's correlationId)",
  },
  options: {
    stack: {
      type: 'string',
      value: 'stack.json',
      description: 'the stack (default: the newest .runs/*/stack.json, what npm run system writes)',
    },
    logs: {
      type: 'string',
      value: 'DIR',
      description: "the processes' logs (default: <stack run folder>/logs)",
    },
    'no-topics': { type: 'boolean', description: 'do not read the topics (faster on a large run)' },
    json: { type: 'boolean', description: 'print the hops as JSON' },
  },
  examples: [
    'npm run trace -- 0b5c6f9e-3a1d-4a57-9a55-0a4e4f8d2d11',
    'npm run trace -- <paymentId> --stack reports/latest/stack/stack.json',
  ],
  exits: '0 traced, 1 no such payment, 64 usage error, 2 the stack could not be read',
};

async function main(args: Parsed): Promise<number> {
  const paymentId = args.positionals[0];
  if (!paymentId || !/^[0-9a-f-]{36}$/i.test(paymentId))
    throw new UsageError('<paymentId> (a UUID) is required');
  const stackJson = str(args, 'stack') ?? newestStackJson();
  if (!stackJson || !existsSync(stackJson))
    throw new UsageError('no stack.json (start `npm run system`, or pass --stack <path>)');
  const { endpoints } = JSON.parse(readFileSync(stackJson, 'utf8')) as { endpoints: Endpoints };
  const trace = await tracePayment({
    paymentId,
    databaseUrl: endpoints.direct.databaseUrl,
    ...(bool(args, 'no-topics') ? {} : { kafkaBrokers: endpoints.direct.kafkaBrokers }),
    logsDir: str(args, 'logs') ?? join(endpoints.runDir, 'logs'),
  });
  if (bool(args, 'json')) console.log(JSON.stringify(trace, null, 2));
  else for (const l of formatTrace(trace)) console.log(l);
  return trace.found ? 0 : 1;
}

if (import.meta.main) await runCommand(traceCommand, main);
