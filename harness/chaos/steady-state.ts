// The steady-state hypothesis (Chaos Toolkit's word for it): probes with tolerances, checked over
// the per-second samples before the fault (a gate: no point faulting a system that is already
// off), every second during it (a sustained breach heals at once: the rollback), and after the last
// heal, where the time to recover is the first moment from which every probe stays within its
// tolerance for `settle` seconds. Pure functions over samples, so they are unit-tested.
import { median } from '../lib/median.ts';
import type { Criterion } from '../run/result.ts';
import { maxLag } from './observe.ts';
import type { Probe, ProbeMetric } from './scenario.ts';

export { median };

export type SampleLike = Readonly<Record<string, number>> & { readonly t: number };

/** Metrics that exist only while the load runs: no load, nothing to judge (not a breach). */
const loadMetrics: ReadonlySet<ProbeMetric> = new Set(['confirm_p95_ms', 'error_pct']);

/** A probe's value in one sample; undefined when it was not measured. */
export function probeValue(metric: ProbeMetric, s: Readonly<Record<string, number>>): number | undefined {
  switch (metric) {
    case 'consumer_lag':
      return maxLag(s);
    case 'error_pct':
      if (s.error_pct !== undefined) return s.error_pct;
      return s.throughput_rps !== undefined ? 0 : undefined;
    default:
      return s[metric];
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * The steady state over a window: each probe's median per-second value against its tolerance. A
 * probe never measured in the window fails: a hypothesis that cannot be checked does not hold.
 */
export function checkSteadyState(
  probes: readonly Probe[],
  samples: readonly SampleLike[],
  fromS: number,
  toS: number,
  phase: 'before' | 'after',
): Criterion[] {
  const window = samples.filter((s) => s.t >= fromS && s.t <= toS);
  return probes.map((p) => {
    const values = window.map((s) => probeValue(p.metric, s)).filter((v): v is number => v !== undefined);
    const m = median(values);
    return {
      name: `steady state ${phase}: ${p.name} (median of ${values.length} s)`,
      threshold: `<=${p.max}`,
      measured: m === undefined ? null : round(m),
      pass: m !== undefined && m <= p.max,
      phase,
    };
  });
}

/** A probe that stayed beyond its `during` tolerance for `graceS` consecutive samples. */
export interface Breach {
  readonly probe: Probe;
  readonly atS: number;
  readonly value: number;
}

/**
 * Watches the probes every second while a fault is on. A single bad second is noise; `graceS`
 * consecutive ones are a breach.
 */
export class DuringWatch {
  readonly #probes: readonly Probe[];
  readonly #graceS: number;
  readonly #streak = new Map<string, number>();
  /** Worst value seen per probe while a fault was on. */
  readonly worst = new Map<string, number>();

  constructor(probes: readonly Probe[], graceS = 3) {
    this.#probes = probes.filter((p) => typeof p.during === 'number');
    this.#graceS = graceS;
  }

  /** Feeds one sample taken while a fault was on; returns the first breach, if any. */
  feed(sample: SampleLike): Breach | undefined {
    for (const p of this.#probes) {
      const v = probeValue(p.metric, sample);
      if (v === undefined) continue;
      this.worst.set(p.name, Math.max(this.worst.get(p.name) ?? Number.NEGATIVE_INFINITY, v));
      const n = v > (p.during as number) ? (this.#streak.get(p.name) ?? 0) + 1 : 0;
      this.#streak.set(p.name, n);
      if (n >= this.#graceS) return { probe: p, atS: sample.t, value: v };
    }
    return undefined;
  }

  /** One criterion per watched probe: did it hold for the whole fault? */
  criteria(breach: Breach | undefined): Criterion[] {
    return this.#probes.map((p) => {
      const broke = breach?.probe.name === p.name;
      const worst = this.worst.get(p.name);
      return {
        name: `steady state during: ${p.name} (${this.#graceS} s in a row beyond is a breach)`,
        threshold: `<=${p.during}`,
        measured: broke ? round(breach!.value) : worst === undefined ? null : round(worst),
        pass: !broke,
        phase: 'during',
      };
    });
  }
}

/** Whether one sample is within every probe's steady-state tolerance. */
export function withinSteadyState(probes: readonly Probe[], s: Readonly<Record<string, number>>): boolean {
  return probes.every((p) => {
    const v = probeValue(p.metric, s);
    if (v === undefined) return loadMetrics.has(p.metric);
    return v <= p.max;
  });
}

/**
 * Seconds from `healedAtS` until the system is back in its steady state: the first sample from
 * which every sample for `settleS` seconds is within every tolerance. Undefined when that never
 * happened within the samples (or they end before a full settle window).
 */
export function timeToRecover(
  probes: readonly Probe[],
  samples: readonly SampleLike[],
  healedAtS: number,
  settleS = 3,
): number | undefined {
  const after = samples.filter((s) => s.t >= healedAtS).sort((a, b) => a.t - b.t);
  for (let i = 0; i < after.length; i++) {
    const start = after[i]!;
    if (!withinSteadyState(probes, start)) continue;
    let j = i;
    let ok = true;
    while (j + 1 < after.length && after[j + 1]!.t <= start.t + settleS + 0.5) {
      j++;
      if (!withinSteadyState(probes, after[j]!)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    // Sampling is about once a second, never exactly: half a second of slack either way.
    if (after[j]!.t - start.t >= settleS - 0.5) return round(start.t - healedAtS);
  }
  return undefined;
}
