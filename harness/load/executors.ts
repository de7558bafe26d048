// Six k6 executors, independent of what an iteration does. Closed models (constant-vus,
// ramping-vus, per-vu-iterations, shared-iterations) loop VUs; open models (the arrival-rate executors) start iteration i at its
// scheduled time from ArrivalSchedule, catching up after a stall instead of skipping, and drop (and
// count) an iteration only when every allowed VU is busy. Every loop here ends by itself: scheduling
// stops at the duration, in-flight iterations get gracefulStop, then their signal aborts them.
import { maxVusOf, type ResolvedScenario } from './profile.ts';
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

  const runOne = async (
    vu: number,
    iteration: number,
    scheduledAtMs: number,
    signal: AbortSignal = kill.signal,
  ): Promise<void> => {
    const ctx: IterationContext = { vu, iteration, scheduledAtMs, signal };
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
      const interrupted = signal.aborted;
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
    case 'shared-iterations': {
      schedulingEndMs = scenario.maxDurationMs;
      status.allocatedVus = scenario.vus;
      expected = scenario.iterations;
      let next = 0;
      // Each VU takes the next iteration of the shared pool as soon as it is free.
      const loop = async (vu: number) => {
        while (!stopScheduling.signal.aborted && now() < schedulingEndMs && next < scenario.iterations) {
          const p = runOne(vu, next++, now());
          track(p);
          await p;
        }
      };
      const loops = Promise.all(Array.from({ length: scenario.vus }, (_, i) => loop(i + 1)));
      const timer = sleepUntil(schedulingEndMs - now(), stopScheduling.signal).then(() =>
        stopScheduling.abort(),
      );
      scheduling = Promise.race([loops, timer]).then(() => {
        stopScheduling.abort();
      });
      break;
    }
    case 'ramping-vus': {
      const ramp = new VuRamp(scenario.startVUs, scenario.stages);
      schedulingEndMs = ramp.durationMs;
      status.allocatedVus = maxVusOf(scenario);
      let next = 0;
      // VU v runs while the ramp's target is at least v. Ramped down in the middle of an
      // iteration, it gets gracefulRampDown to finish, then that iteration alone is interrupted.
      const loop = async (vu: number) => {
        while (!stopScheduling.signal.aborted && now() < schedulingEndMs) {
          const upAt = ramp.activeFrom(vu, now());
          if (upAt === undefined) return;
          if (upAt > now()) {
            await sleepUntil(upAt - now(), stopScheduling.signal);
            continue;
          }
          const own = new AbortController();
          const downAt = ramp.inactiveFrom(vu, now());
          const timer =
            downAt === undefined
              ? undefined
              : setTimeout(() => own.abort(), Math.max(0, downAt - now()) + scenario.gracefulRampDownMs);
          const p = runOne(vu, next++, now(), AbortSignal.any([kill.signal, own.signal]));
          track(p);
          await p;
          clearTimeout(timer);
        }
      };
      const loops = Array.from({ length: status.allocatedVus }, (_, i) => loop(i + 1));
      const timer = sleepUntil(schedulingEndMs - now(), stopScheduling.signal).then(() =>
        stopScheduling.abort(),
      );
      scheduling = Promise.race([Promise.all(loops), timer]).then(() => undefined);
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

/** ramping-vus' target: linear from stage to stage, starting at startVUs; VU v is active while target >= v. */
export class VuRamp {
  readonly durationMs: number;
  readonly #points: { readonly t: number; readonly v: number }[];

  constructor(startVUs: number, stages: readonly { readonly target: number; readonly durationMs: number }[]) {
    this.#points = [{ t: 0, v: startVUs }];
    let t = 0;
    for (const st of stages) {
      t += st.durationMs;
      this.#points.push({ t, v: st.target });
    }
    this.durationMs = t;
  }

  /** The target at `t` ms (the last stage's target after the end). */
  target(t: number): number {
    const p = this.#points;
    for (let i = 1; i < p.length; i++) {
      const a = p[i - 1]!;
      const b = p[i]!;
      if (t <= b.t) return b.t === a.t ? b.v : a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);
    }
    return p[p.length - 1]!.v;
  }

  /** The first time >= from at which VU `vu` is active (target >= vu), or undefined if never again. */
  activeFrom(vu: number, from: number): number | undefined {
    return this.#first(from, (v) => v >= vu, vu);
  }

  /** The first time >= from at which VU `vu` is no longer active (target < vu), or undefined. */
  inactiveFrom(vu: number, from: number): number | undefined {
    return this.#first(from, (v) => v < vu, vu);
  }

  #first(from: number, ok: (v: number) => boolean, vu: number): number | undefined {
    if (from >= this.durationMs) return undefined;
    if (ok(this.target(from))) return from;
    const p = this.#points;
    for (let i = 1; i < p.length; i++) {
      const a = p[i - 1]!;
      const b = p[i]!;
      if (b.t <= from) continue;
      const t0 = Math.max(a.t, from);
      if (!ok(b.v) && !ok(this.target(t0))) continue;
      // The crossing of `vu` within this linear piece (the value moves monotonically here).
      const t = b.v === a.v ? t0 : a.t + ((vu - a.v) * (b.t - a.t)) / (b.v - a.v);
      const at = Math.min(b.t, Math.max(t0, t));
      // `inactive` means strictly below: step just past the crossing.
      return ok(this.target(at)) ? at : Math.min(b.t, at + 1);
    }
    return undefined;
  }
}

/** One scenario of several: it starts at startTimeMs on the run clock, with its own iteration function. */
export interface ScheduledScenario {
  readonly name: string;
  readonly startTimeMs: number;
  readonly scenario: ResolvedScenario;
  readonly iterate: IterationFn;
}

/**
 * Runs several scenarios side by side, each from its startTime (k6's `scenarios`). VU numbers
 * and iteration numbers stay unique across scenarios (the history's `process`, the workload's
 * seeded choices and fixture pairs), and times stay on the run's clock.
 */
export function runScenarios(list: readonly ScheduledScenario[], hooks: ExecutorHooks): ExecutorRun {
  if (list.length === 1 && list[0]!.startTimeMs === 0)
    return runExecutor(list[0]!.scenario, list[0]!.iterate, hooks);
  const runs: ExecutorRun[] = [];
  let iteration = 0;
  let vuOffset = 0;
  const starts = list.map((sc) => {
    const offset = vuOffset;
    vuOffset += maxVusOf(sc.scenario);
    const shift = sc.startTimeMs;
    const at = (ms: number) => ms + shift;
    return (async () => {
      const stop = hooks.stop ?? new AbortController().signal;
      // A timer may fire a fraction of a millisecond early on the performance clock: wait it out.
      while (hooks.now() < shift && !stop.aborted) await sleepUntil(shift - hooks.now() + 1, stop);
      if (stop.aborted) return;
      const run = runExecutor(
        sc.scenario,
        (ctx) =>
          sc.iterate({
            ...ctx,
            vu: ctx.vu + offset,
            iteration: iteration++,
            scheduledAtMs: at(ctx.scheduledAtMs),
          }),
        {
          now: () => hooks.now() - shift,
          ...(hooks.stop ? { stop: hooks.stop } : {}),
          onIterationStart: (ctx, lag) =>
            hooks.onIterationStart?.({ ...ctx, scheduledAtMs: at(ctx.scheduledAtMs) }, lag),
          onIterationEnd: (ctx, ms, interrupted) =>
            hooks.onIterationEnd?.({ ...ctx, scheduledAtMs: at(ctx.scheduledAtMs) }, ms, interrupted),
          onIterationError: (ctx, err) =>
            hooks.onIterationError?.({ ...ctx, scheduledAtMs: at(ctx.scheduledAtMs) }, err),
          onDropped: (ms) => hooks.onDropped?.(at(ms)),
        },
      );
      runs.push(run);
      const end = await run.done;
      return { ...end, endedAtMs: at(end.endedAtMs) };
    })();
  });
  const sum = (k: keyof ExecutorStatus) => runs.reduce((a, r) => a + r.status[k], 0);
  const status = {
    get started() {
      return sum('started');
    },
    get completed() {
      return sum('completed');
    },
    get interrupted() {
      return sum('interrupted');
    },
    get dropped() {
      return sum('dropped');
    },
    get errors() {
      return sum('errors');
    },
    get activeVus() {
      return sum('activeVus');
    },
    get allocatedVus() {
      return sum('allocatedVus');
    },
    get maxActiveVus() {
      return sum('maxActiveVus');
    },
  } as ExecutorStatus;
  const done = Promise.all(starts).then((ends) => {
    const finished = ends.filter((e) => e !== undefined);
    const total = (k: keyof ExecutorStatus) => finished.reduce((a, e) => a + e[k], 0);
    return {
      started: total('started'),
      completed: total('completed'),
      interrupted: total('interrupted'),
      dropped: total('dropped'),
      errors: total('errors'),
      activeVus: 0,
      allocatedVus: total('allocatedVus'),
      maxActiveVus: total('maxActiveVus'),
      endedAtMs: Math.max(hooks.now(), ...finished.map((e) => e.endedAtMs)),
    };
  });
  // What the plans meant to start; null when any scenario has no fixed count (constant-vus, ramping-vus).
  const expectedOf = (sc: ResolvedScenario): number | null =>
    sc.executor === 'per-vu-iterations'
      ? sc.vus * sc.iterations
      : sc.executor === 'shared-iterations'
        ? sc.iterations
        : sc.executor === 'constant-vus' || sc.executor === 'ramping-vus'
          ? null
          : new ArrivalSchedule(sc.arrivals).expectedCount;
  const each = list.map((sc) => expectedOf(sc.scenario));
  const expected = each.some((e) => e === null) ? null : (each as number[]).reduce((a, b) => a + b, 0);
  return { status, expected, done };
}
