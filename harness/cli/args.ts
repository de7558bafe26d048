// Minimal argument parsing shared by the CLIs: --flag, --key value, --key=value, positionals.
export interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags.set(a.slice(2), argv[++i]!);
    else flags.set(a.slice(2), true);
  }
  return { positional, flags };
}

export function flagString(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagNumber(args: Args, name: string, dflt: number): number {
  const v = flagString(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} ${v}: not a number`);
  return n;
}

/** `purchase=3,allocation=2` → { purchase: 3, allocation: 2 }. */
export function parseCounts(spec: string | undefined, known: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!k || !known.includes(k) || !Number.isInteger(n) || n < 0 || n > 16) {
      throw new Error(
        `--workers ${spec}: expected kind=count with kind in ${known.join(', ')} and count 0..16`,
      );
    }
    out[k] = n;
  }
  return out;
}
