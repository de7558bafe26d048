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
  const invokes = new Map<number, HistoryOp>();
  const out: Operation[] = [];
  const completed = new Set<number>();
  for (const h of history) {
    if (h.type === 'invoke') {
      invokes.set(h.index, h);
      continue;
    }
    const inv = invokes.get(h.index);
    completed.add(h.index);
    out.push({
      index: h.index,
      op: h.op,
      process: h.process,
      outcome: h.type,
      ids: { ...(inv?.ids ?? {}), ...(h.ids ?? {}) },
      status: h.status,
      error: h.error,
      request: inv?.value,
      response: h.value,
      invokeNs: inv?.timeNs ?? h.timeNs,
      completeNs: h.timeNs,
    });
  }
  for (const inv of invokes.values()) {
    if (completed.has(inv.index)) continue;
    out.push({
      index: inv.index,
      op: inv.op,
      process: inv.process,
      outcome: 'info',
      ids: inv.ids ?? {},
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
