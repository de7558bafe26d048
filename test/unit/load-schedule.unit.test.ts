import { describe, expect, it } from 'vitest';
import { ArrivalSchedule } from '../../harness/load/schedule.ts';

function times(s: ArrivalSchedule): number[] {
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const t = s.timeOf(i);
    if (t === undefined) return out;
    out.push(t);
  }
}

describe('arrival-rate schedules are fixed in advance by the integral of the rate', () => {
  it('constant rate: iteration i at i/r, exactly rate × duration of them', () => {
    const s = new ArrivalSchedule({ startRatePerS: 100, stages: [{ targetPerS: 100, durationMs: 2_000 }] });
    const ts = times(s);
    expect(s.expectedCount).toBe(200);
    expect(ts).toHaveLength(200);
    expect(ts[0]).toBe(0);
    expect(ts[1]).toBeCloseTo(10, 9);
    expect(ts[199]).toBeCloseTo(1_990, 6);
    expect(s.timeOf(200)).toBeUndefined();
    expect(s.timeOf(-1)).toBeUndefined();
  });

  it('a fractional count rounds up: 3/s for 1.5 s starts at 0, 333 and 667 ms... and 1000 ms, 1333 ms', () => {
    const s = new ArrivalSchedule({ startRatePerS: 3, stages: [{ targetPerS: 3, durationMs: 1_500 }] });
    expect(s.expectedCount).toBe(5);
    expect(times(s).map((t) => Math.round(t))).toEqual([0, 333, 667, 1000, 1333]);
  });

  it('a linear ramp from 0 to 100/s over 2 s starts 100 iterations, denser towards the end', () => {
    const s = new ArrivalSchedule({ startRatePerS: 0, stages: [{ targetPerS: 100, durationMs: 2_000 }] });
    expect(s.expectedCount).toBe(100);
    const ts = times(s);
    expect(ts).toHaveLength(100);
    // N(t) = 25 t² (t in s): iteration 25 at 1 s, iteration 64 at 1.6 s.
    expect(ts[25]).toBeCloseTo(1_000, 6);
    expect(ts[64]).toBeCloseTo(1_600, 6);
    for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThan(ts[i - 1]!);
    const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
    expect(gaps.at(-1)!).toBeLessThan(gaps[1]!);
  });

  it('multi-stage ramps add up: up, hold, down, and a pause with no arrivals', () => {
    const s = new ArrivalSchedule({
      startRatePerS: 100,
      stages: [
        { targetPerS: 300, durationMs: 1_000 }, // 200
        { targetPerS: 300, durationMs: 1_000 }, // 300
        { targetPerS: 0, durationMs: 1_000 }, // 150
        { targetPerS: 0, durationMs: 1_000 }, // 0
        { targetPerS: 100, durationMs: 1_000 }, // 50
      ],
    });
    expect(s.expectedCount).toBe(700);
    expect(s.durationMs).toBe(5_000);
    const ts = times(s);
    expect(ts).toHaveLength(700);
    expect(ts.filter((t) => t >= 3_000 && t < 4_000)).toHaveLength(0);
    expect(ts.filter((t) => t < 1_000)).toHaveLength(200);
    expect(ts.filter((t) => t >= 1_000 && t < 2_000)).toHaveLength(300);
    expect(ts.filter((t) => t >= 4_000)).toHaveLength(50);
    for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
    expect(s.cumulative(1_500)).toBeCloseTo(350, 6);
  });

  it('a plan that starts with a pause begins when the rate does', () => {
    const s = new ArrivalSchedule({
      startRatePerS: 0,
      stages: [
        { targetPerS: 0, durationMs: 500 },
        { targetPerS: 10, durationMs: 1_000 },
      ],
    });
    expect(times(s)[0]).toBe(500);
    expect(s.expectedCount).toBe(5);
  });

  it('rejects negative rates and durations', () => {
    expect(() => new ArrivalSchedule({ startRatePerS: -1, stages: [] })).toThrow(/>= 0/);
    expect(
      () => new ArrivalSchedule({ startRatePerS: 1, stages: [{ targetPerS: 1, durationMs: -5 }] }),
    ).toThrow(/duration/);
  });
});
