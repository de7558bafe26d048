// The checker from a shell, against a stack that is up (the stack.json that `npm run stack` or a
// run folder holds): waits for convergence, checks every invariant, prints one line per invariant
// and the result as JSON, exits 0 PASS / 1 FAIL / 2 UNKNOWN.
//   node harness/checker/main.ts --stack .runs/<run>/stack.json [--history history.jsonl]
//        [--database-url postgres://...] [--timeout-ms 60000] [--no-converge] [--only a,b] [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decideVerdict, exitCodeFor } from '../run/result.ts';
import type { Endpoints } from '../stack/stack.ts';
import { runChecker } from './run-checker.ts';

const { values } = parseArgs({
  options: {
    stack: { type: 'string' },
    history: { type: 'string' },
    'database-url': { type: 'string' },
    'timeout-ms': { type: 'string', default: '60000' },
    'no-converge': { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
if (!values.stack) {
  console.error('usage: node harness/checker/main.ts --stack <stack.json> [--history <history.jsonl>] ...');
  process.exit(2);
}
const { endpoints } = JSON.parse(readFileSync(values.stack, 'utf8')) as { endpoints: Endpoints };
const out = await runChecker({
  endpoints,
  ...(values.history ? { historyPath: values.history } : {}),
  ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
  convergence: values['no-converge'] ? false : { timeoutMs: Number(values['timeout-ms']) },
  ...(values.only ? { only: values.only.split(',') } : {}),
});
for (const r of out.invariants) {
  const why =
    r.valid === 'unknown' ? ` (${r.unknownReason})` : r.valid === false ? ` ${r.violations} violations` : '';
  console.log(`${String(r.valid).padEnd(7)} ${r.name}: checked ${r.checked}${why}`);
  for (const e of r.valid === false ? r.examples : []) console.log(`          ${JSON.stringify(e)}`);
}
const { verdict, reason } = decideVerdict([], out.invariants);
console.log(`${verdict}: ${reason}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
process.exit(exitCodeFor(verdict));
