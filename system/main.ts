// The one entry point of the system: `node system/main.ts <command>`.
//
//   node system/main.ts api | relay | purchase | allocation | session | cache   one process
//   node system/main.ts provision                 migrations + topics + dead-letter topics, then exit
//   node system/main.ts supervise [kind[=N] ...]  every process (or those named) as children,
//                                                 restarted when they crash
//
// Configuration is the environment (system/lib/config.ts: DATABASE_URL, KAFKA_BROKERS, REDIS_URL,
// PORT, METRICS_PORT, ...). The process list is data (system/contracts/processes.ts).
import { flushCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { isProcessKind, processKinds, processSpecs } from './contracts/processes.ts';

const usage = `usage: node system/main.ts <${processKinds.join(' | ')} | provision | supervise [kind[=N] ...]>`;
const [command, ...rest] = process.argv.slice(2);

if (command === 'provision') {
  await import('./provision/main.ts');
} else if (command === 'supervise') {
  const { supervise } = await import('./supervise.ts');
  try {
    await supervise(rest);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(64);
  }
} else if (command && isProcessKind(command) && rest.length === 0) {
  // After each full collection V8 lets the old generation grow to a multiple of what survived, up
  // to 4x on a machine with much memory: the API held an 87 MiB old generation with 43 MiB live
  // under 1000 users. HEAP_GROWING_PERCENT (e.g. 30) caps that growth; 0, the default, leaves V8's
  // own heuristics: at 30, users-1000's confirm p99 was 186-225 ms in four runs against 62-119 ms
  // at 0 (more full collections in the API; docs/benchmarks.md, session 8). Not allowed in
  // NODE_OPTIONS, so set here, before the process's modules load.
  const growth = heapGrowingPercent(process.env.HEAP_GROWING_PERCENT);
  if (growth > 0) setFlagsFromString(`--heap-growing-percent=${growth}`);
  await import(`./${processSpecs[command].module}`);
  // Started: write Node's compile cache now (NODE_COMPILE_CACHE, when set) rather than at exit, so
  // that the next start of any process reads its modules' stripped source from the cache and does
  // not load the TypeScript stripper (~17 MiB resident) at all, even after a crash or a kill.
  flushCompileCache();
} else {
  process.stderr.write(
    `${command === undefined || command === '--help' ? '' : `unknown command '${command}'\n`}${usage}\n`,
  );
  process.exit(command === '--help' ? 0 : 64);
}

/** HEAP_GROWING_PERCENT: an integer 0..400, default 0 (V8's heuristics). */
function heapGrowingPercent(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 400) {
    process.stderr.write(`HEAP_GROWING_PERCENT=${raw}: expected an integer in [0, 400]\n`);
    process.exit(64);
  }
  return n;
}
