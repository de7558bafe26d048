// Phases of a run with faults: before the first fault, while faults are on, after the last heals.
import type { PhaseName } from './profile.ts';

/** A fault window in seconds since the load started (FaultInterval of result.ts fits). */
export interface TimelineEntry {
  readonly label: string;
  readonly startS: number;
  /** null: never healed during the load. */
  readonly endS: number | null;
}

export interface PhaseWindow {
  readonly phase: PhaseName;
  readonly fromS: number;
  readonly toS: number;
  /** Faults active in (or bounding) this phase. */
  readonly labels: readonly string[];
}

/**
 * before = [0, first start), during = [first start, last end), after = [last end, run end). Gaps
 * between faults count as `during`: the system has not had a quiet stretch to recover in.
 * Empty phases are left out; an empty timeline gives no phases.
 */
export function phaseWindows(timeline: readonly TimelineEntry[], runEndS: number): PhaseWindow[] {
  const faults = timeline.filter((f) => Number.isFinite(f.startS) && f.startS < runEndS);
  if (faults.length === 0) return [];
  const clamp = (x: number) => Math.min(runEndS, Math.max(0, x));
  const first = clamp(Math.min(...faults.map((f) => f.startS)));
  const last = clamp(Math.max(...faults.map((f) => (f.endS === null ? runEndS : f.endS))));
  const labels = faults.map((f) => f.label);
  const out: PhaseWindow[] = [];
  if (first > 0) out.push({ phase: 'before', fromS: 0, toS: first, labels: [] });
  if (last > first) out.push({ phase: 'during', fromS: first, toS: last, labels });
  if (runEndS > last) out.push({ phase: 'after', fromS: last, toS: runEndS, labels: [] });
  return out;
}
