// Every invariant of DESIGN.md "Invariants", by stable name, run one after the other over one
// context. A check that throws is 'unknown' with the error, never a pass.
import { readFileSync } from 'node:fs';
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

const gc = (globalThis as { gc?: (o?: { type: string; execution: string; flavor: string }) => void }).gc;
const traceMemory = process.env.PAYPROOF_TRACE_MEMORY === '1';

/**
 * Between the checker's steps (the context loaded, each invariant done). Where the process exposes
 * gc (`node --expose-gc`: bench:load), collects: what the step built to judge (maps over every
 * event of a run) is garbage once it returns, and collected now it is not still held when the next
 * step builds its own (issue 11, goal 6; docs/benchmarks.md, eighteenth round). With
 * PAYPROOF_TRACE_MEMORY=1, prints the process's memory after each step to stderr.
 */
export function afterStep(step: string): void {
  // 'last-resort': V8 also returns the pages the step freed to the system. After a plain gc() it
  // keeps them pooled for reuse, resident: 144 MiB after nothing-lost over a 48k-payment run,
  // carried into every later step (PAYPROOF_TRACE_MEMORY=1 showed 1,553 pages of 256 KiB resident
  // for a 255 MiB heap).
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  if (!traceMemory) return;
  const m = process.memoryUsage();
  const mib = (n: number) => Math.round(n / 1048576);
  process.stderr.write(
    `[checker memory] ${step}: rss ${mib(m.rss)} MiB, peak ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, ` +
      `heap used ${mib(m.heapUsed)} / total ${mib(m.heapTotal)} MiB, external ${mib(m.external)} MiB; ` +
      `${residentByMapping()}\n`,
  );
}

/**
 * The largest heap and RSS seen every 20 ms while a step runs (its own transient: afterStep sees
 * only what is left once it returned). Samples between awaits, so a step that never yields shows
 * what it started with.
 */
function memorySampler(): { stop: (step: string) => void } {
  const peak = { used: 0, total: 0, rss: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.used = Math.max(peak.used, m.heapUsed);
    peak.total = Math.max(peak.total, m.heapTotal);
    peak.rss = Math.max(peak.rss, m.rss);
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop: (step) => {
      clearInterval(timer);
      sample();
      const mib = (n: number) => Math.round(n / 1048576);
      process.stderr.write(
        `[checker memory] during ${step}: at most heap used ${mib(peak.used)} / total ${mib(peak.total)} MiB, rss ${mib(peak.rss)} MiB\n`,
      );
    },
  };
}

/** Resident memory by kind of mapping (/proc/self/smaps; Linux): the brk heap, anonymous, files. */
function residentByMapping(): string {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return 'no /proc/self/smaps';
  }
  const kb = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof kb = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) kind = head[1] === '[heap]' ? 'brk' : head[1]?.startsWith('/') ? 'file' : 'anon';
    else if (line.startsWith('Rss:')) kb[kind] += Number(line.split(/\s+/)[1]);
  }
  return `resident: brk heap ${Math.round(kb.brk / 1024)}, other anonymous ${Math.round(kb.anon / 1024)}, files ${Math.round(kb.file / 1024)} MiB`;
}
