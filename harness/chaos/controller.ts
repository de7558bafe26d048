// The nemesis of one run: applies a fault timeline (inject at t, heal at t + d, relative to the
// start of the load), records each fault's real interval on the run clock, and heals whatever is
// still on when asked to stop: at the end, on Ctrl-C, on a failed probe, on an error. Every heal is
// bounded; the last resort is Toxiproxy's POST /reset and SIGCONT to every process.

import { sleep, withTimeout } from '../lib/wait-for.ts';
import { parseDurationMs } from '../load/duration.ts';
import type { FaultInterval } from '../run/result.ts';
import { resetAll } from './proxy.ts';
import type { FaultContext, Heal, Holds, TimelineStep } from './scenario.ts';

/** Bound on one injection, and on one heal (a broker restart included). */
export const injectTimeoutMs = 30_000;
export const healTimeoutMs = 100_000;

interface Active {
  readonly step: number;
  readonly label: string;
  readonly kind: string;
  readonly target: string;
  readonly startS: number;
  readonly heal: Heal;
}

/** Counts overlapping holds per resource key. */
export function createHolds(): Holds {
  const counts = new Map<string, number>();
  return {
    acquire: (key) => {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return n;
    },
    release: (key) => {
      const n = Math.max(0, (counts.get(key) ?? 0) - 1);
      if (n === 0) counts.delete(key);
      else counts.set(key, n);
      return n;
    },
  };
}

/** Inject / heal events of a timeline, in time order; at equal times injections first (a kill before its own heal). */
export function planEvents(
  timeline: readonly TimelineStep[],
): { atMs: number; step: number; heal: boolean }[] {
  const out: { atMs: number; step: number; heal: boolean }[] = [];
  timeline.forEach((s, step) => {
    const at = parseDurationMs(s.at);
    out.push({ atMs: at, step, heal: false });
    out.push({ atMs: at + (s.for === undefined ? 0 : parseDurationMs(s.for)), step, heal: true });
  });
  return out.sort((a, b) => a.atMs - b.atMs || Number(a.heal) - Number(b.heal) || a.step - b.step);
}

export interface ControllerOptions {
  readonly timeline: readonly TimelineStep[];
  /** Builds the context of one fault instance. */
  readonly context: (id: string) => FaultContext;
  /** Seconds on the run clock (samples' t). */
  readonly nowS: () => number;
  readonly log: (line: string) => void;
  /** Every pid of the system, for the last-resort SIGCONT. */
  readonly pids: () => readonly number[];
  readonly toxiproxyUrl: string;
  /** Asked right before the first injection; a reason string cancels the whole timeline. */
  readonly gate?: () => string | undefined;
}

export class FaultController {
  readonly intervals: FaultInterval[] = [];
  readonly errors: string[] = [];
  /** Heals that failed even after the last resort. */
  readonly unhealed: string[] = [];
  injected = 0;
  /** Why the timeline was cancelled before its first fault, if it was. */
  gateFailure: string | undefined;
  #o: ControllerOptions;
  #active = new Map<number, Active>();
  /** Faults whose injection is under way (a kill that waits for the restart): on, for the progress line. */
  #injecting = new Map<number, { readonly label: string; readonly startS: number }>();
  /** Faults whose heal is running (a broker restart waits for the broker): still on. */
  #healing = new Map<number, { readonly label: string; readonly startS: number }>();
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #loadStartS = 0;

  constructor(o: ControllerOptions) {
    this.#o = o;
  }

  /** True while at least one fault is on. */
  get faulty(): boolean {
    return this.#active.size > 0;
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Labels of the faults on right now. */
  activeLabels(): string[] {
    return [...this.#active.values()].map((a) => a.label);
  }

  /** The faults on right now: label, run-clock start, and their timeline step (for its duration). */
  active(): { readonly label: string; readonly startS: number; readonly step: number }[] {
    return [
      ...[...this.#injecting].map(([step, a]) => ({ label: a.label, startS: a.startS, step })),
      ...[...this.#active.values()].map((a) => ({ label: a.label, startS: a.startS, step: a.step })),
    ];
  }

  /** Starts applying the timeline; `loadStartS` is t = 0 of the timeline on the run clock. */
  start(loadStartS: number): void {
    this.#loadStartS = loadStartS;
    this.#loop = this.#run();
  }

  /**
   * Faults' intervals relative to the load's start (runLoad's phase windows), the ones still on
   * included with no end (being injected, active, or being healed): a fault that outlasts the load
   * (a broker restart slower than the load's remaining seconds) must still make a `during` phase,
   * or the phase's thresholds would never be evaluated.
   */
  relativeToLoad(): { label: string; startS: number; endS: number | null }[] {
    const on = [...this.#injecting.values(), ...this.#active.values(), ...this.#healing.values()];
    return [
      ...this.intervals.map((f) => ({ label: f.label, startS: f.startS, endS: f.endS })),
      ...on.map((f) => ({ label: f.label, startS: f.startS, endS: null })),
    ].map((f) => ({
      label: f.label,
      startS: f.startS - this.#loadStartS,
      endS: f.endS === null ? null : f.endS - this.#loadStartS,
    }));
  }

  async #run(): Promise<void> {
    // A heal that takes long (a broker restarted, then every replica back in sync) holds up what
    // follows: a fault injected late keeps its whole `for` (its heal moves by the delay), or a
    // second kill due at 30 s, injected at 51 s, would be healed the moment it landed.
    const pending = planEvents(this.#o.timeline).map((ev) => ({
      ...ev,
      dueS: this.#loadStartS + ev.atMs / 1_000,
    }));
    while (pending.length > 0) {
      pending.sort((a, b) => a.dueS - b.dueS || Number(a.heal) - Number(b.heal) || a.step - b.step);
      const ev = pending.shift()!;
      const dueS = ev.dueS;
      while (!this.stopped && this.#o.nowS() < dueS)
        await sleep(Math.min(200, (dueS - this.#o.nowS()) * 1_000));
      if (this.stopped) return;
      if (!ev.heal && this.injected === 0 && this.errors.length === 0 && this.#o.gate) {
        this.gateFailure = this.#o.gate();
        if (this.gateFailure) {
          this.#o.log(
            `[chaos] steady state not met before the first fault (${this.gateFailure}): no fault injected`,
          );
          this.#stop.abort();
          return;
        }
      }
      if (ev.heal) await this.#heal(ev.step);
      else {
        const lateS = this.#o.nowS() - dueS;
        const ownHeal = pending.find((p) => p.heal && p.step === ev.step);
        if (ownHeal && lateS > 0) ownHeal.dueS += lateS;
        await this.#inject(ev.step);
      }
    }
  }

  async #inject(step: number): Promise<void> {
    const s = this.#o.timeline[step]!;
    const id = `f${step}-${Math.random().toString(36).slice(2, 8)}`;
    const startS = this.#o.nowS();
    this.#o.log(`[chaos] t=${(startS - this.#loadStartS).toFixed(1)}s inject ${s.fault.label}`);
    this.#injecting.set(step, { label: s.fault.label, startS });
    try {
      const heal = await withTimeout(
        `inject ${s.fault.label}`,
        injectTimeoutMs,
        s.fault.inject(this.#o.context(id)),
      );
      this.#active.set(step, {
        step,
        label: s.fault.label,
        kind: s.fault.kind,
        target: s.fault.target,
        startS,
        heal,
      });
      this.injected++;
    } catch (err) {
      const msg = `inject ${s.fault.label} failed: ${(err as Error).message}`;
      this.errors.push(msg);
      this.#o.log(`[chaos] ${msg}`);
    } finally {
      this.#injecting.delete(step);
    }
  }

  async #heal(step: number): Promise<void> {
    const a = this.#active.get(step);
    if (!a) return;
    this.#active.delete(step);
    this.#healing.set(step, { label: a.label, startS: a.startS });
    try {
      await withTimeout(`heal ${a.label}`, healTimeoutMs, a.heal());
    } catch (err) {
      const msg = `heal ${a.label} failed: ${(err as Error).message}`;
      this.errors.push(msg);
      this.#o.log(`[chaos] ${msg}; last resort`);
      await this.#lastResort();
    }
    const endS = this.#o.nowS();
    this.intervals.push({ label: a.label, target: a.target, kind: a.kind, startS: a.startS, endS });
    this.#healing.delete(step);
    this.#o.log(`[chaos] t=${(endS - this.#loadStartS).toFixed(1)}s healed ${a.label}`);
  }

  async #lastResort(): Promise<void> {
    // A target without Toxiproxy (an external deployment with no proxies) has nothing to reset.
    if (this.#o.toxiproxyUrl) {
      try {
        await resetAll(this.#o.toxiproxyUrl);
      } catch (err) {
        this.unhealed.push(`toxiproxy reset: ${(err as Error).message}`);
      }
    }
    for (const pid of this.#o.pids()) {
      try {
        process.kill(-pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
  }

  /**
   * Stops the timeline (no new injection) and heals every fault still on, in reverse order, each
   * bounded; then makes sure Toxiproxy is clean (POST /reset) and no process stays stopped.
   * Safe to call more than once and from a signal handler.
   */
  async healAll(reason: string): Promise<void> {
    if (!this.stopped) this.#o.log(`[chaos] healing everything: ${reason}`);
    this.#stop.abort();
    await this.#loop?.catch(() => undefined);
    for (const step of [...this.#active.keys()].reverse()) await this.#heal(step);
    await this.#lastResort();
  }

  /** Waits for the timeline to finish on its own (every fault injected and healed). */
  async finished(): Promise<void> {
    await this.#loop;
  }
}
