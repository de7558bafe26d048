// k6 parity: the shared-iterations and ramping-vus executors (with gracefulRampDown), the `stages`
// shortcut, several scenarios in one profile with startTime, and the profile schema that refuses
// unknown keys by name.
import { describe, expect, it } from 'vitest';
import { type IterationContext, runExecutor, runScenarios, VuRamp } from '../../harness/load/executors.ts';
import {
  applyOverrides,
  type LoadProfile,
  resolveScenario,
  validateProfile,
} from '../../harness/load/profile.ts';
import { profileSchemaErrors } from '../../harness/load/profile-schema.ts';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      r();
    });
  });

const base: LoadProfile = {
  name: 'p',
  description: 'test',
  scenario: { executor: 'constant-vus', vus: 1, duration: '1s' },
  thresholds: {},
};

describe('shared-iterations', () => {
  it('runs exactly `iterations` in all, shared by the VUs as they free up', async () => {
    const seen: IterationContext[] = [];
    const clock0 = performance.now();
    const run = runExecutor(
      resolveScenario({ executor: 'shared-iterations', vus: 3, iterations: 10, maxDuration: '5s' }),
      async (ctx) => {
        seen.push(ctx);
        await sleep(ctx.vu === 1 ? 5 : 20);
      },
      { now: () => performance.now() - clock0 },
    );
    expect(run.expected).toBe(10);
    const end = await run.done;
    expect(end.completed).toBe(10);
    expect(seen.map((c) => c.iteration).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The fast VU took more of the pool than the slow ones: iterations are shared, not split evenly.
    const byVu = (v: number) => seen.filter((c) => c.vu === v).length;
    expect(byVu(1)).toBeGreaterThan(byVu(2));
    expect(new Set(seen.map((c) => c.vu))).toEqual(new Set([1, 2, 3]));
  });
});

describe('ramping-vus', () => {
  it('the ramp: linear targets, when each VU comes up and goes down', () => {
    const r = new VuRamp(0, [
      { target: 10, durationMs: 1000 },
      { target: 10, durationMs: 1000 },
      { target: 0, durationMs: 1000 },
    ]);
    expect(r.durationMs).toBe(3000);
    expect([0, 500, 1000, 1500, 2500, 3000].map((t) => r.target(t))).toEqual([0, 5, 10, 10, 5, 0]);
    expect(r.activeFrom(5, 0)).toBe(500);
    expect(r.activeFrom(1, 0)).toBe(100);
    expect(r.activeFrom(10, 1200)).toBe(1200);
    expect(r.inactiveFrom(10, 1200)).toBe(2001);
    expect(r.inactiveFrom(5, 0)).toBe(0);
    expect(r.inactiveFrom(5, 600)).toBe(2501);
    expect(r.activeFrom(11, 0)).toBeUndefined();
  });

  it('brings VUs up and down with the stages; no more VUs busy than the peak', async () => {
    const clock0 = performance.now();
    const active: number[] = [];
    const run = runExecutor(
      resolveScenario({
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { target: 4, duration: '200ms' },
          { target: 4, duration: '200ms' },
          { target: 0, duration: '200ms' },
        ],
      }),
      async () => {
        await sleep(10);
      },
      { now: () => performance.now() - clock0 },
    );
    const probe = setInterval(() => active.push(run.status.activeVus), 5);
    const end = await run.done;
    clearInterval(probe);
    expect(run.expected).toBeNull();
    expect(end.allocatedVus).toBe(4);
    expect(end.maxActiveVus).toBeLessThanOrEqual(4);
    expect(Math.max(...active)).toBe(4);
    expect(end.completed).toBeGreaterThan(20);
    expect(end.interrupted).toBe(0);
    expect(end.endedAtMs).toBeGreaterThanOrEqual(450);
  });

  it('an iteration still running when its VU is ramped down gets gracefulRampDown, then is interrupted', async () => {
    const clock0 = performance.now();
    const outcomes: string[] = [];
    const run = runExecutor(
      resolveScenario({
        executor: 'ramping-vus',
        startVUs: 2,
        stages: [
          { target: 2, duration: '50ms' },
          { target: 1, duration: '10ms' },
          { target: 1, duration: '2s' },
        ],
        gracefulRampDown: '100ms',
        gracefulStop: '0s',
      }),
      async (ctx) => {
        if (ctx.vu !== 2) return void (await sleep(20, ctx.signal));
        // VU 2 starts one long iteration; the ramp drops it at ~60 ms, its grace ends at ~160 ms.
        await sleep(1_500, ctx.signal);
        outcomes.push(
          ctx.signal.aborted ? `interrupted at ${Math.round(performance.now() - clock0)}` : 'finished',
        );
      },
      { now: () => performance.now() - clock0 },
    );
    const end = await run.done;
    expect(outcomes).toHaveLength(1);
    const at = Number(outcomes[0]!.replace('interrupted at ', ''));
    expect(at).toBeGreaterThanOrEqual(140);
    expect(at).toBeLessThan(1_000);
    expect(end.interrupted).toBeGreaterThanOrEqual(1);
  });
});

describe('several scenarios with startTime', () => {
  it('start each scenario at its startTime, with unique VU and iteration numbers on one clock', async () => {
    const clock0 = performance.now();
    const seen: { name: string; ctx: IterationContext }[] = [];
    const { scenarios } = validateProfile({
      ...base,
      scenario: undefined,
      scenarios: {
        first: { executor: 'per-vu-iterations', vus: 2, iterations: 2 },
        later: { executor: 'shared-iterations', vus: 3, iterations: 3, startTime: '150ms' },
      },
    });
    const run = runScenarios(
      scenarios.map((x) => ({
        ...x,
        iterate: async (ctx: IterationContext) => {
          seen.push({ name: x.name, ctx });
          await sleep(5);
        },
      })),
      { now: () => performance.now() - clock0 },
    );
    expect(run.expected).toBe(7);
    const end = await run.done;
    expect(end.completed).toBe(7);
    expect(seen.map((s) => s.ctx.iteration).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const later = seen.filter((s) => s.name === 'later');
    expect(later).toHaveLength(3);
    expect(Math.min(...later.map((s) => s.ctx.scheduledAtMs))).toBeGreaterThanOrEqual(150);
    // The second scenario's VUs come after the first's.
    expect(new Set(later.map((s) => s.ctx.vu))).toEqual(new Set([3, 4, 5]));
    expect(new Set(seen.filter((s) => s.name === 'first').map((s) => s.ctx.vu))).toEqual(new Set([1, 2]));
  });

  it('validateProfile resolves names, start times and per-scenario workloads over the profile workload', () => {
    const v = validateProfile({
      ...base,
      scenario: undefined,
      workload: { thinkTime: '1s', doubleConfirm: 0.1 },
      scenarios: {
        steady: { executor: 'constant-vus', vus: 10, duration: '30s' },
        spike: {
          executor: 'per-vu-iterations',
          vus: 100,
          startTime: '10s',
          workload: { doubleConfirm: 0.5, thinkTime: '0s' },
        },
      },
    });
    expect(v.scenarios.map((x) => [x.name, x.startTimeMs, x.scenario.executor])).toEqual([
      ['steady', 0, 'constant-vus'],
      ['spike', 10_000, 'per-vu-iterations'],
    ]);
    expect(v.scenarios[1]!.workload).toMatchObject({ doubleConfirm: 0.5, thinkTimeMs: 0 });
    expect(v.scenarios[0]!.workload).toMatchObject({ doubleConfirm: 0.1, thinkTimeMs: 1_000 });
    expect(v.connections).toBe(110);
  });
});

describe('the stages shortcut', () => {
  it('is a ramping-vus scenario starting at `vus`, and --duration / --vus rescale it', () => {
    const p: LoadProfile = {
      ...base,
      scenario: undefined,
      vus: 5,
      stages: [
        { target: 20, duration: '10s' },
        { target: 0, duration: '10s' },
      ],
    };
    const v = validateProfile(p);
    expect(v.scenario).toMatchObject({ executor: 'ramping-vus', startVUs: 5, gracefulRampDownMs: 30_000 });
    const o = applyOverrides(p, { duration: '10s', vus: 40 });
    expect(o.scenario).toEqual({
      executor: 'ramping-vus',
      startVUs: 10,
      stages: [
        { target: 40, duration: '5000ms' },
        { target: 0, duration: '5000ms' },
      ],
    });
  });
});

describe('profile schema', () => {
  const errors = (p: Record<string, unknown>) => profileSchemaErrors({ ...base, ...p });

  it('accepts every profile shape', () => {
    expect(errors({})).toEqual([]);
    expect(errors({ scenario: undefined, stages: [{ target: 1, duration: '1s' }] })).toEqual([]);
  });

  it('refuses unknown keys by name, with what to do instead', () => {
    expect(
      errors({ scenario: { executor: 'constant-vus', vus: 5, duration: '10s', gracefulRampDown: '5s' } }),
    ).toEqual(['profile p: scenario.gracefulRampDown: unknown option (only ramping-vus ramps VUs down)']);
    expect(errors({ httpDebug: 'full' })).toEqual(['profile p: httpDebug: unknown option']);
    expect(
      errors({
        scenario: undefined,
        scenarios: { a: { executor: 'shared-iterations', vus: 1, iterations: 1, exec: 'other' } },
      }),
    ).toEqual([
      'profile p: scenarios.a.exec: unknown option (payproof has one workload; give a scenario its own `workload` knobs instead)',
    ]);
    expect(errors({ workload: { thinktime: '1s' } })).toEqual([
      'profile p: workload.thinktime: unknown option',
    ]);
    expect(errors({ thresholds: { checks: [{ threshold: 'rate>0.9', abortOnFial: true }] } })).toEqual([
      'profile p: thresholds.checks[0].abortOnFial: unknown option',
    ]);
  });

  it('refuses two ways of giving the scenario, and an unknown executor', () => {
    expect(errors({ stages: [{ target: 1, duration: '1s' }] })).toEqual([
      'profile p: give exactly one of scenario, scenarios, stages (found scenario, stages)',
    ]);
    expect(errors({ scenario: { executor: 'externally-controlled' } })[0]).toMatch(
      /^profile p: scenario.executor must be one of constant-vus, ramping-vus, per-vu-iterations, shared-iterations/,
    );
  });

  it('validateProfile throws the first schema error, and how many more there were', () => {
    expect(() =>
      validateProfile({ ...base, http: { timeout: '1s', retries: 3 }, extra: 1 } as unknown as LoadProfile),
    ).toThrow(/^profile p: extra: unknown option \(and 1 more: profile p: http.retries: unknown option\)$/);
  });
});
