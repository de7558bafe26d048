// npm run check: the invariant checker alone, against a stack that is up (the stack.json that
// `npm run stack` / `npm run system` or a run folder holds): waits for convergence, checks every
// invariant, prints one line per invariant, exits 0 PASS / 1 FAIL / 2 UNKNOWN.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { invariants } from '../checker/check.ts';
import { runChecker } from '../checker/run-checker.ts';
import { decideVerdict, exitCodeFor } from '../run/result.ts';
import { parseTargetRef, type ServiceEndpoints } from '../target/target.ts';
import { readTargetFile } from '../target/target-file.ts';
import { bool, type CommandSpec, num, type Parsed, runCommand, str, UsageError } from './command.ts';

export const checkCommand: CommandSpec = {
  invocation: 'npm run check --',
  summary:
    'The invariant checker alone, against a running stack: waits for convergence, checks every invariant\n(or --only some), prints one line each and the verdict.',
  usage: [
    '--stack <stack.json> | --target external:<file>  [--history h.jsonl] [--database-url URL] [--timeout-ms N] [--no-converge] [--only a,b] [--json out.json]',
  ],
  options: {
    stack: {
      type: 'string',
      value: 'stack.json',
      description: "the stack to check (.runs/<run>/stack.json, or a run folder's stack/stack.json)",
    },
    target: {
      type: 'string',
      value: 'external:<file>',
      description: 'check the deployment a target file describes (instead of --stack)',
    },
    history: {
      type: 'string',
      value: 'h.jsonl',
      description: "the run's client history (history.jsonl): judges what clients were told",
    },
    'database-url': { type: 'string', value: 'URL', description: "overrides the stack's direct database" },
    'timeout-ms': {
      type: 'string',
      value: 'N',
      description: 'convergence wait (default 60000)',
      number: { min: 0, integer: true },
    },
    'no-converge': { type: 'boolean', description: 'check at once, without waiting for convergence' },
    only: {
      type: 'string',
      value: 'a,b',
      description: 'only these invariants',
      choices: Object.keys(invariants),
      list: true,
    },
    json: { type: 'string', value: 'out.json', description: "also write the checker's output as JSON" },
  },
  examples: [
    'npm run check -- --stack .runs/system-2026-11-30T09-00-00-000Z/stack.json',
    'npm run check -- --stack reports/latest/stack/stack.json --history reports/latest/history.jsonl',
    'npm run check -- --stack .runs/<run>/stack.json --only no-duplicate-purchases --no-converge',
    'npm run check -- --target external:deploy.json   # a deployment described by a target file',
  ],
};

async function main(args: Parsed): Promise<number> {
  const stackJson = str(args, 'stack');
  const targetText = str(args, 'target');
  if (stackJson && targetText) throw new UsageError('give --stack or --target, not both');
  if (!stackJson && !targetText)
    throw new UsageError('--stack <stack.json> or --target external:<file> is required');
  if (stackJson && !existsSync(stackJson)) throw new UsageError(`--stack ${stackJson}: no such file`);
  const history = str(args, 'history');
  if (history && !existsSync(history)) throw new UsageError(`--history ${history}: no such file`);
  const endpoints = stackJson
    ? (JSON.parse(readFileSync(stackJson, 'utf8')) as { endpoints: ServiceEndpoints }).endpoints
    : externalEndpoints(targetText!);
  const only = str(args, 'only');
  const out = await runChecker({
    endpoints,
    ...(history ? { historyPath: history } : {}),
    ...(str(args, 'database-url') ? { databaseUrl: str(args, 'database-url')! } : {}),
    convergence: bool(args, 'no-converge') ? false : { timeoutMs: num(args, 'timeout-ms', 60_000) },
    ...(only ? { only: only.split(',') } : {}),
  });
  for (const r of out.invariants) {
    const why =
      r.valid === 'unknown'
        ? ` (${r.unknownReason})`
        : r.valid === false
          ? ` ${r.violations} violations`
          : '';
    console.log(`${String(r.valid).padEnd(7)} ${r.name}: checked ${r.checked}${why}`);
    for (const e of r.valid === false ? r.examples : []) console.log(`          ${JSON.stringify(e)}`);
  }
  const { verdict, reason } = decideVerdict([], out.invariants);
  console.log(`${verdict}: ${reason}`);
  const json = str(args, 'json');
  if (json) writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
  return exitCodeFor(verdict);
}

/** The endpoints of an external target file (the checker needs no process control). */
function externalEndpoints(text: string): ServiceEndpoints {
  let file: string;
  try {
    const ref = parseTargetRef(text);
    if (ref.provider !== 'external' || !ref.file)
      throw new Error(
        `--target ${text}: check reads a running deployment: external:<file> (or --stack for a native stack)`,
      );
    file = ref.file;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!existsSync(file)) throw new UsageError(`--target ${text}: no such file`);
  const t = readTargetFile(file);
  return {
    databaseUrl: t.postgres.url,
    kafkaBrokers: t.kafka.brokers,
    redisUrl: t.redis.url,
    toxiproxyUrl: t.toxiproxy?.url ?? '',
    direct: {
      databaseUrl: t.postgres.direct ?? t.postgres.url,
      kafkaBrokers: t.kafka.direct ?? t.kafka.brokers,
      redisUrl: t.redis.direct ?? t.redis.url,
    },
    runDir: '',
  };
}

if (import.meta.main) await runCommand(checkCommand, main);
