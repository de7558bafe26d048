// A seeded pseudo-random generator: the workload's choices (which pair, retry or not) replay from
// the seed. Ids that must be unique across runs (idempotency keys) come from crypto instead.

/** Uniform in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast, good enough to pick workload branches; not for cryptography. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}
