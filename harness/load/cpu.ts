// The load generator watches its own CPU: a generator that saturates its core delays its own
// requests and timers, and the latencies it reports then describe itself, not the system.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Busy-ness of this process over each second, as a fraction of one core (can exceed 1 with GC threads). */
export class CpuMonitor {
  #last = process.cpuUsage();
  #lastAt = performance.now();
  readonly samples: number[] = [];
  readonly #loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.#loop.enable();
  }

  /** Records and returns the CPU share since the previous sample (ignored if under 100 ms apart). */
  sample(): number | undefined {
    const now = performance.now();
    const wallUs = (now - this.#lastAt) * 1_000;
    if (wallUs < 100_000) return undefined;
    const u = process.cpuUsage(this.#last);
    this.#last = process.cpuUsage();
    this.#lastAt = now;
    const share = (u.user + u.system) / wallUs;
    this.samples.push(share);
    return share;
  }

  /** p99 of the event loop's delay in ms: how late this process ran its timers and callbacks. */
  eventLoopDelayP99Ms(): number {
    const v = this.#loop.percentile(99) / 1e6;
    return Number.isFinite(v) ? v : 0;
  }

  stop(): void {
    this.#loop.disable();
  }
}

export interface CpuJudgement {
  /** False when the generator was busy above `busyFraction` of a core for more than `maxBusyShare` of the run. */
  readonly trustworthy: boolean;
  /** Share of sampled seconds above the busy line. */
  readonly busyShare: number;
  readonly busySeconds: number;
  readonly sampledSeconds: number;
  readonly meanPct: number;
  readonly maxPct: number;
  readonly busyFraction: number;
  readonly maxBusyShare: number;
}

/** Judges per-second CPU samples; with no samples there is nothing to distrust. */
export function judgeCpu(
  samples: readonly number[],
  { busyFraction = 0.9, maxBusyShare = 0.2 }: { busyFraction?: number; maxBusyShare?: number } = {},
): CpuJudgement {
  const n = samples.length;
  const busy = samples.filter((s) => s > busyFraction).length;
  const busyShare = n === 0 ? 0 : busy / n;
  return {
    trustworthy: busyShare <= maxBusyShare,
    busyShare,
    busySeconds: busy,
    sampledSeconds: n,
    meanPct: n === 0 ? 0 : (100 * samples.reduce((a, b) => a + b, 0)) / n,
    maxPct: n === 0 ? 0 : 100 * Math.max(...samples),
    busyFraction,
    maxBusyShare,
  };
}
