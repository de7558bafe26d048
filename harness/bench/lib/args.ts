// Flags of the benchmark scripts: `--quick`, `--rate 1000`, `--duration 60s` (or seconds).
import { parseDurationMs } from '../../load/duration.ts';

export class Flags {
  readonly #args: readonly string[];

  constructor(args: readonly string[] = process.argv.slice(2)) {
    this.#args = args;
  }

  has(name: string): boolean {
    return this.#args.includes(`--${name}`);
  }

  #value(name: string): string | undefined {
    const i = this.#args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = this.#args[i]!;
    if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
    const v = this.#args[i + 1];
    if (v === undefined || v.startsWith('--'))
      throw new Error(`--${name} needs a value (or --${name}=<value>)`);
    return v;
  }

  text(name: string): string | undefined {
    return this.#value(name);
  }

  number(name: string, dflt: number): number {
    const v = this.#value(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} ${v}: expected a positive number`);
    return x;
  }

  /** A duration in seconds: `30s`, `2m`, `500ms` or a bare number of seconds. */
  seconds(name: string, dflt: number): number {
    const v = this.#value(name);
    if (v === undefined) return dflt;
    const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1_000 : parseDurationMs(v, `--${name}`);
    if (!(ms > 0)) throw new Error(`--${name} ${v}: expected a positive duration`);
    return ms / 1_000;
  }

  list(name: string, dflt: readonly number[]): number[] {
    const v = this.#value(name);
    if (v === undefined) return [...dflt];
    const xs = v.split(',').map(Number);
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0))
      throw new Error(`--${name} ${v}: expected comma-separated positive numbers`);
    return xs;
  }

  /** Refuses flags nobody reads (a typo would otherwise silently run the defaults). */
  assertKnown(known: readonly string[]): void {
    for (const a of this.#args) {
      if (!a.startsWith('--')) continue;
      const name = a.slice(2).split('=')[0]!;
      if (!known.includes(name))
        throw new Error(`unknown flag --${name}; known: ${known.map((k) => `--${k}`).join(' ')}`);
    }
  }
}
