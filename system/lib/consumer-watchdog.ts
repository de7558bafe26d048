// A consumer that stopped consuming while Kafka answers: the stall kafkajs shows after a group
// coordinator moves (tulios/kafkajs#1630, #267; docs/targets.md, kill-leader on the three-broker
// cluster). The process stays up, /healthz answers, and nothing is fetched again. The workaround
// the kafkajs issues settle on, and the one taken here: detect it and exit, so that the supervisor
// (the harness launcher, `node system/main.ts supervise`, Compose's restart policy) starts a fresh
// consumer that joins the group again. A redelivery that follows is absorbed by the inbox.
//
// Alive means: a fetch started, a batch started or ended, or the group was joined within `stallMs`;
// or a batch is being processed (a chunk retried for minutes while the database is away is not a
// stall); or Kafka does not answer the readiness probe (an outage is not a stall: the consumer
// cannot fetch, and a restart would not help). The clock starts again when Kafka comes back.

export interface WatchdogOptions {
  /** Silence longer than this, with Kafka answering and no batch in progress, is a stall. */
  readonly stallMs: number;
  /** Whether Kafka answered its last readiness probe. */
  readonly kafkaUp: () => boolean;
  /** How often `check()` is called; a call more than twice this late means the process was frozen. */
  readonly checkEveryMs: number;
  /** Monotonic milliseconds (injectable for tests). */
  readonly now?: () => number;
}

export class ConsumerWatchdog {
  readonly #o: WatchdogOptions;
  readonly #now: () => number;
  #last: number;
  #inBatch = 0;
  #lastCheck: number;

  constructor(o: WatchdogOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    this.#last = this.#now();
    this.#lastCheck = this.#last;
  }

  /** A fetch started or the group was joined. */
  activity(): void {
    this.#last = this.#now();
  }

  batchStart(): void {
    this.#inBatch++;
    this.activity();
  }

  batchEnd(): void {
    this.#inBatch = Math.max(0, this.#inBatch - 1);
    this.activity();
  }

  /** A crash or a rejoin ends every batch in progress (kafkajs may not report their end). */
  reset(): void {
    this.#inBatch = 0;
    this.activity();
  }

  /**
   * Milliseconds of silence when the consumer is stalled; undefined while it is alive. Called every
   * `checkEveryMs`: a call far later than that means this process itself was not running (SIGSTOP,
   * a starved machine), so the silence was the process's, not the consumer's, and counting starts
   * again: a worker resumed after a long pause gets its full `stallMs` to fetch.
   */
  check(): number | undefined {
    const now = this.#now();
    const late = now - this.#lastCheck > 2 * this.#o.checkEveryMs;
    this.#lastCheck = now;
    if (late || this.#inBatch > 0 || !this.#o.kafkaUp()) {
      this.activity();
      return undefined;
    }
    const silent = this.#now() - this.#last;
    return silent >= this.#o.stallMs ? silent : undefined;
  }
}
