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
// Both clocks start when the commit was SENT, not when kafkajs reported its end: kafkajs retries a
// refused commit inside one call (retries × backoff, ~28 s with NOT_COORDINATOR in kill-leader on
// 2026-12-03), and counting from the report made the watchdog fire ~28 s late (docs/targets.md).
// A commit still unanswered after `stallMs` is a stall too: the batch awaiting it is blocked.
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
  /** When the first of an unbroken run of refused commits was sent; undefined after a success. */
  #failingSince: number | undefined;
  /** When the commit in flight was sent (the committer sends one at a time); undefined when none is. */
  #commitSentAt: number | undefined;
  /** The last outage, frozen check or rejoin: no commit clock counts from before it. */
  #clockFrom = Number.NEGATIVE_INFINITY;

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

  /** An offset commit was sent at `sentAt` (default now). */
  commitSent(sentAt = this.#now()): void {
    this.#commitSentAt = sentAt;
  }

  /** An offset commit sent at `sentAt` (default now) the broker took (true) or refused (false). */
  commit(ok: boolean, sentAt = this.#now()): void {
    this.#commitSentAt = undefined;
    if (ok) this.#failingSince = undefined;
    else this.#failingSince ??= Math.max(sentAt, this.#clockFrom);
  }

  /** A crash or a rejoin ends every batch in progress, and the run of refused commits (kafkajs may not report their end). */
  reset(): void {
    this.#inBatch = 0;
    this.#failingSince = undefined; // the committer forgets what it had queued (forget())
    this.#clockFrom = this.#now(); // a commit still in flight gets its full stallMs from here
    this.activity();
  }

  /** Since when commits have been refused or one has gone unanswered; undefined if neither. */
  #commitsStuckSince(): number | undefined {
    const inFlight =
      this.#commitSentAt === undefined ? undefined : Math.max(this.#commitSentAt, this.#clockFrom);
    if (inFlight === undefined) return this.#failingSince;
    return this.#failingSince === undefined ? inFlight : Math.min(inFlight, this.#failingSince);
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
      this.#clockFrom = now;
      if (this.#failingSince !== undefined) this.#failingSince = now;
      return undefined;
    }
    const stuck = this.#commitsStuckSince();
    if (stuck !== undefined && now - stuck >= this.#o.stallMs) return now - stuck;
    if (this.#inBatch > 0) {
      this.activity();
      return undefined;
    }
    const silent = now - this.#last;
    return silent >= this.#o.stallMs ? silent : undefined;
  }
}
