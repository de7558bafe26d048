// A history as completed operations: each `invoke` paired with its `ok` / `fail` / `info` by index.
// An invoke that never completed counts as `info` (the client does not know whether it happened),
// never as failed (STYLE.md: maelstrom's `definite?`).
import type { HistoryOp, OpName } from '../run/history.ts';

/** One client operation, invoke and completion together. */
export interface Operation {
  readonly index: number;
  readonly op: OpName;
  readonly process: string | number;
  /** `info` also when the history ends before the operation completed. */
  readonly outcome: 'ok' | 'fail' | 'info';
  /** Ids of the invoke merged with those of the completion (the completion wins). */
  readonly ids: Readonly<Record<string, string>>;
  readonly status: number | undefined;
  readonly error: string | undefined;
  /** What the invoke carried (e.g. the request body). */
  readonly request: unknown;
  /** What the completion carried (e.g. the response body). */
  readonly response: unknown;
  readonly invokeNs: number;
  readonly completeNs: number | undefined;
}

/**
 * Pairs invokes with completions; completions without an invoke are kept as they are. Reads the
 * history once, in order (a file can be streamed: harness/run/history.ts, historyOps).
 */
export function toOperations(history: Iterable<HistoryOp>): Operation[] {
  // Invokes waiting for their completion; a completed one leaves the map, so a long history holds
  // its open operations, not every invoke it has read (issue 11, goal 6).
  const invokes = new Map<number, HistoryOp>();
  const out: Operation[] = [];
  for (const h of history) {
    if (h.type === 'invoke') {
      invokes.set(h.index, h);
      continue;
    }
    const inv = invokes.get(h.index);
    if (inv) invokes.delete(h.index);
    out.push({
      index: h.index,
      op: h.op,
      process: h.process,
      outcome: h.type,
      ids: mergeIds(inv?.ids, h.ids),
      status: h.status,
      error: h.error,
      request: inv?.value,
      response: h.value,
      invokeNs: inv?.timeNs ?? h.timeNs,
      completeNs: h.timeNs,
    });
  }
  for (const inv of invokes.values()) {
    out.push({
      index: inv.index,
      op: inv.op,
      process: inv.process,
      outcome: 'info',
      ids: inv.ids ?? noIds,
      status: undefined,
      error: 'no completion recorded',
      request: inv.value,
      response: undefined,
      invokeNs: inv.timeNs,
      completeNs: undefined,
    });
  }
  return out.sort((a, b) => a.invokeNs - b.invokeNs || a.index - b.index);
}

const noIds: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The invoke's ids with the completion's over them. The load engine's completion repeats every id
 * of its invoke (and adds those it learnt): then the completion's object is the merge, and no copy
 * is made.
 */
export function mergeIds(
  invoke: Readonly<Record<string, string>> | undefined,
  completion: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  if (!completion) return invoke ?? noIds;
  if (!invoke) return completion;
  for (const k in invoke) if (!(k in completion)) return { ...invoke, ...completion };
  return completion;
}

/**
 * The payment an operation is about: `ids.paymentId`, else the `id` of the response body (as
 * recorded, or under `response` as the load engine records its excerpt).
 */
export function paymentIdOf(op: Operation): string | undefined {
  if (op.ids.paymentId) return op.ids.paymentId;
  const body = op.response as { id?: unknown; response?: { id?: unknown } } | null | undefined;
  const id = body?.id ?? body?.response?.id;
  return typeof id === 'string' ? id : undefined;
}
