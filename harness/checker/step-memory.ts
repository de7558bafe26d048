// Between the checker's steps (the context loaded, each invariant): a collection that returns what
// the step freed to the system, and with PAYPROOF_TRACE_MEMORY=1 the memory each step took
// (issue 11, goal 6; docs/benchmarks.md, eighteenth round).
import { residentByMappingKiB } from '../stack/procfs.ts';

const gc = (globalThis as { gc?: (o?: { type: string; execution: string; flavor: string }) => void }).gc;
export const traceMemory = process.env.PAYPROOF_TRACE_MEMORY === '1';
const mib = (bytes: number) => Math.round(bytes / 1048576);

/**
 * Where the process exposes gc (`node --expose-gc`: bench:load), collects: what the step built to
 * judge (maps over every event of a run) is garbage once it returns, and collected now it is not
 * still held when the next step builds its own. With PAYPROOF_TRACE_MEMORY=1, prints the process's
 * memory after the step to stderr.
 */
export function afterStep(step: string): void {
  releaseFreed();
  if (!traceMemory) return;
  const m = process.memoryUsage();
  const r = residentByMappingKiB('self');
  const resident = r
    ? `resident: brk heap ${mib(r.brk * 1024)}, other anonymous ${mib(r.anon * 1024)}, files ${mib(r.file * 1024)} MiB`
    : 'no /proc/self/smaps';
  process.stderr.write(
    `[checker memory] ${step}: rss ${mib(m.rss)} MiB, peak ${mib(process.resourceUsage().maxRSS * 1024)} MiB, ` +
      `heap used ${mib(m.heapUsed)} / total ${mib(m.heapTotal)} MiB, external ${mib(m.external)} MiB; ${resident}\n`,
  );
}

/**
 * Where gc is exposed, a full collection that also returns the freed pages to the system.
 * 'last-resort': after a plain gc() V8 keeps the pages it freed pooled for reuse, resident: 144 MiB
 * after nothing-lost over a 48k-payment run, carried into every later step (PAYPROOF_TRACE_MEMORY=1
 * showed 1,553 pages of 256 KiB resident for a 255 MiB heap). Also called by bench:load at the end
 * of each phase, when the phase's histories and the checker's context have become garbage.
 */
export function releaseFreed(): void {
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * The largest heap and RSS seen every 20 ms while a step runs (its own transient: afterStep sees
 * only what is left once it returned). Samples between awaits, so a step that never yields shows
 * what it started with.
 */
export function memorySampler(): { stop: (step: string) => void } {
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
      process.stderr.write(
        `[checker memory] during ${step}: at most heap used ${mib(peak.used)} / total ${mib(peak.total)} MiB, rss ${mib(peak.rss)} MiB\n`,
      );
    },
  };
}
