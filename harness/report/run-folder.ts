// What a runner (chaos, load, property, verify) calls to produce a run folder:
//   const dir = createRunFolder('chaos-partition-kafka');
//   const samples = new SampleWriter(dir);   samples.write({ throughput_rps: 212, ... }) every second
//   ... history.jsonl via harness/run/history.ts ...
//   writeResult(dir, result);  finalizeRun(dir);   // index.html, junit.xml, reports/index.html, latest
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RunResult, Sample } from '../run/result.ts';
import { resultSchemaErrors } from '../run/result-schema.ts';
import { renderIndex } from './index-page.ts';
import { writeJunit } from './junit.ts';
import { renderRunPage } from './render.ts';
import { files, loadResultOnly } from './run-data.ts';
import { appendStepSummary } from './step-summary.ts';

export const defaultReportsRoot = resolve(import.meta.dirname, '..', '..', 'reports');

/** `20261126-140312` in UTC: sorts as text, and no two time zones disagree about it. */
export function runStamp(at: Date = new Date()): string {
  return at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/**
 * Creates `reportsRoot/<YYYYMMDD-HHMMSS>-<name>/` and returns its path. Two runs started in the
 * same second get `-2`, `-3`: mkdir without `recursive` fails on an existing folder, so the name
 * is claimed atomically even with several runners in parallel.
 */
export function createRunFolder(name: string, reportsRoot = defaultReportsRoot, at = new Date()): string {
  mkdirSync(reportsRoot, { recursive: true });
  const base = `${runStamp(at)}-${safeName(name)}`;
  for (let n = 1; ; n++) {
    const dir = join(reportsRoot, n === 1 ? base : `${base}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw err;
    }
  }
}

/** `chaos:partition-kafka` -> `chaos-partition-kafka`: safe in a path and in a URL. */
export function safeName(name: string): string {
  return (
    name
      .replace(/[^a-zA-Z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'run'
  );
}

/**
 * Writes result.json, then checks it against the published schema (docs/result.schema.json): a
 * result that breaks its own schema is a harness bug, reported loudly, but after the file is on
 * disk so that a long run's verdict is never lost to it.
 */
export function writeResult(runDir: string, result: RunResult): string {
  const path = join(runDir, files.result);
  const json = JSON.stringify(result, null, 2);
  writeFileSync(path, `${json}\n`);
  const errors = resultSchemaErrors(JSON.parse(json));
  if (errors.length > 0)
    throw new Error(`${path} does not match docs/result.schema.json:\n  ${errors.slice(0, 10).join('\n  ')}`);
  return path;
}

/** Appends one sample to samples.jsonl; non-finite values are dropped (JSON cannot hold them). */
export function appendSample(runDir: string, sample: Sample): void {
  const clean: Record<string, number> = {};
  for (const [k, v] of Object.entries(sample)) if (Number.isFinite(v)) clean[k] = v;
  if (!('t' in clean)) throw new Error('a sample needs a finite t (seconds since the run started)');
  // Synchronous append: one line a second costs nothing, and a crash loses at most the last one.
  appendFileSync(join(runDir, files.samples), `${JSON.stringify(clean)}\n`);
}

/**
 * Writes samples.jsonl with `t` measured from the writer's creation, which should be the run's
 * start (the same origin as result.faults' startS / endS). Metric names: harness/report/README.md.
 */
export class SampleWriter {
  readonly runDir: string;
  readonly #now: () => number;
  readonly #t0Ms: number;

  constructor(runDir: string, now: () => number = () => performance.now()) {
    this.runDir = runDir;
    this.#now = now;
    this.#t0Ms = now();
  }

  /** Seconds since the writer was created, to the millisecond. */
  elapsedS(): number {
    return Math.round(this.#now() - this.#t0Ms) / 1000;
  }

  write(metrics: Readonly<Record<string, number>>): void {
    appendSample(this.runDir, { ...metrics, t: this.elapsedS() });
  }
}

/**
 * Renders the run page, junit.xml and the reports index, and appends the markdown summary to
 * $GITHUB_STEP_SUMMARY when it is set; returns every path written.
 */
export function finalizeRun(
  runDir: string,
  reportsRoot = dirname(runDir),
): { page: string; junit: string; index: string; latest: string | null } {
  const page = renderRunPage(runDir);
  const junit = writeJunit(runDir);
  const { index, latest } = renderIndex(reportsRoot);
  // CI pages (GitHub Actions): the verdict in markdown, when the job asked for it.
  const result = loadResultOnly(runDir);
  if (result) appendStepSummary(result, page);
  return { page, junit, index, latest };
}
