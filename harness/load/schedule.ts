// Open-model timing: when each iteration of an arrival-rate executor is due. Pure arithmetic on the
// integral of the rate, so that iteration i's start time is known in advance and never depends on
// how long earlier iterations took (that dependency is coordinated omission).

/** One linear segment of the arrival rate: from the previous target to `targetPerS` over `durationMs`. */
export interface RateStage {
  readonly targetPerS: number;
  readonly durationMs: number;
}

/** constant-arrival-rate is one flat stage; ramping-arrival-rate is any number of linear stages. */
export interface ArrivalPlan {
  readonly startRatePerS: number;
  readonly stages: readonly RateStage[];
}

interface Segment {
  readonly t0Ms: number;
  readonly durationMs: number;
  /** Rates in iterations per ms at the start and end of the segment. */
  readonly a: number;
  readonly b: number;
  /** Iterations due before the segment starts (the integral of the rate up to t0). */
  readonly n0: number;
  readonly n1: number;
}

const eps = 1e-9;

/**
 * The scheduled start times of an arrival plan. Iteration i (0-based) starts at the first instant
 * the cumulative arrivals N(t) = ∫rate exceed i: for a constant rate r that is i / r, k6's timing.
 */
export class ArrivalSchedule {
  readonly #segments: Segment[] = [];
  readonly durationMs: number;
  /** N(duration): how many iterations the plan starts in [0, duration). */
  readonly expectedCount: number;

  constructor(plan: ArrivalPlan) {
    let t = 0;
    let n = 0;
    let rate = plan.startRatePerS / 1_000;
    if (!(plan.startRatePerS >= 0)) throw new Error(`start rate must be >= 0, got ${plan.startRatePerS}`);
    for (const s of plan.stages) {
      if (!(s.durationMs >= 0) || !(s.targetPerS >= 0)) {
        throw new Error(`stage needs a target >= 0 and a duration >= 0, got ${JSON.stringify(s)}`);
      }
      const b = s.targetPerS / 1_000;
      const n1 = n + ((rate + b) / 2) * s.durationMs;
      if (s.durationMs > 0) this.#segments.push({ t0Ms: t, durationMs: s.durationMs, a: rate, b, n0: n, n1 });
      t += s.durationMs;
      n = n1;
      rate = b;
    }
    this.durationMs = t;
    this.expectedCount = Math.max(0, Math.ceil(n - eps));
  }

  /** Cumulative arrivals N(t) at `tMs` (fractional). */
  cumulative(tMs: number): number {
    for (const s of this.#segments) {
      if (tMs < s.t0Ms + s.durationMs) {
        const tau = Math.max(0, tMs - s.t0Ms);
        return s.n0 + s.a * tau + ((s.b - s.a) * tau * tau) / (2 * s.durationMs);
      }
    }
    const last = this.#segments.at(-1);
    return last ? last.n1 : 0;
  }

  /** Scheduled start of iteration `i` in ms since the executor started; undefined past the end. */
  timeOf(i: number): number | undefined {
    if (i < 0 || i >= this.expectedCount) return undefined;
    for (const s of this.#segments) {
      if (s.n1 - eps <= i) continue;
      const x = Math.max(0, i - s.n0);
      const slope = (s.b - s.a) / s.durationMs;
      // Solves a·τ + slope·τ²/2 = x in its cancellation-free form (valid for rising, falling and flat rates).
      const root = Math.sqrt(Math.max(0, s.a * s.a + 2 * slope * x));
      const denom = s.a + root;
      const tau = x === 0 ? 0 : denom > 0 ? (2 * x) / denom : 0;
      const t = s.t0Ms + Math.min(tau, s.durationMs);
      return t < this.durationMs ? t : undefined;
    }
    return undefined;
  }
}
