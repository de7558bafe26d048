// The relay's circuit breaker between its two transports (issue 15). Pure: fed with observations of
// Kafka (each send's answer, and probes while no send says anything) and asked for the transport at
// a time, so every transition is tested with a fake clock.
//
// Hysteresis: Kafka must have failed without a single success for `openAfterMs` before the relay
// moves to the streams (counted from the send it left unanswered, when a failure says so: see
// `observe`), and must have answered without a single failure for `closeAfterMs` before
// it comes back. `closeAfterMs` is the longer on purpose: a Kafka that flaps (up for less than
// `closeAfterMs` at a time) keeps the relay on the streams instead of moving it back and forth,
// each move costing a fresh producer and a burst of re-publication.
import type { Transport } from '../contracts/index.ts';

export interface BreakerOptions {
  /** Kafka failing continuously this long (ms) moves the relay to the streams. */
  readonly openAfterMs: number;
  /** Kafka healthy continuously this long (ms) moves it back. */
  readonly closeAfterMs: number;
  /** Called once per transition, with the new transport. */
  readonly onChange?: (to: Transport, atMs: number) => void;
}

export class TransportBreaker {
  readonly #o: BreakerOptions;
  #transport: Transport = 'kafka';
  /** Start of the current run of failures (undefined: the last observation was a success). */
  #failingSince: number | undefined;
  /** Start of the current run of successes (undefined: the last observation was a failure). */
  #healthySince: number | undefined;
  #lastObservedAt = Number.NEGATIVE_INFINITY;
  #lastOk = false;
  /** The last success (a failure run cannot have started before it). */
  #lastOkAt = Number.NEGATIVE_INFINITY;
  readonly #onOpen = new Set<() => void>();
  /** Transitions so far (a flapping Kafka must not make this grow with every flap). */
  transitions = 0;

  constructor(options: BreakerOptions) {
    if (!(options.openAfterMs >= 0 && options.closeAfterMs >= 0))
      throw new RangeError('breaker durations must be >= 0 ms');
    this.#o = options;
  }

  /**
   * One observation of Kafka at `atMs`: a send or a probe answered (`ok`), or failed. A failure may
   * say since when Kafka has left a send unanswered (`unansweredSinceMs`, the send's start): the run
   * of failures then starts there, or at the last success if that came later. Without it, a cut
   * broker is seen failing only when a probe gives up (a send waits 1 s before one is sent, and the
   * probe's own timeout is 1.5 s): the relay moved 4.7-4.8 s into partition-kafka instead of 3 s,
   * and the backlog of those seconds delayed the flow on the streams well after the move.
   */
  observe(ok: boolean, atMs: number, unansweredSinceMs?: number): void {
    this.#lastObservedAt = atMs;
    this.#lastOk = ok;
    if (ok) {
      this.#lastOkAt = atMs;
      this.#failingSince = undefined;
      this.#healthySince ??= atMs;
    } else {
      this.#healthySince = undefined;
      this.#failingSince ??= Math.min(atMs, Math.max(unansweredSinceMs ?? atMs, this.#lastOkAt));
    }
    this.transport(atMs);
  }

  /** The transport to use at `atMs` (applies a transition that is due). */
  transport(atMs: number): Transport {
    if (
      this.#transport === 'kafka' &&
      this.#failingSince !== undefined &&
      atMs - this.#failingSince >= this.#o.openAfterMs
    )
      this.#move('stream', atMs);
    else if (
      this.#transport === 'stream' &&
      this.#healthySince !== undefined &&
      atMs - this.#healthySince >= this.#o.closeAfterMs
    )
      this.#move('kafka', atMs);
    return this.#transport;
  }

  /** When the breaker opens if nothing succeeds meanwhile (undefined: on the streams, or not failing). */
  opensAt(): number | undefined {
    return this.#transport === 'kafka' && this.#failingSince !== undefined
      ? this.#failingSince + this.#o.openAfterMs
      : undefined;
  }

  /** True unless the last observation was a failure (true before any observation). */
  lastOk(): boolean {
    return this.#lastOk || this.#lastObservedAt === Number.NEGATIVE_INFINITY;
  }

  /** True when the last observation is a success younger than `withinMs`: no probe needed. */
  recentlyHealthy(atMs: number, withinMs: number): boolean {
    return this.#lastOk && atMs - this.#lastObservedAt < withinMs;
  }

  /**
   * Calls `fn` when the breaker next moves to the streams: a Kafka send in flight is abandoned then
   * (its rows roll back and go through the fallback; a late success only adds a copy in Kafka).
   * Returns the function that cancels it (call it when the send settles: no listener piles up).
   */
  onOpen(fn: () => void): () => void {
    this.#onOpen.add(fn);
    return () => this.#onOpen.delete(fn);
  }

  /** Listeners waiting for the next opening (one per send in flight; a leak if it grows). */
  get waiting(): number {
    return this.#onOpen.size;
  }

  #move(to: Transport, atMs: number) {
    this.#transport = to;
    this.transitions++;
    this.#o.onChange?.(to, atMs);
    if (to === 'stream') {
      const listeners = [...this.#onOpen];
      this.#onOpen.clear();
      for (const fn of listeners) fn();
    }
  }
}
