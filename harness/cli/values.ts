// Values the commands share and check before anything runs: planted bugs, durations, worker
// counts, the PAYPROOF_FAULTS fallback.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDurationMs } from '../load/duration.ts';
import { providerFor } from '../target/providers.ts';
import { parseTargetRef, type TargetProvider } from '../target/target.ts';
import { didYouMean, UsageError } from './command.ts';

/**
 * The planted bugs system/lib/faults.ts knows. Copied because harness/ imports only
 * system/contracts; test/unit/cli-commands.unit.test.ts fails when the two lists differ.
 */
export const plantedFaultNames = [
  'skip-inbox',
  'no-purchase-unique',
  'publish-before-commit',
  'random-downstream-ids',
  'skip-cache-invalidation',
  'allocate-without-lock',
  'ignore-idempotency-key',
  'confirm-two-transactions',
  'dedupe-by-key',
  'no-allocation-unique',
  'no-session-unique',
  'trust-event',
  'skip-signature-check',
  'trust-client-amount',
  'no-ownership-check',
  'absorb-repeat-capture',
  'wrong-causation',
  'no-kafka-republish',
  'bare-outbox-insert',
] as const;

/** `--faults a,b` (already checked against the choices) or PAYPROOF_FAULTS, which is checked here. */
export function plantedFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  /** Further names this command accepts (chaos: the planted bugs of the alert rules). */
  extra: readonly string[] = [],
): string[] {
  const known = [...plantedFaultNames, ...extra];
  const list = (flag ?? env.PAYPROOF_FAULTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of list)
    if (!known.includes(f))
      throw new UsageError(
        `${flag === undefined ? 'PAYPROOF_FAULTS' : '--faults'} ${f}: not a planted bug${didYouMean(f, known)}`,
      );
  return list;
}

/** A k6 duration flag (`30s`, `1m30s`); a usage error otherwise. */
export function durationFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseDurationMs(value, `--${name}`);
  } catch {
    throw new UsageError(`--${name} ${value}: not a duration (e.g. 30s, 1m30s, 500ms)`);
  }
  return value;
}

/** `purchase=3,allocation=2` → { purchase: 3, allocation: 2 }; kinds and counts are checked. */
export function workerCounts(spec: string | undefined, known: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [k = '', v] = part.split('=');
    if (!known.includes(k))
      throw new UsageError(`--workers ${part}: unknown kind '${k}'${didYouMean(k, known)}`);
    const n = Number(v);
    if (!/^\d+$/.test(v ?? '') || n > 16) throw new UsageError(`--workers ${part}: the count must be 0..16`);
    out[k] = n;
  }
  return out;
}

/** argv without `--name value` / `--name=value` (for a replay command that sets it again). */
export function withoutFlag(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) i++;
    else if (!argv[i]!.startsWith(`--${name}=`)) out.push(argv[i]!);
  }
  return out;
}

/** A file to write at the end of the run: its folder must exist now, not after a 20-minute run. */
export function exportPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--summary-export ${path}: no folder ${dir} to write it in`);
  return path;
}

/** `--target`, shared by every command (harness/target/, docs/targets.md). */
export const targetOption = {
  type: 'string',
  value: 'TARGET',
  description:
    'what the system runs on: native (default), native-cluster, compose, testcontainers, external:<file> (PAYPROOF_TARGET also works)',
} as const;

/**
 * `--target` or PAYPROOF_TARGET, parsed and (for external:<file>) read and checked before anything
 * runs; a mistake is a usage error naming it.
 */
export function targetFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): TargetProvider {
  const text = flag ?? env.PAYPROOF_TARGET;
  try {
    const ref = parseTargetRef(text);
    if (ref.file && !existsSync(ref.file)) throw new Error(`--target ${ref.text}: no such file`);
    return providerFor(ref);
  } catch (err) {
    throw new UsageError(
      (err as Error).message.replace(
        /^--target/,
        flag === undefined && text ? 'PAYPROOF_TARGET' : '--target',
      ),
    );
  }
}
