// verify's steps as its result.json records them: one criterion per step (pass = exit 0 and
// PASS), and figures `<step>.<field>` with the step's verdict, wall time, reason, failed criteria,
// report folder and the summary-table figures. The verify page, its junit.xml and the CI step
// summary are all rendered from these, so they can be rebuilt from the folder alone.
import type { RunResult } from '../run/result.ts';

export interface VerifyStep {
  readonly name: string;
  /** PASS / FAIL / UNKNOWN, or `exit N` when the step ended without a result. */
  readonly verdict: string;
  readonly pass: boolean;
  readonly seconds: number | null;
  readonly reason: string | null;
  /** What failed, one item per criterion or invariant (`✗ checks rate rate>0.999: measured 0.98`). */
  readonly failed: readonly string[];
  /** The step's run folder (absolute, as the step printed it), when it made one. */
  readonly report: string | null;
  readonly confirmsDuring: number | null;
  readonly p95DuringMs: number | null;
  readonly recoverS: number | null;
  readonly eventsProcessed: number | null;
  readonly duplicatesDelivered: number | null;
  readonly duplicatesAbsorbed: number | null;
}

/** The figures names of a step's fields (what verify writes). */
export const stepFields = {
  verdict: 'verdict',
  seconds: 'seconds',
  reason: 'reason',
  failed: 'failed',
  report: 'report',
  confirmsDuring: 'confirms_during',
  p95DuringMs: 'p95_during_ms',
  recoverS: 'recover_s',
  eventsProcessed: 'events_processed',
  duplicatesDelivered: 'duplicates_delivered',
  duplicatesAbsorbed: 'duplicates_absorbed',
} as const;

/** `verify`, `verify --quick`: the result of the main job. */
export function isVerify(r: Pick<RunResult, 'scenario'>): boolean {
  return r.scenario === 'verify' || r.scenario.startsWith('verify ');
}

export function verifySteps(r: RunResult): VerifyStep[] {
  const f = r.figures;
  const num = (step: string, k: string) => {
    const v = f[`${step}.${k}`];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const text = (step: string, k: string) => {
    const v = f[`${step}.${k}`];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  return r.criteria
    .filter((c) => c.threshold === 'PASS (exit 0)')
    .map((c) => ({
      name: c.name,
      verdict: text(c.name, stepFields.verdict) ?? (c.pass ? 'PASS' : `exit ${c.measured}`),
      pass: c.pass,
      seconds: num(c.name, stepFields.seconds),
      reason: text(c.name, stepFields.reason),
      failed: (text(c.name, stepFields.failed) ?? '').split('\n').filter(Boolean),
      report: text(c.name, stepFields.report),
      confirmsDuring: num(c.name, stepFields.confirmsDuring),
      p95DuringMs: num(c.name, stepFields.p95DuringMs),
      recoverS: num(c.name, stepFields.recoverS),
      eventsProcessed: num(c.name, stepFields.eventsProcessed),
      duplicatesDelivered: num(c.name, stepFields.duplicatesDelivered),
      duplicatesAbsorbed: num(c.name, stepFields.duplicatesAbsorbed),
    }));
}

/** PASS / FAIL / UNKNOWN counts over the steps (a step without a verdict counts as UNKNOWN). */
export function stepTotals(steps: readonly VerifyStep[]): { PASS: number; FAIL: number; UNKNOWN: number } {
  const t = { PASS: 0, FAIL: 0, UNKNOWN: 0 };
  for (const s of steps) t[s.verdict === 'PASS' || s.verdict === 'FAIL' ? s.verdict : 'UNKNOWN']++;
  return t;
}
