// Alerts as evidence: Prometheus's alert state, read every second into the run's samples as
// `alert_<AlertName>` (how many series of that alert are firing), judged against what the scenario
// declares. Three criteria per scenario: each declared alert fired within its bound after the first
// fault, cleared within its bound after the last heal, and no alert fired in the steady state
// before the first fault (a false positive there would page someone for nothing).
import { readFileSync } from 'node:fs';
import { parseDurationMs } from '../load/duration.ts';
import type { Criterion } from '../run/result.ts';
import type { PromAlert } from '../stack/prometheus.ts';
import { rulesPath } from '../system/alert-rules.ts';
import type { AlertExpectation } from './scenario.ts';

/** Sample key of an alert. */
export const alertKey = (name: string) => `alert_${name}`;

/** Every alert name of the rules file, in file order. */
export function alertNames(rules = readFileSync(rulesPath, 'utf8')): string[] {
  return [...rules.matchAll(/^\s*-\s*alert:\s*(\S+)\s*$/gm)].map((m) => m[1]!);
}

/** One sample's alert values: every known alert, 0 when not firing (pending does not count). */
export function alertSample(names: readonly string[], alerts: readonly PromAlert[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[alertKey(n)] = 0;
  for (const a of alerts)
    if (a.state === 'firing')
      out[alertKey(a.labels.alertname)] = (out[alertKey(a.labels.alertname)] ?? 0) + 1;
  return out;
}

type Sample = Readonly<Record<string, number | undefined>> & { readonly t: number };

/** Seconds from `fromS` to the first sample at or after it with the alert firing; undefined if never. */
export function firedAfter(samples: readonly Sample[], name: string, fromS: number): number | undefined {
  const hit = samples.find((x) => x.t >= fromS && (x[alertKey(name)] ?? 0) > 0);
  return hit ? round(hit.t - fromS) : undefined;
}

/**
 * Seconds from `healS` to the first sample after it from which the alert never fires again (to the
 * last sample); undefined when it is still firing at the end, or nothing was sampled after the heal.
 */
export function clearedAfter(samples: readonly Sample[], name: string, healS: number): number | undefined {
  const after = samples.filter((x) => x.t >= healS && x[alertKey(name)] !== undefined);
  if (after.length === 0) return undefined;
  let clearFrom: number | undefined;
  for (const x of after) {
    if ((x[alertKey(name)] ?? 0) > 0) clearFrom = undefined;
    else clearFrom ??= x.t;
  }
  return clearFrom === undefined ? undefined : round(Math.max(0, clearFrom - healS));
}

/** Alerts firing in [fromS, toS): name → seconds firing. */
export function firingBetween(
  samples: readonly Sample[],
  names: readonly string[],
  fromS: number,
  toS: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of samples) {
    if (x.t < fromS || x.t >= toS) continue;
    for (const n of names) if ((x[alertKey(n)] ?? 0) > 0) out[n] = (out[n] ?? 0) + 1;
  }
  return out;
}

/** When the first fault was injected: the earliest start, whatever order the intervals were recorded in. */
export function firstInjectionS(
  intervals: readonly { readonly startS: number; readonly endS?: number | null }[],
): number | undefined {
  return intervals.length > 0 ? Math.min(...intervals.map((i) => i.startS)) : undefined;
}

export interface AlertJudgement {
  readonly samples: readonly Sample[];
  readonly names: readonly string[];
  readonly expected: readonly AlertExpectation[];
  /** Alerts that must not fire from the first fault to the end of the run. */
  readonly silent?: readonly string[];
  /** The load's start (the steady state is judged from here) and the first injection; undefined: none. */
  readonly loadStartS: number;
  readonly firstFaultS: number | undefined;
  readonly lastHealS: number | undefined;
}

/** The criteria; none when Prometheus was never read (no alert sample at all). */
export function alertCriteria(j: AlertJudgement): Criterion[] {
  const sampled = j.samples.filter((x) => j.names.some((n) => x[alertKey(n)] !== undefined));
  if (sampled.length === 0) return [];
  const out: Criterion[] = [];
  if (j.firstFaultS !== undefined) {
    const noisy = firingBetween(sampled, j.names, j.loadStartS, j.firstFaultS);
    const firingS = Object.values(noisy).reduce((a, b) => a + b, 0);
    out.push({
      name: `no alert firing in the steady state before the first fault: alert-seconds (false positives${
        firingS
          ? `: ${Object.entries(noisy)
              .map(([n, sec]) => `${n} ${sec} s`)
              .join(', ')}`
          : ''
      })`,
      threshold: '==0',
      measured: firingS,
      pass: firingS === 0,
      phase: 'before',
      unit: 's',
    });
  }
  const silent = j.silent ?? [];
  if (j.firstFaultS !== undefined && silent.length > 0) {
    const wrong = firingBetween(sampled, silent, j.firstFaultS, Number.POSITIVE_INFINITY);
    const firingS = Object.values(wrong).reduce((a, b) => a + b, 0);
    out.push({
      name: `alerts declared silent did not fire from the first fault on: alert-seconds (${
        firingS
          ? Object.entries(wrong)
              .map(([n, sec]) => `${n} ${sec} s`)
              .join(', ')
          : `${silent.length} alerts`
      })`,
      threshold: '==0',
      measured: firingS,
      pass: firingS === 0,
      phase: 'during',
      unit: 's',
    });
  }
  // No fault injected (the steady state failed first: the run is UNKNOWN): nothing to expect.
  for (const e of j.firstFaultS === undefined ? [] : j.expected) {
    const withinS = parseDurationMs(e.within) / 1000;
    const clearS = parseDurationMs(e.clearWithin) / 1000;
    const fired = j.firstFaultS === undefined ? undefined : firedAfter(sampled, e.alert, j.firstFaultS);
    out.push({
      name: `alert ${e.alert} fired after the first fault (s)`,
      threshold: `<=${withinS}`,
      measured: fired ?? null,
      pass: fired !== undefined && fired <= withinS,
      phase: 'during',
      unit: 's',
    });
    const cleared =
      fired === undefined || j.lastHealS === undefined
        ? undefined
        : clearedAfter(sampled, e.alert, j.lastHealS);
    out.push({
      name: `alert ${e.alert} cleared after the last heal (s)`,
      threshold: `<=${clearS}`,
      measured: cleared ?? null,
      pass: cleared !== undefined && cleared <= clearS,
      phase: 'after',
      unit: 's',
    });
  }
  return out;
}

/** Seconds any alert of `names` fires, as `Name: from-to s` intervals (for figures and the report). */
export function alertIntervals(samples: readonly Sample[], names: readonly string[]): string {
  const parts: string[] = [];
  for (const n of names) {
    let start: number | undefined;
    let last = 0;
    for (const x of samples) {
      const v = x[alertKey(n)];
      if (v === undefined) continue;
      if (v > 0) start ??= x.t;
      else if (start !== undefined) {
        parts.push(`${n} ${round(start)}-${round(x.t)} s`);
        start = undefined;
      }
      last = x.t;
    }
    if (start !== undefined) parts.push(`${n} ${round(start)}-${round(last)}+ s`);
  }
  return parts.join('; ');
}

const round = (x: number) => Math.round(x * 10) / 10;
