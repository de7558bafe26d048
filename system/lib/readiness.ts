// Readiness: one probe per dependency (database, Kafka, Redis), run on a timer, each bounded, so
// `/readyz` and `payproof_dependency_up` say whether this process can do its work right now.
import { sleep } from './backoff.ts';
import { metrics } from './metrics.ts';

/** A probe resolves when the dependency answered, rejects (or times out) when it did not. */
export type Probe = () => Promise<unknown>;

export interface ReadinessState {
  readonly ready: boolean;
  readonly dependencies: Readonly<Record<string, { up: boolean; error?: string; checkedAt: string }>>;
}

export class Readiness {
  readonly #probes: Readonly<Record<string, Probe>>;
  readonly #state: Record<string, { up: boolean; error?: string; checkedAt: string }> = {};
  readonly #timeoutMs: number;

  constructor(probes: Readonly<Record<string, Probe>>, { timeoutMs = 1_500 } = {}) {
    this.#probes = probes;
    this.#timeoutMs = timeoutMs;
  }

  /** Runs every probe once, side by side, each bounded by the timeout. */
  async check(): Promise<ReadinessState> {
    await Promise.all(
      Object.entries(this.#probes).map(async ([name, probe]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            probe(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`no answer in ${this.#timeoutMs} ms`)),
                this.#timeoutMs,
              );
            }),
          ]);
          this.#state[name] = { up: true, checkedAt: new Date().toISOString() };
        } catch (err) {
          this.#state[name] = {
            up: false,
            error: (err as Error).message,
            checkedAt: new Date().toISOString(),
          };
        } finally {
          clearTimeout(timer);
        }
        metrics.dependencyUp.set({ dependency: name }, this.#state[name]!.up ? 1 : 0);
      }),
    );
    return this.state();
  }

  /** The last results (not ready until every probe has succeeded once). */
  state(): ReadinessState {
    const names = Object.keys(this.#probes);
    return {
      ready: names.every((n) => this.#state[n]?.up === true),
      dependencies: { ...this.#state },
    };
  }

  /** Probes every `everyMs` until `signal` aborts. */
  watch(signal: AbortSignal, everyMs = 2_000): Promise<void> {
    return (async () => {
      while (!signal.aborted) {
        await this.check();
        await sleep(everyMs, signal);
      }
    })();
  }
}
