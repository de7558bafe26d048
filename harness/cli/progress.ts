// Live progress for long work, TTY-aware: on a terminal one status line redrawn in place (and log
// lines printed above it); elsewhere (CI, a pipe, a file) a plain status line every few seconds
// and whenever the phase changes, so a log stays readable and still shows that the run is alive.
import { formatDurationMs } from '../load/duration.ts';

export interface ProgressOptions {
  /** Where the status goes (stderr by default, so stdout stays the result). */
  readonly stream?: { write(s: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Override the stream's own isTTY (tests; PAYPROOF_PROGRESS=plain|tty). */
  readonly tty?: boolean;
  /** Milliseconds, monotonic (injected in tests). */
  readonly now?: () => number;
  /** Non-TTY: at most one status line this often, ms (a phase change prints at once). */
  readonly plainEveryMs?: number;
  /** TTY: at most one redraw this often, ms. */
  readonly ttyEveryMs?: number;
}

export class Progress {
  readonly tty: boolean;
  readonly #stream: NonNullable<ProgressOptions['stream']>;
  readonly #now: () => number;
  readonly #plainEveryMs: number;
  readonly #ttyEveryMs: number;
  #shown = '';
  #lastPhase = '';
  #lastAt = Number.NEGATIVE_INFINITY;

  constructor(o: ProgressOptions = {}) {
    this.#stream = o.stream ?? process.stderr;
    const env = process.env.PAYPROOF_PROGRESS;
    this.tty = o.tty ?? (env === 'plain' ? false : env === 'tty' ? true : this.#stream.isTTY === true);
    this.#now = o.now ?? (() => performance.now());
    this.#plainEveryMs = o.plainEveryMs ?? 5_000;
    this.#ttyEveryMs = o.ttyEveryMs ?? 200;
  }

  /** A new status; `phase` changing forces a line out even between intervals. */
  update(status: string, phase = ''): void {
    const now = this.#now();
    const changed = phase !== this.#lastPhase;
    this.#lastPhase = phase;
    const every = this.tty ? this.#ttyEveryMs : this.#plainEveryMs;
    if (!changed && now - this.#lastAt < every) return;
    this.#lastAt = now;
    this.#draw(status);
  }

  /** A line that stays (a step's verdict, a log line): printed above the status on a TTY. */
  log(line: string): void {
    if (this.tty && this.#shown) {
      this.#stream.write(`\r\x1b[2K${line}\n`);
      this.#stream.write(this.#fit(this.#shown));
    } else this.#stream.write(`${line}\n`);
  }

  /** Clears the status line on a TTY (before the final summary). */
  done(): void {
    if (this.tty && this.#shown) this.#stream.write('\r\x1b[2K');
    this.#shown = '';
  }

  #draw(status: string) {
    if (this.tty) {
      this.#shown = status;
      this.#stream.write(`\r\x1b[2K${this.#fit(status)}`);
    } else this.#stream.write(`${status}\n`);
  }

  #fit(s: string): string {
    const w = this.#stream.columns ?? 120;
    return s.length > w - 1 ? `${s.slice(0, w - 2)}…` : s;
  }
}

/** `mm:ss` (or `h:mm:ss`). */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `~4m10s` for an estimate. */
export function about(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s === 0 ? '~0s' : `~${formatDurationMs(s * 1_000)}`;
}
