// Latency distributions: HDR histograms (hdr-histogram-js, pure-JS build: no WebAssembly to
// initialise, same figures) in microseconds, with the exact count, sum, min and max kept beside
// them so that `avg`, `min` and `max` are exact and only percentiles carry HDR's bounded error.
import * as hdr from 'hdr-histogram-js';

/** Trend values are recorded in microseconds and reported in milliseconds. */
const usPerMs = 1_000;

export interface TrendStats {
  readonly count: number;
  readonly avg: number;
  readonly min: number;
  readonly med: number;
  readonly max: number;
  readonly 'p(90)': number;
  readonly 'p(95)': number;
  readonly 'p(99)': number;
  readonly 'p(99.9)': number;
}

export interface TrendOptions {
  /**
   * Significant decimal digits kept by the histogram: 3 (0.1% error) for whole-run figures, 2 (1%)
   * for the per-second segments that phases are merged from, which are many and must stay small.
   */
  readonly digits?: 2 | 3;
  /** Packed buckets: much smaller for sparse data, slower to record; used for per-second segments. */
  readonly packed?: boolean;
}

/** One latency distribution, in milliseconds at the interface. */
export class Trend {
  readonly #h: hdr.Histogram;
  #count = 0;
  #sumMs = 0;
  #minMs = Number.POSITIVE_INFINITY;
  #maxMs = Number.NEGATIVE_INFINITY;

  constructor(opts: TrendOptions = {}) {
    this.#h = hdr.build({
      useWebAssembly: false,
      bitBucketSize: opts.packed ? 'packed' : 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60 * 60 * usPerMs * 1_000,
      numberOfSignificantValueDigits: opts.digits ?? 3,
      autoResize: true,
    });
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#h.recordValue(Math.max(1, Math.round(ms * usPerMs)));
    this.#count++;
    this.#sumMs += ms;
    if (ms < this.#minMs) this.#minMs = ms;
    if (ms > this.#maxMs) this.#maxMs = ms;
  }

  /** Adds every value of `other` into this one (merging per-second segments into a phase). */
  merge(other: Trend): void {
    if (other.#count === 0) return;
    this.#h.add(other.#h);
    this.#count += other.#count;
    this.#sumMs += other.#sumMs;
    this.#minMs = Math.min(this.#minMs, other.#minMs);
    this.#maxMs = Math.max(this.#maxMs, other.#maxMs);
  }

  get count(): number {
    return this.#count;
  }

  /** The value at percentile `p` (0..100) in ms, clamped to the exact min/max; null when empty. */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    if (p <= 0) return this.#minMs;
    if (p >= 100) return this.#maxMs;
    const v = this.#h.getValueAtPercentile(p) / usPerMs;
    return Math.min(this.#maxMs, Math.max(this.#minMs, v));
  }

  avg(): number | null {
    return this.#count === 0 ? null : this.#sumMs / this.#count;
  }

  min(): number | null {
    return this.#count === 0 ? null : this.#minMs;
  }

  max(): number | null {
    return this.#count === 0 ? null : this.#maxMs;
  }

  stats(): TrendStats | null {
    if (this.#count === 0) return null;
    return {
      count: this.#count,
      avg: this.#sumMs / this.#count,
      min: this.#minMs,
      med: this.percentile(50)!,
      max: this.#maxMs,
      'p(90)': this.percentile(90)!,
      'p(95)': this.percentile(95)!,
      'p(99)': this.percentile(99)!,
      'p(99.9)': this.percentile(99.9)!,
    };
  }

  reset(): void {
    this.#h.reset();
    this.#count = 0;
    this.#sumMs = 0;
    this.#minMs = Number.POSITIVE_INFINITY;
    this.#maxMs = Number.NEGATIVE_INFINITY;
  }
}
