// history.jsonl: every client operation as `invoke` then `ok` / `fail` / `info` (Jepsen style).
// `info` means the outcome is unknown (timeout, connection reset): it may or may not have
// happened, and checkers must treat it as possibly applied, never as failed.
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** Client operations the harness performs. */
export type OpName = 'create' | 'confirm' | 'get-payment' | 'dashboard' | 'inject';

export interface HistoryOp {
  /** Operation index: `invoke` and its completion share it. */
  readonly index: number;
  readonly type: OpType;
  readonly op: OpName;
  /** Monotonic time, ns since the history was opened (process.hrtime.bigint based), as a number. */
  readonly timeNs: number;
  /** Virtual user / worker / process that performed it. */
  readonly process: string | number;
  /** Ids involved: paymentId, studentId, courseId, providerPaymentId, idempotencyKey, eventId... */
  readonly ids?: Readonly<Record<string, string>>;
  /** For completions: HTTP status, error code, response excerpt. */
  readonly status?: number;
  readonly error?: string;
  readonly value?: unknown;
}

/** Appends operations to history.jsonl; cheap enough to record every request of a load run. */
export class History {
  readonly path: string;
  #out: WriteStream;
  #t0 = process.hrtime.bigint();
  #next = 0;

  constructor(path: string) {
    this.path = path;
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  /** Nanoseconds since this history was opened. */
  now(): number {
    return Number(process.hrtime.bigint() - this.#t0);
  }

  invoke(op: OpName, proc: string | number, ids?: Record<string, string>): number {
    const index = this.#next++;
    this.#write({ index, type: 'invoke', op, timeNs: this.now(), process: proc, ...(ids ? { ids } : {}) });
    return index;
  }

  complete(
    index: number,
    type: Exclude<OpType, 'invoke'>,
    op: OpName,
    proc: string | number,
    extra: Partial<HistoryOp> = {},
  ): void {
    this.#write({ ...extra, index, type, op, timeNs: this.now(), process: proc });
  }

  #write(op: HistoryOp) {
    this.#out.write(`${JSON.stringify(op)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}

export function readHistory(path: string): HistoryOp[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as HistoryOp);
}
