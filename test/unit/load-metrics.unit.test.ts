import { describe, expect, it } from 'vitest';
import { Trend } from '../../harness/load/histogram.ts';
import { Metrics, tagKey } from '../../harness/load/metrics.ts';
import { seededRandom } from '../../harness/load/rng.ts';

/** Nearest-rank percentile of sorted values: the reference HDR must agree with. */
function exact(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length - 1e-9) - 1)]!;
}

describe('HDR trends report percentiles within their stated precision', () => {
  it('matches exact percentiles to 0.1% on a skewed latency distribution, with exact avg, min and max', () => {
    const random = seededRandom(42);
    const values: number[] = [];
    const t = new Trend();
    for (let i = 0; i < 50_000; i++) {
      // Log-normal-ish: most requests fast, a long tail up to seconds.
      const ms = Math.exp(
        2 + 1.2 * Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random()),
      );
      values.push(ms);
      t.add(ms);
    }
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const want = exact(sorted, p);
      expect(Math.abs(t.percentile(p)! - want) / want, `p(${p})`).toBeLessThan(0.002);
    }
    expect(t.min()).toBe(sorted[0]);
    expect(t.max()).toBe(sorted.at(-1));
    expect(t.avg()).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    expect(t.stats()).toMatchObject({ count: 50_000 });
  });

  it('keeps microsecond resolution for fast requests and handles minutes-long ones', () => {
    const t = new Trend();
    t.add(0.25);
    t.add(0.5);
    t.add(120_000);
    expect(t.percentile(0)).toBe(0.25);
    expect(t.percentile(50)).toBeCloseTo(0.5, 3);
    expect(t.percentile(100)).toBe(120_000);
  });

  it('merging segments equals recording everything in one histogram', () => {
    const a = new Trend({ digits: 2, packed: true });
    const b = new Trend({ digits: 2, packed: true });
    const all = new Trend();
    for (let i = 1; i <= 1_000; i++) {
      (i % 2 ? a : b).add(i);
      all.add(i);
    }
    const merged = new Trend();
    merged.merge(a);
    merged.merge(b);
    expect(merged.count).toBe(1_000);
    expect(merged.avg()).toBe(all.avg());
    expect(Math.abs(merged.percentile(95)! - 950) / 950).toBeLessThan(0.01);
    expect(new Trend().stats()).toBeNull();
  });

  it('ignores values that are not durations', () => {
    const t = new Trend();
    t.add(Number.NaN);
    t.add(-1);
    expect(t.count).toBe(0);
  });
});

describe('metrics split by start second merge into any window', () => {
  it('puts a second into the window containing its midpoint, for trends, rates and counters', () => {
    const m = new Metrics();
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 10; i++) {
        // Latency 10 ms before t = 4 s, 500 ms from 4 s to 7 s, 20 ms after.
        const ms = s < 4 ? 10 : s < 7 ? 500 : 20;
        m.addTrend('http_req_duration', { op: 'confirm', expected_response: 'true' }, ms, s + i / 10);
        m.addRate('http_req_failed', { op: 'confirm' }, s >= 4 && s < 7 && i < 5, s + i / 10);
        m.addCount('http_reqs', { op: 'confirm' }, 1, s + i / 10);
      }
    }
    const during = m.windowView({ fromS: 4, toS: 7 });
    expect(during.trend('http_req_duration', { op: 'confirm' })!.percentile(50)).toBeCloseTo(500, -1);
    expect(during.rate('http_req_failed')).toEqual({ passes: 15, total: 30 });
    expect(during.count('http_reqs')).toBe(30);
    expect(during.value('http_reqs', {}, { name: 'rate' })).toBe(10);
    const before = m.windowView({ fromS: 0, toS: 4.2 });
    expect(before.trend('http_req_duration')!.max()).toBe(10);
    expect(before.count('http_reqs', { op: 'confirm' })).toBe(40);
    const run = m.runView(10);
    expect(run.count('http_reqs')).toBe(100);
    expect(run.value('http_req_failed', {}, { name: 'rate' })).toBe(0.15);
    expect(run.trend('http_req_duration', { op: 'create' })).toBeNull();
    expect(run.value('http_req_duration', { op: 'create' }, { name: 'p', percentile: 95 })).toBeNull();
    expect(run.count('dropped_iterations')).toBe(0);
  });

  it('refuses to record one metric as two kinds', () => {
    const m = new Metrics();
    expect(() => m.addCount('checks', {}, 1, 0)).toThrow(/rate/);
  });
});

describe('series keys', () => {
  it('name the same series whatever order the tags come in, sorted by key, for 0 to 4 tags', () => {
    expect(tagKey({})).toBe('');
    expect(tagKey({ op: 'create' })).toBe('op:create');
    expect(tagKey({ op: 'confirm', expected_response: 'true' })).toBe('expected_response:true,op:confirm');
    expect(tagKey({ expected_response: 'true', op: 'confirm' })).toBe('expected_response:true,op:confirm');
    expect(tagKey({ c: '3', a: '1', b: '2' })).toBe('a:1,b:2,c:3');
    expect(tagKey({ d: '4', b: '2', c: '3', a: '1' })).toBe('a:1,b:2,c:3,d:4');
    const m = new Metrics();
    m.addCount('http_reqs', { op: 'x', check: 'y' }, 1, 0);
    m.addCount('http_reqs', { check: 'y', op: 'x' }, 2, 0);
    expect(m.tagSets('http_reqs')).toHaveLength(1);
    expect(m.runView(1).count('http_reqs', { op: 'x' })).toBe(3);
  });
});
