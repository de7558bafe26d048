// A consumer that stopped consuming while Kafka answers: the stall kafkajs shows after a group
// coordinator moves (tulios/kafkajs#1630, #267; docs/targets.md, kill-leader on the three-broker
// cluster). The process stays up, /healthz answers, and nothing is fetched again. The workaround
// the kafkajs issues settle on, and the one taken here: detect it and exit, so that the supervisor
// (the harness launcher, `node system/main.ts supervise`, Compose's restart policy) starts a fresh
// consumer that joins the group again. A redelivery that follows is absorbed by the inbox.
//
// Two kinds of stall were seen on the three-broker cluster after the coordinator moved:
// - silence: no fetch, no batch, no join for `stallMs` (the consumer's loop is gone);
// - commits refused: every offset commit failing for `stallMs` ("This is not the correct coordinator
//   for this group", "The coordinator is not aware of this member": kafkajs keeps talking to the old
//   coordinator), while the loop still looks busy. Processing stops with it: lag grew by thousands.
// Neither is a stall while Kafka does not answer the readiness probe (an outage: the consumer cannot
// fetch or commit, and a restart would not help); the clocks start again when Kafka comes back.
// Silence is not a stall while a batch is being processed (a chunk retried for minutes while the
// database is away); refused commits are, batch or not (a commit is awaited inside the batch).

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
  /** When the first of an unbroken run of failed commits happened; undefined after a success. */
  #failingSince: number | undefined;

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

  /** An offset commit the broker took (true) or refused (false). */
  commit(ok: boolean): void {
    if (ok) this.#failingSince = undefined;
    else this.#failingSince ??= this.#now();
  }

  /** A crash or a rejoin ends every batch in progress, and the run of refused commits (kafkajs may not report their end). */
  reset(): void {
    this.#inBatch = 0;
    this.#failingSince = undefined; // the committer forgets what it had queued (forget())
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
    if (late || !this.#o.kafkaUp()) {
      this.activity();
      if (this.#failingSince !== undefined) this.#failingSince = now;
      return undefined;
    }
    if (this.#failingSince !== undefined && now - this.#failingSince >= this.#o.stallMs)
      return now - this.#failingSince;
    if (this.#inBatch > 0) {
      this.activity();
      return undefined;
    }
    const silent = now - this.#last;
    return silent >= this.#o.stallMs ? silent : undefined;
  }
}
