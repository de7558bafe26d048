// Waiting for a condition in an integration test: poll `cond` every `pollMs` until it holds, or
// throw once `timeoutMs` has passed.
//
// The deadlines are generous (20-60 s) so that a loaded CI machine never fails a correct system;
// the conditions themselves hold within 0.2-5 s on a quiet one (each of these test files runs in
// 0.2-10 s). That generosity is what a mutation run pays for: a mutant that stops the condition
// from ever holding is only killed when the deadline passes, and a fresh Stryker run spent ~30 of
// its 120 minutes waiting out 30 s deadlines (docs/verification.md). So `npm run mutate` caps every
// deadline with PAYPROOF_WAIT_CAP_MS: still twice the whole test's time, and the dry run, which runs
// the unmutated code under the same cap, must pass before any mutant is tested.
import { waitFor } from '../../harness/lib/wait-for.ts';

export function waitCapMs(): number {
  const cap = Number(process.env.PAYPROOF_WAIT_CAP_MS);
  return Number.isFinite(cap) && cap > 0 ? cap : Number.POSITIVE_INFINITY;
}

/** The deadline of a wait of `timeoutMs` from now, capped by PAYPROOF_WAIT_CAP_MS. */
export function deadlineIn(timeoutMs: number): number {
  return performance.now() + Math.min(timeoutMs, waitCapMs());
}

/** waitFor (harness/lib/wait-for.ts) with the deadline capped by PAYPROOF_WAIT_CAP_MS. */
export async function until(
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs = 30_000,
  pollMs = 50,
): Promise<void> {
  await waitFor(what, cond, { timeoutMs: Math.min(timeoutMs, waitCapMs()), intervalMs: pollMs });
}
