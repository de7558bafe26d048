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
  // to 4x on a machine with much memory: at the end of a bench the API's heap held 77-97 MiB, of
  // which ~25 MiB was live (a heap snapshot). HEAP_GROWING_PERCENT caps that growth at 1 + N/100 of
  // what survived. The default, 30, keeps every process under issue 11's 150 MiB in the quick bench
  // (peaks 107-137 MiB against 139-208 at 0, V8's own heuristics) for ~13% more of the system's CPU
  // per payment, and users-1000's confirm p95 was 14.9-33.6 ms against 14.4-18.0 ms
  // (docs/benchmarks.md, eleventh round). Not allowed in NODE_OPTIONS, so set here, before the
  // process's modules load.
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

/** HEAP_GROWING_PERCENT: an integer 0..400, default 30; 0 leaves V8's own heuristics. */
function heapGrowingPercent(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 30;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 400) {
    process.stderr.write(`HEAP_GROWING_PERCENT=${raw}: expected an integer in [0, 400]\n`);
    process.exit(64);
  }
  return n;
}
