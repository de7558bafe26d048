// kill-worker end to end: one instance of each worker kind SIGKILLed mid-batch, twice, under load.
// The supervisor restarts them, every redelivered event is absorbed, nothing lost or doubled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../harness/chaos/catalogue.ts';
import { runChaos } from '../../harness/chaos/run.ts';

describe('chaos: kill-worker', () => {
  it('PASSES: killed workers restart, redeliveries absorbed, everything converges', async () => {
    const scenario = await loadScenario('kill-worker');
    const { result, exitCode } = await runChaos({
      scenario,
      reportsRoot: mkdtempSync(join(tmpdir(), 'payproof-chaos-e2e-')),
      seed: 3,
      log: () => undefined,
    });
    expect(result.reason).not.toMatch(/violated|not met/);
    expect(result.verdict).toBe('PASS');
    expect(exitCode).toBe(0);
    // Two kills of four workers each, every one restarted by the supervisor.
    expect(result.faults.map((f) => f.kind)).toEqual(['kill', 'kill']);
    expect(result.exercised.restarts).toBeGreaterThanOrEqual(8);
    expect(result.figures.supervisor_restarts).toBeGreaterThanOrEqual(8);
    // Work flowed through the kills. (Duplicates absorbed by the inbox depend on where a kill lands:
    // only a kill between a chunk's commit and its offset commit redelivers a committed event; a
    // kill before the commit rolls the chunk back and it is simply processed again.)
    expect(result.figures.events_processed).toBeGreaterThan(1_000);
    for (const name of [
      'nothing-lost',
      'no-duplicate-purchases',
      'no-duplicate-allocations',
      'no-duplicate-sessions',
    ])
      expect(result.invariants.find((i) => i.name === name)?.valid, name).toBe(true);
  }, 300_000);
});
