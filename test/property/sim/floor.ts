// How many cases a property must have run for its verdict to mean what it says. fast-check's
// `interruptAfterTimeLimit` with `markInterruptAsFailure: false` ends a property quietly when the
// time box is over, even after one case: a green property over 1 of 25 asked cases proves little.
// Below the floor the property is reported as cut short (FAIL), with the count, the floor and the
// interruption in property.jsonl, result.json and the report.

/** Share of the asked cases a time-boxed property must run. */
export const floorShare = 0.8;

export interface Coverage {
  /** Cases asked for (numRuns), or 1 for a replay of one case. */
  readonly asked: number;
  /** Cases fast-check ran (numRuns of its RunDetails). */
  readonly ran: number;
  /** The least `ran` that counts: ceil(floorShare × asked). */
  readonly floor: number;
  /** fast-check stopped on its time limit. */
  readonly interrupted: boolean;
  /** A counterexample was found (then the count does not matter: the property failed). */
  readonly failed: boolean;
  /** The verdict stands: failed, or ran at least `floor` cases. */
  readonly enough: boolean;
}

export function coverage(
  asked: number,
  out: { readonly numRuns: number; readonly interrupted: boolean; readonly failed: boolean },
  replaying = false,
): Coverage {
  const want = replaying ? 1 : Math.max(1, asked);
  const floor = Math.max(1, Math.ceil(want * floorShare));
  return {
    asked: want,
    ran: out.numRuns,
    floor,
    interrupted: out.interrupted,
    failed: out.failed,
    enough: out.failed || out.numRuns >= floor,
  };
}

/** One line for the console and the assertion message. */
export function describeCoverage(c: Coverage): string {
  return `${c.ran} of ${c.asked} asked case(s) run (floor ${c.floor}${c.interrupted ? ', interrupted by the time limit' : ''})`;
}
