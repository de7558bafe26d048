// Reads one run folder (result.json, samples.jsonl, history.jsonl) into values the renderers can
// trust. A run folder may be incomplete (a run interrupted before result.json), from an older
// schema, or hand-edited: nothing here throws on missing files or fields. What was missing or
// unreadable is collected in `problems` and shown on the page instead of crashing the report.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileLines } from '../lib/lines.ts';
import type { HistoryOp, OpType } from '../run/history.ts';
import type {
  Criterion,
  Exercised,
  FaultInterval,
  InvariantResult,
  RunResult,
  Sample,
  Validity,
  Verdict,
} from '../run/result.ts';
import { resultSchemaVersion } from '../run/result.ts';
import { historyEdge } from './history-summary.ts';
import { show } from './html.ts';

export const files = {
  result: 'result.json',
  samples: 'samples.jsonl',
  history: 'history.jsonl',
  page: 'index.html',
  junit: 'junit.xml',
} as const;

export interface RunData {
  readonly dir: string;
  /** The folder's name, e.g. `20261126-140312-chaos-partition-kafka`. */
  readonly name: string;
  /** null when result.json is absent or unreadable: the run is incomplete. */
  readonly result: RunResult | null;
  readonly samples: readonly Sample[];
  /**
   * null when history.jsonl is absent. Every operation, in order; ids, status, error and value only
   * on the first and last `historyEdge` and on every `info` (what the page shows verbatim).
   */
  readonly history: readonly HistoryOp[] | null;
  /** Human-readable notes about missing or malformed data, shown on the page. */
  readonly problems: readonly string[];
}

export function loadRun(dir: string): RunData {
  const problems: string[] = [];
  const result = loadResult(join(dir, files.result), problems);
  const samples = readJsonLines(join(dir, files.samples), problems)
    ?.map(toSample)
    .filter((s): s is Sample => s !== null)
    .sort((a, b) => a.t - b.t);
  const history = readHistoryForPage(join(dir, files.history), problems);
  return { dir, name: basename(dir), result, samples: samples ?? [], history: history ?? null, problems };
}

/** Only result.json, for the index (which must stay cheap over hundreds of runs). */
export function loadResultOnly(dir: string): RunResult | null {
  return loadResult(join(dir, files.result), []);
}

function loadResult(path: string, problems: string[]): RunResult | null {
  if (!existsSync(path)) {
    problems.push(`${files.result} is missing: the run did not finish`);
    return null;
  }
  try {
    return normalizeResult(JSON.parse(readFileSync(path, 'utf8')), problems);
  } catch (err) {
    problems.push(`${files.result} is unreadable: ${(err as Error).message}`);
    return null;
  }
}

function readJsonLines(path: string, problems: string[]): unknown[] | null {
  if (!existsSync(path)) return null;
  const out: unknown[] = [];
  let bad = 0;
  for (const line of fileLines(path)) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // A run killed mid-write leaves a torn last line; the rest is still worth showing.
      bad++;
    }
  }
  if (bad > 0) problems.push(`${basename(path)}: ${bad} unreadable line(s) skipped`);
  return out;
}

/**
 * history.jsonl as the page needs it: every operation, in order, for the counts, the outcomes per
 * second and the time axis; but the ids, status, error and value only of those the page shows
 * verbatim (the first and the last `historyEdge`, and every `info`). A load run's history (~140k
 * operations) held whole took ~200 MiB while the page was built.
 */
function readHistoryForPage(path: string, problems: string[]): HistoryOp[] | null {
  if (!existsSync(path)) return null;
  const out: HistoryOp[] = [];
  /** Positions past the head of full operations that may still be in the tail (never `info`). */
  const recent: number[] = [];
  let bad = 0;
  for (const line of fileLines(path)) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    const op = toHistoryOp(raw);
    if (op === null) continue;
    out.push(op);
    if (out.length <= historyEdge || op.type === 'info') continue;
    recent.push(out.length - 1);
    if (recent.length > historyEdge) {
      const i = recent.shift()!;
      const o = out[i]!;
      out[i] = { index: o.index, type: o.type, op: o.op, timeNs: o.timeNs, process: o.process };
    }
  }
  if (bad > 0) problems.push(`${basename(path)}: ${bad} unreadable line(s) skipped`);
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown, fallback = ''): string =>
  typeof v === 'string' ? v : v === null || v === undefined ? fallback : String(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const verdicts: readonly Verdict[] = ['PASS', 'FAIL', 'UNKNOWN'];
const phases = ['run', 'before', 'during', 'after'] as const;

/** Fills every field of RunResult with a safe default; notes what had to be defaulted. */
export function normalizeResult(raw: unknown, problems: string[] = []): RunResult {
  const r = isObj(raw) ? raw : {};
  if (!isObj(raw)) problems.push(`${files.result} is not a JSON object`);
  if (r.schemaVersion !== resultSchemaVersion)
    problems.push(
      `${files.result} has schemaVersion ${str(r.schemaVersion, 'none')}, expected ${resultSchemaVersion}`,
    );
  const verdict = verdicts.includes(r.verdict as Verdict) ? (r.verdict as Verdict) : 'UNKNOWN';
  if (verdict !== r.verdict) problems.push(`verdict ${JSON.stringify(r.verdict ?? null)} read as UNKNOWN`);

  const criteria: Criterion[] = arr(r.criteria)
    .filter(isObj)
    .map((c) => ({
      name: str(c.name, '(unnamed)'),
      threshold: str(c.threshold),
      measured: num(c.measured),
      pass: c.pass === true,
      ...(phases.includes(c.phase as (typeof phases)[number])
        ? { phase: c.phase as Criterion['phase'] }
        : {}),
      ...(typeof c.unit === 'string' ? { unit: c.unit } : {}),
    }));
  const invariants: InvariantResult[] = arr(r.invariants)
    .filter(isObj)
    .map((i) => ({
      name: str(i.name, '(unnamed)'),
      description: str(i.description),
      valid: (i.valid === true || i.valid === false ? i.valid : 'unknown') as Validity,
      violations: num(i.violations) ?? 0,
      examples: arr(i.examples).map((e) => (isObj(e) ? e : { value: e })),
      checked: num(i.checked) ?? 0,
      ...(i.unknownReason !== undefined ? { unknownReason: str(i.unknownReason) } : {}),
      ...(num(i.measured) !== null ? { measured: num(i.measured)! } : {}),
      ...(num(i.durationS) !== null ? { durationS: num(i.durationS)! } : {}),
    }));
  const faults: FaultInterval[] = arr(r.faults)
    .filter(isObj)
    .map((f) => ({
      label: str(f.label, str(f.kind, 'fault')),
      target: str(f.target),
      kind: str(f.kind),
      startS: num(f.startS) ?? 0,
      endS: num(f.endS),
    }));
  const exercised: Record<string, number> = {};
  for (const [k, v] of Object.entries(isObj(r.exercised) ? r.exercised : {})) {
    const n = num(v);
    if (n !== null) exercised[k] = n;
  }
  const figures: Record<string, number | string | null> = {};
  for (const [k, v] of Object.entries(isObj(r.figures) ? r.figures : {}))
    figures[k] = typeof v === 'number' || typeof v === 'string' || v === null ? v : show(v);
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(isObj(r.environment) ? r.environment : {})) environment[k] = str(v);

  return {
    schemaVersion: resultSchemaVersion,
    verdict,
    reason: str(r.reason, verdict === 'UNKNOWN' ? 'no reason recorded' : ''),
    scenario: str(r.scenario, 'unnamed run'),
    seed: num(r.seed),
    startedAt: str(r.startedAt),
    durationS: num(r.durationS) ?? 0,
    criteria,
    invariants,
    exercised: exercised as Partial<Exercised>,
    plantedFaults: arr(r.plantedFaults).map((p) => str(p)),
    faults,
    figures,
    environment,
    replay: str(r.replay),
  };
}

function toSample(raw: unknown): Sample | null {
  if (!isObj(raw)) return null;
  const t = num(raw.t);
  if (t === null) return null;
  const s: Record<string, number> = { t };
  for (const [k, v] of Object.entries(raw)) {
    const n = num(v);
    if (k !== 't' && n !== null) s[k] = n;
  }
  return s as Sample;
}

const opTypes: readonly OpType[] = ['invoke', 'ok', 'fail', 'info'];

function toHistoryOp(raw: unknown): HistoryOp | null {
  if (!isObj(raw) || !opTypes.includes(raw.type as OpType)) return null;
  return {
    ...(raw as object),
    index: num(raw.index) ?? -1,
    timeNs: num(raw.timeNs) ?? 0,
    op: str(raw.op, '?'),
    process: typeof raw.process === 'number' ? raw.process : str(raw.process),
  } as HistoryOp;
}
