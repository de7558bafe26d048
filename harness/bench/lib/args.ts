// Flags of the benchmark scripts: `--quick`, `--rate 1000`, `--duration 60s` (or seconds), parsed
// strictly by the commands' parser (harness/cli/command.ts): --help, unknown flags refused with
// the closest valid one, exit 64 on a usage error.
import {
  type CommandSpec,
  type OptionSpec,
  type Parsed,
  parseOrExit,
  UsageError,
  usageCheck,
} from '../../cli/command.ts';
import { holdHarnessHeap } from '../../lib/harness-heap.ts';
import { parseDurationMs } from '../../load/duration.ts';

/** Spec helpers: a positive number, a duration, a list of numbers, a switch. */
export const opt = {
  number: (value: string, description: string): OptionSpec => ({
    type: 'string',
    value,
    description,
    number: { min: 0 },
  }),
  seconds: (value: string, description: string): OptionSpec => ({ type: 'string', value, description }),
  list: (value: string, description: string): OptionSpec => ({ type: 'string', value, description }),
  text: (value: string, description: string): OptionSpec => ({ type: 'string', value, description }),
  switch: (description: string): OptionSpec => ({ type: 'boolean', description }),
};

export class Flags {
  readonly #spec: CommandSpec;
  readonly #args: Parsed;

  constructor(spec: CommandSpec, argv: readonly string[] = process.argv.slice(2)) {
    this.#spec = spec;
    this.#args = parseOrExit(spec, argv);
    holdHarnessHeap();
  }

  has(name: string): boolean {
    return this.#args.values[name] === true;
  }

  #value(name: string): string | undefined {
    const v = this.#args.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  text(name: string): string | undefined {
    return this.#value(name);
  }

  number(name: string, dflt: number): number {
    const v = this.#value(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    return usageCheck(this.#spec, () => {
      if (!Number.isFinite(x) || x <= 0) throw new UsageError(`--${name} ${v}: expected a positive number`);
      return x;
    });
  }

  /** A duration in seconds: `30s`, `2m`, `500ms` or a bare number of seconds. */
  seconds(name: string, dflt: number): number {
    const v = this.#value(name);
    if (v === undefined) return dflt;
    return usageCheck(this.#spec, () => {
      let ms: number;
      try {
        ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1_000 : parseDurationMs(v, `--${name}`);
      } catch {
        ms = Number.NaN;
      }
      if (!(ms > 0)) throw new UsageError(`--${name} ${v}: expected a positive duration (30s, 2m, 500ms)`);
      return ms / 1_000;
    });
  }

  list(name: string, dflt: readonly number[]): number[] {
    const v = this.#value(name);
    if (v === undefined) return [...dflt];
    const xs = v.split(',').map(Number);
    return usageCheck(this.#spec, () => {
      if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0))
        throw new UsageError(`--${name} ${v}: expected comma-separated positive numbers`);
      return xs;
    });
  }
}

/** The experiment flags both system benchmarks take. */
export const experimentFlags: Record<string, OptionSpec> = {
  proxied: opt.switch('experiment: through Toxiproxy, as a chaos run (the goals are judged without the hop)'),
  'node-options': opt.text(
    '=OPTS',
    'experiment: NODE_OPTIONS for the system, e.g. --node-options=--max-semi-space-size=8',
  ),
  env: opt.text('=K=V', 'experiment: extra environment for the system, e.g. --env=MALLOC_ARENA_MAX=2'),
};
