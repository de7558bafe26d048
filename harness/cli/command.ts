// One way every payproof command reads its command line: node:util parseArgs with strict: true,
// `--help` with examples, and a one-line usage error that names the closest valid flag or value,
// exiting 64 (EX_USAGE in BSD's sysexits.h) so that a typo never reads as a verdict (0 PASS,
// 1 FAIL, 2 UNKNOWN).
import { parseArgs } from 'node:util';
import { holdHarnessHeap } from '../lib/harness-heap.ts';

/** Exit codes of every command (README "Exit codes"). */
export const exitCodes = { pass: 0, fail: 1, unknown: 2, usage: 64, interrupted: 130 } as const;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder in --help, e.g. `NAME`, `30s`. */
  readonly value?: string;
  readonly description: string;
  /** The values this flag accepts; anything else is a usage error naming the closest one. */
  readonly choices?: readonly string[];
  /** `a,b,c` lists: each item must be one of `choices`. */
  readonly list?: boolean;
  /** A number (integer when `integer`), checked before anything runs. */
  readonly number?: { readonly min?: number; readonly max?: number; readonly integer?: boolean };
}

export interface CommandSpec {
  /** How a user runs it, e.g. `npm run load --`. */
  readonly invocation: string;
  /** One line: what it does. */
  readonly summary: string;
  /** Usage lines after the invocation, e.g. `[--profile NAME] [--duration 30s]`. */
  readonly usage: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: what they are; `choices` when only some values exist. */
  readonly positionals?: {
    readonly name: string;
    readonly max: number;
    readonly choices?: readonly string[];
    readonly description: string;
  };
  /** `command  # what it does` lines. */
  readonly examples: readonly string[];
  /** Extra paragraphs printed after the options (exit codes are always printed). */
  readonly notes?: readonly string[];
  /** Exit codes specific to this command; the default is the verdict codes. */
  readonly exits?: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: readonly string[];
}

/** A mistake on the command line: printed as one line, exit 64. */
export class UsageError extends Error {
  readonly exitCode = exitCodes.usage;
}

/** `--help` was asked for: print the text, exit 0. */
export class HelpRequested extends Error {}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'this help' };

/** Parses argv strictly; throws UsageError (or HelpRequested) before anything runs. */
export function parseCommand(spec: CommandSpec, argv: readonly string[] = process.argv.slice(2)): Parsed {
  const options: Record<string, OptionSpec> = { help: helpOption, ...spec.options };
  const known = Object.keys(options);
  // --help wins over everything else on the line, including a mistake (a user asking for help
  // after a typo should get the help).
  if (argv.some((a) => a === '--help' || a === '-h')) throw new HelpRequested(helpText(spec));
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.short ? { short: o.short } : {}) },
        ]),
      ),
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(describeParseError(err as NodeJS.ErrnoException, known, spec));
  }
  for (const [name, v] of Object.entries(parsed.values)) {
    const o = options[name];
    if (!o || typeof v !== 'string') continue;
    if (v === '') throw new UsageError(`--${name} needs a value${o.value ? ` (${o.value})` : ''}`);
    if (o.choices) {
      const items = o.list ? v.split(',').filter(Boolean) : [v];
      for (const item of items)
        if (!o.choices.includes(item))
          throw new UsageError(`--${name} ${item}: no such value${didYouMean(item, o.choices)}`);
    }
    if (o.number) {
      const n = Number(v);
      const { min, max, integer } = o.number;
      if (
        !/^-?\d+(\.\d+)?$/.test(v) ||
        (integer && !Number.isInteger(n)) ||
        (min !== undefined && n < min) ||
        (max !== undefined && n > max)
      )
        throw new UsageError(
          `--${name} ${v}: expected ${integer ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}${max !== undefined ? ` <= ${max}` : ''}`,
        );
    }
  }
  const p = spec.positionals;
  const extra = parsed.positionals.slice(p?.max ?? 0);
  if (extra.length > 0) {
    const first = extra[0]!;
    throw new UsageError(
      p
        ? `unexpected argument '${first}' (at most ${p.max} ${p.name})`
        : `unexpected argument '${first}': this command takes flags only${didYouMean(first.replace(/^-*/, ''), known, '--')}`,
    );
  }
  if (p?.choices)
    for (const a of parsed.positionals)
      if (!p.choices.includes(a)) throw new UsageError(`unknown ${p.name} '${a}'${didYouMean(a, p.choices)}`);
  return { values: parsed.values, positionals: parsed.positionals };
}

function describeParseError(err: NodeJS.ErrnoException, known: readonly string[], spec: CommandSpec): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = quoted.split(/[ =]/)[0] ?? quoted;
      return `unknown flag ${flag}${didYouMean(flag.replace(/^-+/, ''), known, '--')}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // e.g. "Option '-q, --quick' does not take an argument", "Option '--load <value>' argument missing"
      const name = /--([\w-]+)/.exec(quoted)?.[1] ?? quoted;
      const o = spec.options[name];
      return o?.type === 'boolean'
        ? `--${name} takes no value`
        : `--${name} needs a value${o?.value ? ` (${o.value})` : ''}`;
    }
    default:
      return err.message.split('\n')[0] ?? String(err);
  }
}

/** `; did you mean --profile?` when some valid name is close enough, else ''. */
export function didYouMean(input: string, candidates: readonly string[], prefix = ''): string {
  const best = closest(input, candidates);
  return best ? `; did you mean ${prefix}${best}?` : `; valid: ${listOf(candidates.map((c) => prefix + c))}`;
}

/** The candidate nearest to `input` by edit distance, if within a third of its length (or a prefix). */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.startsWith(input) && input.length >= 2 ? 0.5 : editDistance(input, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.ceil(input.length / 3)) ? best : undefined;
}

/** Damerau-Levenshtein (optimal string alignment): a swap of two letters costs 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

function listOf(xs: readonly string[]): string {
  return xs.length > 12 ? `${xs.slice(0, 12).join(', ')}, ... (${xs.length} in all)` : xs.join(', ');
}

export const verdictExits = '0 PASS, 1 FAIL, 2 UNKNOWN, 64 usage error (nothing ran), 130 interrupted';

export function helpText(spec: CommandSpec): string {
  const opts = Object.entries({ ...spec.options, help: helpOption });
  const left = opts.map(
    ([k, o]) => `${o.short ? `-${o.short}, ` : '    '}--${k}${o.value ? ` ${o.value}` : ''}`,
  );
  const w = Math.min(34, Math.max(...left.map((l) => l.length)));
  const lines = [
    spec.summary,
    '',
    'Usage:',
    ...spec.usage.map((u) => `  ${spec.invocation} ${u}`.trimEnd()),
    '',
    ...(spec.positionals
      ? [
          'Arguments:',
          `  ${spec.positionals.name}  ${spec.positionals.description}`,
          ...(spec.positionals.choices ? [`  (${listOf(spec.positionals.choices)})`] : []),
          '',
        ]
      : []),
    'Options:',
    ...opts.map(([, o], i) => {
      const choices = o.choices ? ` (${listOf(o.choices)})` : '';
      return `  ${left[i]!.padEnd(w)}  ${o.description}${choices}`;
    }),
    '',
    ...(spec.notes?.length ? [...spec.notes, ''] : []),
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
    `Exit codes: ${spec.exits ?? verdictExits}.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** For a top-level script: parses argv, or prints the help (exit 0) / the usage error (exit 64). */
export function parseOrExit(spec: CommandSpec, argv: readonly string[] = process.argv.slice(2)): Parsed {
  try {
    return parseCommand(spec, argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.message);
      process.exit(0);
    }
    process.stderr.write(`${commandName(spec)}: ${(err as Error).message} (see ${spec.invocation} --help)\n`);
    process.exit(exitCodes.usage);
  }
}

/** For a top-level script: runs a check that may throw UsageError, printing it and exiting 64. */
export function usageCheck<T>(spec: CommandSpec, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${commandName(spec)}: ${err.message} (see ${spec.invocation} --help)\n`);
    process.exit(exitCodes.usage);
  }
}

function commandName(spec: CommandSpec): string {
  return spec.invocation.replace(/^npm run /, '').replace(/ --$/, '');
}

/**
 * Parses the command line and runs `main`, exiting with its code. `--help` prints the help and
 * exits 0; a usage error prints one line on stderr and exits 64, before `main` starts anything.
 */
export async function runCommand(
  spec: CommandSpec,
  main: (args: Parsed) => Promise<number> | number,
  argv: readonly string[] = process.argv.slice(2),
): Promise<never> {
  const name = commandName(spec);
  const args = parseOrExit(spec, argv);
  holdHarnessHeap();
  try {
    const code = await main(args);
    process.exit(code);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message} (see ${spec.invocation} --help)\n`);
      process.exit(exitCodes.usage);
    }
    // Something broke before a verdict was reached: that decides nothing, so UNKNOWN.
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(exitCodes.unknown);
  }
}

/** A string flag's value (undefined when absent). */
export function str(args: Parsed, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag. */
export function bool(args: Parsed, name: string): boolean {
  return args.values[name] === true;
}

/** A numeric flag already checked by its `number` spec; `dflt` when absent. */
export function num(args: Parsed, name: string, dflt: number): number;
export function num(args: Parsed, name: string): number | undefined;
export function num(args: Parsed, name: string, dflt?: number): number | undefined {
  const v = str(args, name);
  return v === undefined ? dflt : Number(v);
}
