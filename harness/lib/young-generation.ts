// The harness process's young generation (issue 11, memory). Under a load run's allocation rate V8
// grows the young generation of a process on a large machine to 128 MiB (two 64 MiB semi-spaces,
// measured with v8.getHeapSpaceStatistics during `npm run load`), all of it resident for the rest
// of the run, where the generator's live heap is ~60 MiB. The harness is started with plain
// `node harness/cli/<command>.ts`, so no command-line flag can cap it; V8 reads the growth factor
// each time it would grow the young generation, so setting it to 1 at start keeps the young
// generation at the size it has then (16-32 MiB). Scavenges are more frequent; each costs what is
// alive, not the space's size.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Stops the young generation from growing any further in this process. */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** The young generation's current capacity, MiB (both semi-spaces). */
export function youngGenerationMiB(): number {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s ? s.space_size / 1_048_576 : 0;
}
