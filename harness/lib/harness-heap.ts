// The harness process's own heap (issue 11, memory). The harness is started with plain
// `node harness/cli/<command>.ts`, so no command-line flag can shape its heap; V8 reads the two
// flags set here at run time, each time it decides how far a space may grow.
//
// 1. The young generation: under a load run's allocation rate V8 grows it to 128 MiB on this
//    machine (two 64 MiB semi-spaces, measured with v8.getHeapSpaceStatistics during `npm run
//    load`), all of it resident for the rest of the run, where the generator's live heap is ~60
//    MiB. Once it has grown to `youngCapMiB` the growth factor is set to 1 (and back to 2 if V8
//    shrinks it). Growth happens at a scavenge, and the check runs after each one (a `gc`
//    performance entry), so it may overshoot by a doubling when several scavenges come before the
//    observer runs.
// 2. The old generation: after each full collection V8 lets it grow to a multiple of what
//    survived, up to 4x on a machine with this much memory. The checker's live data after a
//    `default` load run is ~170 MiB (heap snapshot), but the process peaked at ~940 MiB, most of
//    it garbage not yet collected. `--heap-growing-percent` fixes that multiple.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The young generation's current capacity, MiB (both semi-spaces). */
export function youngGenerationMiB(): number {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s ? s.space_size / 1_048_576 : 0;
}

export interface HarnessHeapOptions {
  /** The young generation grows to this size (both semi-spaces), then no further. */
  readonly youngCapMiB?: number;
  /** After a full collection the old generation may grow by this share of what survived. */
  readonly oldGrowthPercent?: number;
}

let applied = false;

/** Applies the harness's heap policy to this process (once). */
export function holdHarnessHeap({ youngCapMiB = 32, oldGrowthPercent = 30 }: HarnessHeapOptions = {}): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${oldGrowthPercent}`);
  // V8 also shrinks the young generation when the process idles (between a bench's phases it went
  // down to 1 MiB): held there, the next phase would scavenge constantly. So the growth factor is
  // set back to V8's default (2) whenever it is below the cap, and to 1 when it has reached it.
  let frozen: boolean | undefined;
  const adjust = () => {
    const freeze = youngGenerationMiB() >= youngCapMiB;
    if (freeze === frozen) return;
    frozen = freeze;
    setFlagsFromString(`--semi-space-growth-factor=${freeze ? 1 : 2}`);
  };
  adjust();
  const observer = new PerformanceObserver(adjust);
  observer.observe({ entryTypes: ['gc'] });
}
