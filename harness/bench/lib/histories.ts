// One history file per phase (each must be closed, i.e. flushed, before the checker reads it), and
// their union for a checker run that covers several phases: indexes renumbered so they stay
// unique, times shifted onto the first history's clock.
import { History, type HistoryOp, historyOps } from '../../run/history.ts';

export interface PhaseHistory {
  readonly history: History;
  /** process.hrtime.bigint() when the history was opened (its t = 0). */
  readonly originNs: bigint;
}

export function openHistory(path: string): PhaseHistory {
  const originNs = process.hrtime.bigint();
  return { history: new History(path), originNs };
}

/**
 * Reads closed histories and merges them into one sequence of operations, streamed (the checker
 * reads it once; nothing holds every operation of every phase at once).
 */
export function* mergeHistories(phases: readonly PhaseHistory[]): Generator<HistoryOp> {
  const base = phases[0]?.originNs ?? 0n;
  let offset = 0;
  for (const p of phases) {
    const shiftNs = Number(p.originNs - base);
    let max = -1;
    for (const op of historyOps(p.history.path)) {
      yield { ...op, index: op.index + offset, timeNs: op.timeNs + shiftNs };
      if (op.index > max) max = op.index;
    }
    offset += max + 1;
  }
}
