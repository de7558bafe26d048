// A reports/ folder holding a verify run and its steps' run folders, for the verify page's tests:
// property PASS (a minimal run), chaos:partition-kafka FAIL (the report fixture), load:short
// UNKNOWN without a run folder of its own (the step crashed).
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { createRunFolder, finalizeRun, writeResult } from '../../harness/report/run-folder.ts';
import type { RunResult } from '../../harness/run/result.ts';

export const fixtureRun = join(import.meta.dirname, '..', 'fixtures', 'report-run');
export const fixtureRunName = '20261126-140312-chaos-partition-kafka';

const base = {
  schemaVersion: 1,
  seed: null,
  startedAt: '2026-11-26T14:00:00.000Z',
  invariants: [],
  exercised: {},
  plantedFaults: [],
  faults: [],
  environment: { node: 'v24' },
} as const;

/** Writes the three folders under `root`; returns the verify folder. */
export function makeVerifyFixture(root: string): string {
  const failing = join(root, fixtureRunName);
  cpSync(fixtureRun, failing, { recursive: true });
  finalizeRun(failing, root);
  const property = createRunFolder('property', root, new Date('2026-11-26T14:00:00Z'));
  writeResult(property, {
    ...base,
    verdict: 'PASS',
    reason: '2 criteria and 0 invariants hold',
    scenario: 'property',
    durationS: 61,
    criteria: [{ name: 'handler-level property', threshold: 'no counterexample', measured: 0, pass: true }],
    figures: {},
    replay: 'npm run property',
  });
  finalizeRun(property, root);
  const verify = createRunFolder('verify', root, new Date('2026-11-26T14:20:00Z'));
  const step = (name: string, code: number, pass: boolean) => ({
    name,
    threshold: 'PASS (exit 0)',
    measured: code,
    pass,
    unit: 'exit code',
  });
  const result: RunResult = {
    ...base,
    verdict: 'FAIL',
    reason: '2 of 3 steps did not pass: chaos:partition-kafka (FAIL), load:short (exit 137)',
    scenario: 'verify',
    durationS: 1160,
    criteria: [
      step('property', 0, true),
      step('chaos:partition-kafka', 1, false),
      step('load:short', 137, false),
    ],
    figures: {
      'property.verdict': 'PASS',
      'property.seconds': 61,
      'property.reason': '2 criteria and 0 invariants hold',
      'property.report': property,
      'chaos:partition-kafka.verdict': 'FAIL',
      'chaos:partition-kafka.seconds': 56,
      'chaos:partition-kafka.reason': 'invariant no-duplicate-purchases violated (2 violations)',
      'chaos:partition-kafka.failed':
        '✗ http_req_duration{op:confirm} p(95) p(95)<100: measured 131.7 [during]\n✗ no-duplicate-purchases: 2 violations',
      'chaos:partition-kafka.report': failing,
      'chaos:partition-kafka.confirms_during': 3495,
      'chaos:partition-kafka.p95_during_ms': 131.7,
      'chaos:partition-kafka.recover_s': 1.9,
      'chaos:partition-kafka.events_processed': 36015,
      'chaos:partition-kafka.duplicates_delivered': 248,
      'chaos:partition-kafka.duplicates_absorbed': 464,
      'load:short.verdict': 'exit 137',
      'load:short.seconds': 12,
      'load:short.reason': 'no result.json (exit 137); see load_short.log',
      'load:short.report': null,
    },
    replay: 'npm run verify',
  };
  writeResult(verify, result);
  finalizeRun(verify, root);
  return verify;
}
