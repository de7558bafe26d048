import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../harness/load/duration.ts';
import { warmupProfile } from '../../harness/load/engine.ts';
import type { LoadProfile } from '../../harness/load/profile.ts';
import {
  applyOverrides,
  estimateIterations,
  resolveScenario,
  validateProfile,
} from '../../harness/load/profile.ts';
import {
  listFloodProfiles,
  listProfiles,
  loadFloodProfile,
  loadProfile,
} from '../../harness/load/profiles.ts';
import { ArrivalSchedule } from '../../harness/load/schedule.ts';

const base: LoadProfile = {
  name: 'p',
  description: '',
  scenario: { executor: 'constant-vus', vus: 10, duration: '30s' },
  thresholds: {},
};

describe('durations read like k6', () => {
  it('parses and formats', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(() => parseDurationMs('30')).toThrow(/not a duration/);
    expect(() => parseDurationMs('30 s', 'scenario.duration')).toThrow(/scenario.duration/);
    expect(() => parseDurationMs('')).toThrow(/expected a duration/);
    expect([formatDurationMs(12.345), formatDurationMs(1_500), formatDurationMs(125_000)]).toEqual([
      '12.35ms',
      '1.5s',
      '2m5s',
    ]);
  });
});

describe('profiles are validated before anything runs', () => {
  it('every profile in scenarios/ loads and validates, the required ones among them', async () => {
    const names = listProfiles();
    for (const n of [
      'default',
      'burst-1000',
      'arrival-500',
      'arrival-1000',
      'ramp',
      'smoke',
      'short',
      'users-1000',
    ])
      expect(names).toContain(n);
    for (const n of names) {
      const p = await loadProfile(n);
      expect(p.name).toBe(n);
      expect(() => validateProfile(p)).not.toThrow();
    }
    const d = await loadProfile('default');
    expect(d.scenario).toMatchObject({ executor: 'constant-vus', vus: 1000, duration: '60s' });
    expect(d.thresholds['http_req_duration{op:confirm}']).toEqual(['p(95)<100', 'p(99)<250']);
    expect(d.thresholds.checks).toEqual(['rate>0.999']);
    expect((await loadProfile('burst-1000')).scenario).toMatchObject({
      executor: 'per-vu-iterations',
      vus: 1000,
      iterations: 1,
    });
    await expect(loadProfile('nope')).rejects.toThrow(/unknown load profile 'nope'; profiles: .*default/);
    await expect(loadProfile('../package')).rejects.toThrow(/unknown load profile/);
    expect(listFloodProfiles()).toContain('duplicates-x3');
    expect(await loadFloodProfile('duplicates-x3')).toMatchObject({ duplication: 3 });
  });

  it('names the offending field in every error', () => {
    const bad = (p: Partial<LoadProfile> & Record<string, unknown>) => () =>
      validateProfile({ ...base, ...p } as LoadProfile);
    expect(bad({ scenario: { executor: 'constant-vus', vus: 0, duration: '1s' } })).toThrow(
      /profile p: scenario.vus: must be >= 1/,
    );
    expect(bad({ scenario: { executor: 'constant-vus', vus: 1, duration: '1' } })).toThrow(
      /scenario.duration/,
    );
    expect(bad({ scenario: { executor: 'shared-iteration' } as never })).toThrow(/executor must be one of/);
    expect(
      bad({
        scenario: {
          executor: 'constant-arrival-rate',
          rate: 10,
          duration: '1s',
          preAllocatedVUs: 10,
          maxVUs: 5,
        },
      }),
    ).toThrow(/maxVUs \(5\) must be >= preAllocatedVUs \(10\)/);
    expect(bad({ scenario: { executor: 'ramping-arrival-rate', stages: [], preAllocatedVUs: 1 } })).toThrow(
      /scenario.stages: must NOT have fewer than 1 items/,
    );
    expect(bad({ workload: { doubleConfirm: 1.5 } })).toThrow(/workload.doubleConfirm: must be <= 1/);
    expect(bad({ workload: { lateProviderEvents: -0.1 } })).toThrow(
      /workload.lateProviderEvents: must be >= 0/,
    );
    expect(bad({ workload: { providerAttempts: 0 } })).toThrow(/workload.providerAttempts: must be >= 1/);
    // Amounts are the server's prices: a profile cannot choose them.
    expect(bad({ workload: { amountCents: { min: 1, max: 10 } } as never })).toThrow(/amountCents/);
    expect(bad({ thresholds: { http_req_duration: ['p95<100'] } })).toThrow(/did you mean p\(95\)/);
    expect(bad({ thresholds: { nope: ['count<1'] } })).toThrow(/unknown metric 'nope'/);
    expect(bad({ phaseThresholds: { midway: {} } as never })).toThrow(
      /phaseThresholds.midway: unknown option/,
    );
    expect(bad({ http: { timeout: 'soon' } })).toThrow(/http.timeout/);
  });

  it("applies k6's defaults", () => {
    expect(
      resolveScenario({
        executor: 'constant-arrival-rate',
        rate: 30,
        timeUnit: '1m',
        duration: '1m',
        preAllocatedVUs: 2,
      }),
    ).toEqual({
      executor: 'constant-arrival-rate',
      arrivals: { startRatePerS: 0.5, stages: [{ targetPerS: 0.5, durationMs: 60_000 }] },
      preAllocatedVUs: 2,
      maxVUs: 2,
      gracefulStopMs: 30_000,
    });
    expect(resolveScenario({ executor: 'per-vu-iterations', vus: 3 })).toMatchObject({
      iterations: 1,
      maxDurationMs: 600_000,
    });
    expect(validateProfile(base)).toMatchObject({ timeoutMs: 10_000, connections: 10 });
  });

  it('overrides duration, VUs and rate the way a command line would', () => {
    const d = applyOverrides(base, { duration: '5s', vus: 3 });
    expect(d.scenario).toMatchObject({ duration: '5s', vus: 3 });
    const ramp: LoadProfile = {
      ...base,
      scenario: {
        executor: 'ramping-arrival-rate',
        startRate: 10,
        stages: [
          { target: 100, duration: '20s' },
          { target: 50, duration: '20s' },
        ],
        preAllocatedVUs: 10,
      },
    };
    const r = resolveScenario(applyOverrides(ramp, { duration: '4s', rate: 200 }).scenario!);
    expect(r.executor === 'ramping-arrival-rate' && r.arrivals).toEqual({
      startRatePerS: 20,
      stages: [
        { targetPerS: 200, durationMs: 2_000 },
        { targetPerS: 100, durationMs: 2_000 },
      ],
    });
    expect(() => applyOverrides(base, { rate: 10 })).toThrow(/arrival-rate/);
  });

  it('estimates iterations to size the fixtures, as an upper bound', () => {
    const w = validateProfile({ ...base, workload: { thinkTime: '1s', thinkJitter: 0.25 } });
    expect(estimateIterations(w.scenario, w.workload)).toBe(10 * Math.ceil(30_000 / 750));
    const a = validateProfile({
      ...base,
      scenario: { executor: 'constant-arrival-rate', rate: 500, duration: '60s', preAllocatedVUs: 1 },
    });
    expect(estimateIterations(a.scenario, a.workload)).toBe(30_000);
    expect(
      new ArrivalSchedule({ startRatePerS: 500, stages: [{ targetPerS: 500, durationMs: 60_000 }] })
        .expectedCount,
    ).toBe(30_000);
  });

  it('a warm-up runs the same users, at most 50 of them at the profile pace (think scaled, at least 100 ms), and judges nothing', async () => {
    expect(warmupProfile(base)).toBeUndefined();
    const users = await loadProfile('users-1000');
    const warm = warmupProfile(users)!;
    expect(warm.scenario).toMatchObject({ executor: 'constant-vus', vus: 50, duration: '5s' });
    // 1000 users thinking 3 s: ~330 iterations/s; 50 thinking 150 ms: the same.
    expect(warm.workload).toEqual({ ...users.workload, thinkTime: '150ms' });
    expect(warm.thresholds).toEqual({});
    const small = warmupProfile({ ...base, warmup: '2s', workload: { thinkTime: '3s' } })!;
    expect(small.scenario).toMatchObject({ vus: 10, duration: '2s' });
    expect(small.workload?.thinkTime).toBe('3000ms');
    expect(warmupProfile({ ...base, warmup: '2s' })!.workload?.thinkTime).toBe('100ms');
    validateProfile(warm);
  });
});
