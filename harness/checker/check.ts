// Every invariant of DESIGN.md "Invariants", by stable name, run one after the other over one
// context. A check that throws is 'unknown' with the error, never a pass.
import { cacheConverged } from './cache-converged.ts';
import { causalClosure } from './causal-closure.ts';
import type { CheckContext } from './context.ts';
import { eventIdentity } from './event-identity.ts';
import { eventsProcessed } from './events-processed.ts';
import { noForgedEffect } from './forged-input.ts';
import { idempotencyKeys } from './idempotency-keys.ts';
import type { CheckedInvariant } from './judge.ts';
import { money } from './money.ts';
import { noDuplicateAllocations } from './no-duplicate-allocations.ts';
import { noDuplicatePurchases } from './no-duplicate-purchases.ts';
import { noDuplicateSessions } from './no-duplicate-sessions.ts';
import { noHalfDone } from './no-half-done.ts';
import { nothingLost } from './nothing-lost.ts';
import { outboxDrained } from './outbox-drained.ts';
import { ownership } from './ownership.ts';
import { processingSuccessRate } from './processing-success-rate.ts';
import { afterStep, memorySampler, traceMemory } from './step-memory.ts';
import { trainerCapacity } from './trainer-capacity.ts';

export type Invariant = (ctx: CheckContext) => Promise<CheckedInvariant>;

/** Name -> check, in report order. */
export const invariants: Readonly<Record<string, Invariant>> = {
  'no-duplicate-purchases': noDuplicatePurchases,
  'no-duplicate-allocations': noDuplicateAllocations,
  'no-duplicate-sessions': noDuplicateSessions,
  'nothing-lost': nothingLost,
  'causal-closure': causalClosure,
  'trainer-capacity': trainerCapacity,
  'outbox-drained': outboxDrained,
  'events-processed': eventsProcessed,
  'event-identity': eventIdentity,
  'cache-converged': cacheConverged,
  'no-half-done': noHalfDone,
  'idempotency-keys': idempotencyKeys,
  'processing-success-rate': processingSuccessRate,
  money,
  'no-forged-effect': noForgedEffect,
  ownership,
};

export type InvariantName = keyof typeof invariants;

/**
 * The invariants judged from the database's tables alone: with `databaseOnly` (harness/checker/
 * run-checker.ts) they find the same violations, and only what the run exercised (duplicates
 * delivered, read from the topics) is not measured.
 */
export const databaseOnlyInvariants: readonly InvariantName[] = [
  'no-duplicate-purchases',
  'no-duplicate-allocations',
  'no-duplicate-sessions',
];

/** Runs every invariant (or those named in `only`) over `ctx`. */
export async function checkAll(ctx: CheckContext, only?: readonly string[]): Promise<CheckedInvariant[]> {
  const unknownNames = (only ?? []).filter((n) => !(n in invariants));
  if (unknownNames.length > 0) throw new Error(`unknown invariant(s): ${unknownNames.join(', ')}`);
  const out: CheckedInvariant[] = [];
  for (const [name, check] of Object.entries(invariants)) {
    if (only && !only.includes(name)) continue;
    const t0 = performance.now();
    const durationS = () => Math.round(performance.now() - t0) / 1_000; // junit.xml's testcase time
    const sampler = traceMemory ? memorySampler() : undefined;
    try {
      out.push({ ...(await check(ctx)), durationS: durationS() });
    } catch (err) {
      out.push({
        durationS: durationS(),
        name,
        description: 'the check itself failed',
        valid: 'unknown',
        violations: 0,
        examples: [],
        checked: 0,
        unknownReason: `checker error: ${(err as Error).message}`,
      });
    } finally {
      sampler?.stop(name);
      afterStep(name);
    }
  }
  return out;
}
