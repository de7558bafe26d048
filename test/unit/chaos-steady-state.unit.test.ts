// The steady-state hypothesis over per-second samples: the gate before the fault, the breach
// detector during it, and the time to recover after the last heal.
import { describe, expect, it } from 'vitest';
import { standardProbes } from '../../harness/chaos/defaults.ts';
import type { Probe } from '../../harness/chaos/scenario.ts';
import {
  checkSteadyState,
  DuringWatch,
  median,
  probeValue,
  timeToRecover,
  withinSteadyState,
} from '../../harness/chaos/steady-state.ts';

const probes: Probe[] = [
  { name: 'p95', metric: 'confirm_p95_ms', max: 100, during: 300 },
  { name: 'errors', metric: 'error_pct', max: 1 },
  { name: 'lag', metric: 'consumer_lag', max: 50 },
  { name: 'backlog', metric: 'outbox_backlog', max: 20 },
];

/** One healthy sample a second (with jitter in t, as the sampler really produces). */
function healthy(t: number, extra: Record<string, number> = {}) {
  return {
    t: t + 0.013 * (t % 3),
    throughput_rps: 200,
    confirm_p95_ms: 40,
    error_pct: 0,
    'lag_purchase-worker': 3,
    'lag_cache-worker': 5,
    outbox_backlog: 2,
    ...extra,
  };
}

describe('probe values', () => {
  it('consumer lag is the largest group lag; errors count as 0% while the load runs', () => {
    expect(probeValue('consumer_lag', healthy(1))).toBe(5);
    expect(probeValue('error_pct', { t: 1, throughput_rps: 10 })).toBe(0);
    expect(probeValue('error_pct', { t: 1 })).toBeUndefined();
    expect(probeValue('consumer_lag', { t: 1 })).toBeUndefined();
  });

  it('medians', () => {
    expect(median([])).toBeUndefined();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('steady state before the fault', () => {
  it('holds when each probe median is within tolerance, even with one bad second', () => {
    const samples = [1, 2, 3, 4, 5].map((t) => healthy(t, t === 3 ? { confirm_p95_ms: 900 } : {}));
    const c = checkSteadyState(probes, samples, 0, 10, 'before');
    expect(c.every((x) => x.pass)).toBe(true);
    expect(c[0]).toMatchObject({ measured: 40, threshold: '<=100', phase: 'before' });
  });

  it('fails on a sustained deviation, and when a probe was never measured', () => {
    const slow = [1, 2, 3, 4, 5].map((t) => healthy(t, { confirm_p95_ms: 400 }));
    expect(checkSteadyState(probes, slow, 0, 10, 'before')[0]).toMatchObject({ pass: false, measured: 400 });
    const blind = [1, 2, 3].map((t) => ({ t, confirm_p95_ms: 10, error_pct: 0, outbox_backlog: 0 }));
    const lag = checkSteadyState(probes, blind, 0, 10, 'before').find((x) => x.name.includes('lag'))!;
    expect(lag).toMatchObject({ pass: false, measured: null });
  });
});

describe('during the fault', () => {
  it('a breach is three seconds in a row beyond the during tolerance', () => {
    const w = new DuringWatch(probes, 3);
    expect(w.feed(healthy(1, { confirm_p95_ms: 500 }))).toBeUndefined();
    expect(w.feed(healthy(2, { confirm_p95_ms: 500 }))).toBeUndefined();
    expect(w.feed(healthy(3, { confirm_p95_ms: 100 }))).toBeUndefined(); // the streak breaks
    expect(w.feed(healthy(4, { confirm_p95_ms: 500 }))).toBeUndefined();
    expect(w.feed(healthy(5, { confirm_p95_ms: 500 }))).toBeUndefined();
    const b = w.feed(healthy(6, { confirm_p95_ms: 700 }));
    expect(b).toMatchObject({ probe: { name: 'p95' }, value: 700 });
    expect(w.criteria(b)).toEqual([expect.objectContaining({ pass: false, measured: 700, phase: 'during' })]);
  });

  it('probes without a during tolerance are not watched; the worst value is reported', () => {
    const w = new DuringWatch(probes, 2);
    for (let t = 0; t < 5; t++)
      expect(w.feed(healthy(t, { error_pct: 90, outbox_backlog: 9999 }))).toBeUndefined();
    w.feed(healthy(6, { confirm_p95_ms: 250 }));
    expect(w.criteria(undefined)).toEqual([expect.objectContaining({ pass: true, measured: 250 })]);
  });
});

describe('time to recover', () => {
  it('is the first second from which every probe stays within tolerance for the settle window', () => {
    const samples = [
      ...[10, 11, 12, 13].map((t) => healthy(t, { 'lag_cache-worker': 900 })),
      healthy(14),
      healthy(15, { outbox_backlog: 300 }), // relapse: 14 does not count
      ...[16, 17, 18, 19, 20].map((t) => healthy(t)),
    ];
    expect(timeToRecover(probes, samples, 10, 3)).toBeCloseTo(6, 0);
  });

  it('after the load, only lag and backlog are judged; a missing lag is not recovered', () => {
    const quiet = (t: number, lag: number | undefined) => ({
      t,
      outbox_backlog: 0,
      ...(lag === undefined ? {} : { 'lag_session-worker': lag }),
    });
    expect(withinSteadyState(probes, quiet(1, 0))).toBe(true);
    expect(withinSteadyState(probes, quiet(1, undefined))).toBe(false);
    const samples = [
      quiet(30, undefined),
      quiet(31, undefined),
      quiet(32, 10),
      quiet(33, 0),
      quiet(34, 0),
      quiet(35, 0),
    ];
    expect(timeToRecover(probes, samples, 30, 3)).toBeCloseTo(2, 5);
  });

  it('is undefined when the system never settles within the samples', () => {
    const samples = [1, 2, 3, 4].map((t) => healthy(t, { outbox_backlog: 500 }));
    expect(timeToRecover(probes, samples, 0, 3)).toBeUndefined();
    expect(timeToRecover(probes, [healthy(1), healthy(2)], 0, 3)).toBeUndefined();
  });

  it('the standard probes name the four metrics the scenarios rely on', () => {
    expect(standardProbes().map((p) => p.metric)).toEqual([
      'confirm_p95_ms',
      'error_pct',
      'consumer_lag',
      'outbox_backlog',
    ]);
    expect(standardProbes({ during: { errorPct: 3 } })[1]!.during).toBe(3);
  });
});
