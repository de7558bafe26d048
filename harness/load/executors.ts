// The four k6 executors, independent of what an iteration does. Closed models (constant-vus,
// per-vu-iterations) loop VUs; open models (the arrival-rate executors) start iteration i at its
// scheduled time from ArrivalSchedule, catching up after a stall instead of skipping, and drop (and
// count) an iteration only when every allowed VU is busy. Every loop here ends by itself: scheduling
// stops at the duration, in-flight iterations get gracefulStop, then their signal aborts them.
import type { ResolvedScenario } from './profile.ts';
import { ArrivalSchedule } from './schedule.ts';

export interface IterationContext {
  /** 1-based VU number: the history's `process`. */
  readonly vu: number;
  /** 0-based iteration number across the scenario. */
  readonly iteration: number;
  /** When the iteration was due, ms since the executor started; closed models: when it started. */
  readonly scheduledAtMs: number;
  /** Aborted when gracefulStop ends: open requests must give up (and be recorded `info`). */
  readonly signal: AbortSignal;
}

export type IterationFn = (ctx: IterationContext) => Promise<void>;

export interface ExecutorHooks {
  /** ms since the executor started; performance.now() based unless a test injects its own. */
  readonly now: () => number;
  readonly onIterationStart?: (ctx: IterationContext, startLagMs: number) => void;
  readonly onIterationEnd?: (ctx: IterationContext, durationMs: number, interrupted: boolean) => void;
  readonly onIterationError?: (ctx: IterationContext, err: unknown) => void;
  readonly onDropped?: (scheduledAtMs: number) => void;
  /** Stops scheduling new iterations (in-flight ones still get gracefulStop): abortOnFail, Ctrl-C. */
  readonly stop?: AbortSignal;
}

export interface ExecutorStatus {
  started: number;
  completed: number;
  interrupted: number;
  dropped: number;
  errors: number;
  /** VUs busy right now. */
  activeVus: number;
  /** VUs ever allocated (k6's vus_max). */
  allocatedVus: number;
  maxActiveVus: number;
}

export interface ExecutorRun {
  readonly status: Readonly<ExecutorStatus>;
  /** Iterations the plan intended to start (arrival-rate and per-vu-iterations); null for constant-vus. */
  readonly expected: number | null;
  readonly done: Promise<Readonly<ExecutorStatus> & { readonly endedAtMs: number }>;
}

function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Starts the executor; `done` resolves after every iteration has finished or been interrupted. */
export function runExecutor(
  scenario: ResolvedScenario,
  iterate: IterationFn,
  hooks: ExecutorHooks,
): ExecutorRun {
  const now = hooks.now;
  const kill = new AbortController();
  const stopScheduling = new AbortController();
  const status: ExecutorStatus = {
    started: 0,
    completed: 0,
    interrupted: 0,
    dropped: 0,
    errors: 0,
    activeVus: 0,
    allocatedVus: 0,
    maxActiveVus: 0,
  };
  const inFlight = new Set<Promise<void>>();
  if (hooks.stop) {
    if (hooks.stop.aborted) stopScheduling.abort();
    else hooks.stop.addEventListener('abort', () => stopScheduling.abort(), { once: true });
  }

  const runOne = async (vu: number, iteration: number, scheduledAtMs: number): Promise<void> => {
    const ctx: IterationContext = { vu, iteration, scheduledAtMs, signal: kill.signal };
    status.started++;
    status.activeVus++;
    if (status.activeVus > status.maxActiveVus) status.maxActiveVus = status.activeVus;
    const startedAt = now();
    hooks.onIterationStart?.(ctx, Math.max(0, startedAt - scheduledAtMs));
    try {
      await iterate(ctx);
    } catch (err) {
      status.errors++;
      hooks.onIterationError?.(ctx, err);
    } finally {
      status.activeVus--;
      const interrupted = kill.signal.aborted;
      if (interrupted) status.interrupted++;
      else status.completed++;
      hooks.onIterationEnd?.(ctx, now() - scheduledAtMs, interrupted);
    }
  };

  const track = (p: Promise<void>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };

  let expected: number | null = null;
  let scheduling: Promise<void>;
  let schedulingEndMs: number;

  switch (scenario.executor) {
    case 'constant-vus': {
      schedulingEndMs = scenario.durationMs;
      status.allocatedVus = scenario.vus;
      let next = 0;
      const spread = Math.min(scenario.startSpreadMs, scenario.durationMs);
      const loop = async (vu: number) => {
        await sleepUntil((spread * (vu - 1)) / scenario.vus - now(), stopScheduling.signal);
        while (!stopScheduling.signal.aborted && now() < schedulingEndMs) {
          const p = runOne(vu, next++, now());
          track(p);
          await p;
        }
      };
      const loops = Array.from({ length: scenario.vus }, (_, i) => loop(i + 1));
      const timer = sleepUntil(schedulingEndMs - now(), stopScheduling.signal).then(() =>
        stopScheduling.abort(),
      );
      scheduling = Promise.race([Promise.all(loops), timer]).then(() => undefined);
      break;
    }
    case 'per-vu-iterations': {
      schedulingEndMs = scenario.maxDurationMs;
      status.allocatedVus = scenario.vus;
      expected = scenario.vus * scenario.iterations;
      let next = 0;
      const loop = async (vu: number) => {
        for (let i = 0; i < scenario.iterations; i++) {
          if (stopScheduling.signal.aborted || now() >= schedulingEndMs) return;
          const p = runOne(vu, next++, now());
          track(p);
          await p;
        }
      };
      const loops = Promise.all(Array.from({ length: scenario.vus }, (_, i) => loop(i + 1)));
      const timer = sleepUntil(schedulingEndMs - now(), stopScheduling.signal).then(() =>
        stopScheduling.abort(),
      );
      // Ends when every VU has finished its iterations, or at maxDuration, whichever is first.
      scheduling = Promise.race([loops, timer]).then(() => {
        stopScheduling.abort();
      });
      break;
    }
    default: {
      const schedule = new ArrivalSchedule(scenario.arrivals);
      expected = schedule.expectedCount;
      schedulingEndMs = schedule.durationMs;
      const free: number[] = [];
      for (let v = scenario.preAllocatedVUs; v >= 1; v--) free.push(v);
      status.allocatedVus = scenario.preAllocatedVUs;
      const maxVUs = scenario.maxVUs;
      let next = 0;
      scheduling = new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        stopScheduling.signal.addEventListener('abort', finish, { once: true });
        const tick = () => {
          if (stopScheduling.signal.aborted) return finish();
          const t = now();
          // Start everything that is due, each with its own scheduled time: after a stall the
          // backlog starts at once and its lateness shows in iteration_start_lag, never hidden.
          for (;;) {
            const due = schedule.timeOf(next);
            if (due === undefined) {
              stopScheduling.abort();
              return;
            }
            if (due > t) {
              timer = setTimeout(tick, Math.min(50, Math.max(0, Math.floor(due - t))));
              return;
            }
            const iteration = next++;
            let vu = free.pop();
            if (vu === undefined && status.allocatedVus < maxVUs) vu = ++status.allocatedVus;
            if (vu === undefined) {
              status.dropped++;
              hooks.onDropped?.(due);
              continue;
            }
            const v = vu;
            const p = runOne(v, iteration, due).finally(() => free.push(v));
            track(p);
          }
        };
        tick();
      });
    }
  }

  const done = (async () => {
    await scheduling;
    const graceDeadline = Math.max(now(), schedulingEndMs) + scenario.gracefulStopMs;
    if (inFlight.size > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]).then(() => undefined),
        new Promise<void>((r) => {
          graceTimer = setTimeout(r, Math.max(0, graceDeadline - now()));
        }),
      ]);
      clearTimeout(graceTimer);
    }
    if (inFlight.size > 0) {
      kill.abort();
      // Aborted requests settle at once; the bound only guards against an iteration that ignores its signal.
      let killTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]).then(() => undefined),
        new Promise<void>((r) => {
          killTimer = setTimeout(r, 5_000);
        }),
      ]);
      clearTimeout(killTimer);
    }
    kill.abort();
    return { ...status, endedAtMs: now() };
  })();

  return { status, expected, done };
}
