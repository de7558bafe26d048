// history.jsonl: every client operation as `invoke` then `ok` / `fail` / `info` (Jepsen style).
// `info` means the outcome is unknown (timeout, connection reset): it may or may not have
// happened, and checkers must treat it as possibly applied, never as failed.
import { createWriteStream, type WriteStream } from 'node:fs';
import { type Intern, interner, internValues } from '../lib/intern.ts';
import { fileLines } from '../lib/lines.ts';

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
  /**
   * Lines not handed to the stream yet. One stream write per operation was one fs write per line
   * (2.9 s of the generator's CPU in a users-1000 run of ~21k operations); lines now leave in
   * blocks of 64 KiB, or after at most `flushMs` when fewer come. close() writes what is left.
   */
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  static readonly flushBytes = 64 * 1024;
  static readonly flushMs = 200;

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
    const line = `${JSON.stringify(op)}\n`;
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= History.flushBytes) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), History.flushMs).unref();
  }

  #flush() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    this.#out.write(this.#pending.join(''));
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  close(): Promise<void> {
    this.#flush();
    return new Promise((resolve) => this.#out.end(resolve));
  }
}

export function readHistory(path: string): HistoryOp[] {
  return [...historyOps(path)];
}

/**
 * The operations of a history file one at a time, read in 1 MiB chunks: a consumer that keeps
 * only what it needs (the checker pairs invokes with completions) never holds the whole file, its
 * lines and every parsed operation at once. The same id appears in many operations (a student in
 * every one of theirs, a payment in its create, confirm and redeliveries): each distinct id value
 * is kept once, and so are the ids, statuses and currencies of the bodies an operation carries
 * (a create's response names its payment, student and course again).
 */
export function* historyOps(path: string, intern: Intern = interner()): Generator<HistoryOp> {
  for (const line of fileLines(path)) {
    if (!line.trim()) continue;
    const op = JSON.parse(line) as HistoryOp & { ids?: Record<string, string> };
    if (op.ids) for (const k in op.ids) if (typeof op.ids[k] === 'string') op.ids[k] = intern(op.ids[k]);
    internValues(op.value, intern, (k) => repeatedKeys.has(k));
    yield op;
  }
}

/** Keys of a recorded body whose values repeat across operations. */
const repeatedKeys = new Set(['id', 'studentId', 'courseId', 'paymentId', 'status', 'currency', 'intent']);
