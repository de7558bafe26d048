// The alert rules Prometheus loads in a run: system/alerts/payproof.rules.yml, optionally with time
// compressed (a chaos run lasts about 90 s; production windows of minutes would never fire in it),
// optionally with a planted bug in the alerting itself, so that a chaos run can prove its alert
// criteria have teeth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../toolchain/toolchain.ts';

export const rulesPath = join(repoRoot, 'system', 'alerts', 'payproof.rules.yml');
export const rulesTestPath = join(repoRoot, 'system', 'alerts', 'payproof.rules.test.yml');

/**
 * Planted bugs in the alert rules (passed with --faults like the system's). `alert-wrong-metric`:
 * the outbox rule reads the oldest row's age in seconds instead of the number of rows, so a backlog
 * of thousands of events younger than 100 s never pages.
 */
export const alertFaultNames = ['alert-wrong-metric'] as const;
export type AlertFault = (typeof alertFaultNames)[number];

const unitS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** `1m30s` → 90. */
export function durationS(text: string): number {
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * unitS[u!]!;
  return total;
}

/** Seconds as a Prometheus duration, whole milliseconds (`1500ms`, `6s`). */
export function promDuration(seconds: number): string {
  const ms = Math.max(1, Math.round(seconds * 1000));
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const dur = String.raw`(?:\d+(?:ms|s|m|h|d))+`;

/**
 * Multiplies every duration of a rules file (or of a promtool test file) by `factor`: range
 * selectors `[5m]`, subqueries `[5m:1m]`, `offset 5m`, and the `for:`, `interval:`,
 * `evaluation_interval:` and `eval_time:` keys. Sample values (`0+10x40`) are counts of steps and
 * stay, so a test scaled with its rules means the same thing on a faster clock.
 */
export function scaleDurations(text: string, factor: number): string {
  if (factor === 1) return text;
  const f = (d: string) => promDuration(durationS(d) * factor);
  return text
    .replace(new RegExp(String.raw`\[(${dur})(?::(${dur})?)?\]`, 'g'), (_m, a: string, b?: string) =>
      _m.includes(':') ? `[${f(a)}:${b ? f(b) : ''}]` : `[${f(a)}]`,
    )
    .replace(new RegExp(String.raw`\boffset (${dur})`, 'g'), (_m, a: string) => `offset ${f(a)}`)
    .replace(
      new RegExp(
        String.raw`^(\s*-?\s*(?:for|interval|evaluation_interval|eval_time):\s*)(${dur})[ \t]*$`,
        'gm',
      ),
      (_m, k: string, a: string) => `${k}${f(a)}`,
    );
}

/** Applies planted alerting bugs to the rules' text; throws if a bug no longer applies (the rule moved). */
export function plantAlertFaults(text: string, faults: readonly AlertFault[]): string {
  let out = text;
  for (const fault of faults) {
    if (fault === 'alert-wrong-metric') {
      const from = 'max(payproof_outbox_backlog) > 100 and max(deriv(payproof_outbox_backlog[';
      if (!out.includes(from)) throw new Error('alert-wrong-metric: the outbox rule is not where it was');
      out = out.replace(
        from,
        'max(payproof_outbox_oldest_age_seconds) > 100 and max(deriv(payproof_outbox_oldest_age_seconds[',
      );
    }
  }
  return out;
}

export interface RenderOptions {
  /** Multiplies every window and `for` (0.1 in chaos runs); 1 in `npm run system`. */
  readonly timeScale?: number;
  readonly faults?: readonly AlertFault[];
}

/** The rules Prometheus loads: system/alerts/payproof.rules.yml, compressed and planted as asked. */
export function renderRules(o: RenderOptions = {}): string {
  return plantAlertFaults(scaleDurations(readFileSync(rulesPath, 'utf8'), o.timeScale ?? 1), o.faults ?? []);
}
