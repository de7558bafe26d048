// Group commit at the application level: concurrent calls of the same statement are sent as ONE
// statement (one round trip, one plan, one commit) while every slot is busy, and one by one when
// they are not. An idle system pays no latency for it; a busy one does less work per call.

/** The result of one item of a batch: its value, or the error that item alone would have had. */
export type Settled<O> =
  | { readonly ok: true; readonly value: O }
  | { readonly ok: false; readonly error: unknown };

export interface BatcherOptions {
  /** Batches in flight at once (e.g. the share of the pool's connections this statement may use). */
  readonly slots: number;
  /** Items per batch at most. */
  readonly maxBatch: number;
  /**
   * With a batch in flight, another leaves only once the latest one has been out this long (ms), or
   * at once when every batch in flight has come back. 0 (the default): as soon as a slot is free.
   * Above 0, calls that arrive close together at a moderate rate ride one batch instead of taking a
   * slot each, and a batch that stalls holds the others back by at most this long.
   */
  readonly spreadMs?: number;
}

/**
 * Runs `runBatch` over the items queued when a slot frees up: nothing waits for a timer, so a lone
 * call runs at once; calls that arrive while every slot is busy ride together in the next batch.
 * `runBatch` returns one settled result per item, in order (it decides how a failing batch is
 * split: typically, retry each item alone so that one bad item fails only itself).
 */
export class Batcher<I, O> {
  readonly #runBatch: (items: readonly I[]) => Promise<Settled<O>[]>;
  readonly #opts: BatcherOptions;
  readonly #queue: { item: I; resolve: (v: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  /** When the latest batch left (performance.now()). */
  #lastSentAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(runBatch: (items: readonly I[]) => Promise<Settled<O>[]>, opts: BatcherOptions) {
    this.#runBatch = runBatch;
    this.#opts = opts;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    const spread = this.#opts.spreadMs ?? 0;
    while (this.#inFlight < this.#opts.slots && this.#queue.length > 0) {
      if (spread > 0 && this.#inFlight > 0) {
        const wait = this.#lastSentAt + spread - performance.now();
        if (wait > 0) {
          this.#timer ??= setTimeout(() => {
            this.#timer = undefined;
            this.#pump();
          }, wait);
          return;
        }
      }
      // A batch leaving now makes a pending spread timer moot: the next pump after it decides anew.
      clearTimeout(this.#timer);
      this.#timer = undefined;
      const batch = this.#queue.splice(0, this.#opts.maxBatch);
      this.#inFlight++;
      this.#lastSentAt = performance.now();
      this.#runBatch(batch.map((b) => b.item))
        .then(
          (results) =>
            batch.forEach((b, i) => {
              const r = results[i];
              if (!r) b.reject(new Error('batch returned fewer results than items'));
              else if (r.ok) b.resolve(r.value);
              else b.reject(r.error);
            }),
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        )
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
    }
  }
}

/**
 * The usual split of a failed batch: a batch of one fails with its error, and so does every item
 * when `shared(err)` says the error is not the items' own (the database is away); otherwise the
 * batch is retried item by item with `runOne`, so each item gets the answer it would have had alone.
 */
export async function settleEach<I, O>(
  items: readonly I[],
  runAll: (items: readonly I[]) => Promise<O[]>,
  runOne: (item: I) => Promise<O>,
  shared: (err: unknown) => boolean,
): Promise<Settled<O>[]> {
  try {
    const values = await runAll(items);
    return values.map((value) => ({ ok: true, value }));
  } catch (err) {
    if (items.length === 1 || shared(err)) return items.map(() => ({ ok: false, error: err }));
    const out: Settled<O>[] = [];
    for (const item of items) {
      try {
        out.push({ ok: true, value: await runOne(item) });
      } catch (error) {
        out.push({ ok: false, error });
      }
    }
    return out;
  }
}
