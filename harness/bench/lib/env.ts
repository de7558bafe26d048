// A fresh stack and system for one benchmark run, the seed data (courses, trainers with room for
// every allocation), and the process monitor watching every process of the run.
import { join } from 'node:path';
import { ProcessMonitor, type Watched } from '../../lib/procmon.ts';
import { sleep } from '../../lib/wait-for.ts';
import { guardianPid } from '../../stack/process.ts';
import { type Stack, startStack, stopOnSignals } from '../../stack/stack.ts';
import { type RunningSystem, startSystem } from '../../system/launcher.ts';
import { seed } from '../../system/seed.ts';
import { BacklogProbe } from './backlog.ts';

export interface BenchEnv {
  readonly stack: Stack;
  readonly sys: RunningSystem;
  readonly courseIds: readonly string[];
  readonly monitor: ProcessMonitor;
  /** Seconds from the start of the stack to a ready system. */
  readonly startS: number;
  stop(): Promise<void>;
}

/** The monitor's label for this process: it runs the load generator (engine, autocannon). */
export const generatorName = 'bench (load generator)';

export async function startBenchEnv(
  cores: number,
  log: (l: string) => void,
  opts: {
    readonly nodeOptions?: string;
    /** Extra environment for every system process (e.g. MALLOC_ARENA_MAX=2): an experiment. */
    readonly env?: Readonly<Record<string, string>>;
    /**
     * The system talks to PostgreSQL, Kafka and Redis directly instead of through Toxiproxy, as
     * `npm run load` deploys it (no fault to inject); false shows what the proxy hop costs.
     */
    readonly direct?: boolean;
  } = {},
): Promise<BenchEnv> {
  const t0 = performance.now();
  log('[bench] starting the stack (free ports)...');
  const stack = await startStack({ ports: 'free' });
  let sys: RunningSystem | undefined;
  let monitor: ProcessMonitor | undefined;
  const stop = async () => {
    monitor?.stop();
    await sys?.stop().catch((e: Error) => log(`[bench] system stop: ${e.message}`));
    await stack.stop();
  };
  const removeHandlers = stopOnSignals(stop, log);
  try {
    log('[bench] starting the system (api, relay, 4 workers)...');
    const e = stack.endpoints;
    // The per-event and per-request log lines (npm run trace's) are off: a benchmark measures the
    // pipeline, not its logging.
    const env: Record<string, string> = { EVENT_LOG_LEVEL: 'debug', ...opts.env };
    // An experiment's extra Node flags (e.g. --max-semi-space-size=8) for every system process.
    if (opts.nodeOptions) env.NODE_OPTIONS = `--disable-warning=TimeoutNegativeWarning ${opts.nodeOptions}`;
    sys = await startSystem({
      endpoints: opts.direct
        ? {
            ...e,
            databaseUrl: e.direct.databaseUrl,
            kafkaBrokers: e.direct.kafkaBrokers,
            redisUrl: e.direct.redisUrl,
          }
        : e,
      runDir: join(stack.endpoints.runDir, 'system'),
      apiPort: 'free',
      env,
    });
    const { courses } = await seed(stack.endpoints.direct.databaseUrl, {
      students: 0,
      courses: 5,
      trainers: 100,
      trainerCapacity: 1_000_000,
      sessionCount: 30,
    });
    const running = sys;
    const watched = (): Watched[] => {
      const out: Watched[] = running.processes
        .filter((p) => p.proc.running)
        .map((p) => ({ name: p.name.replace(/#\d+$/, ''), pid: p.proc.pid }));
      for (const [name, pid] of Object.entries(stack.pids()))
        out.push({
          name,
          pid,
          tree: true,
          threads: name === 'kafka' || name === 'toxiproxy' ? 'all' : 'main',
        });
      const g = guardianPid();
      if (g !== undefined) out.push({ name: 'guardian', pid: g });
      out.push({ name: generatorName, pid: process.pid, selfOnly: true });
      return out;
    };
    monitor = new ProcessMonitor(watched, cores);
    monitor.start();
    const startS = (performance.now() - t0) / 1_000;
    log(`[bench] ready in ${startS.toFixed(1)} s; api ${sys.apiUrl}; logs in ${stack.endpoints.runDir}`);
    return {
      stack,
      sys,
      courseIds: courses,
      monitor,
      startS,
      stop: async () => {
        removeHandlers();
        await stop();
      },
    };
  } catch (err) {
    removeHandlers();
    await stop();
    throw err;
  }
}

/**
 * Waits until the pipeline has converged: no unpublished outbox row and every consumer group at
 * the high watermark, in consecutive reads spanning `stableMs`. Cheaper than the checker's wait
 * (which counts seven tables every poll: at 4 polls a second over a few hundred thousand rows, a
 * real share of 2 cores, which would be charged to the pipeline being measured). A worker commits
 * its outbox rows before its Kafka offsets and the relay marks rows published after Kafka has
 * them, so pending work always shows in one of the two; the stable window covers the reads not
 * being one atomic snapshot. `drainedMs`: when the first read of that stable window came.
 */
export async function converge(
  env: BenchEnv,
  timeoutS: number,
  stableMs = 1_000,
): Promise<{ converged: boolean; waitedMs: number; drainedMs: number | null; lastError?: string }> {
  const probe = new BacklogProbe(
    env.stack.endpoints.direct.databaseUrl,
    env.stack.endpoints.direct.kafkaBrokers,
  );
  const t0 = performance.now();
  let since: number | undefined;
  let reads = 0;
  let lastError: string | undefined;
  try {
    while (performance.now() - t0 < timeoutS * 1_000) {
      try {
        const s = await probe.read(t0);
        const now = performance.now();
        if (s.total === 0) {
          since ??= now;
          reads++;
          if (now - since >= stableMs && reads >= 3)
            return { converged: true, waitedMs: Math.round(now - t0), drainedMs: Math.round(since - t0) };
        } else {
          since = undefined;
          reads = 0;
        }
      } catch (err) {
        lastError = (err as Error).message;
        since = undefined;
        reads = 0;
      }
      await sleep(250);
    }
    return {
      converged: false,
      waitedMs: Math.round(performance.now() - t0),
      drainedMs: null,
      ...(lastError ? { lastError } : {}),
    };
  } finally {
    await probe.close();
  }
}
