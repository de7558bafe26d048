// restart-kafka end to end: the broker SIGKILLed and started again under load. Confirmations keep
// succeeding (the outbox buffers), the relay and the consumers reconnect, everything converges.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../harness/chaos/catalogue.ts';
import { runChaos } from '../../harness/chaos/run.ts';

describe('chaos: restart-kafka', () => {
  it('PASSES: the broker comes back, nothing lost, confirmations never stopped', async () => {
    const scenario = await loadScenario('restart-kafka');
    const { result, exitCode } = await runChaos({
      scenario,
      reportsRoot: mkdtempSync(join(tmpdir(), 'payproof-chaos-e2e-')),
      seed: 4,
      log: () => undefined,
    });
    expect(result.reason).not.toMatch(/violated|not met/);
    expect(result.verdict).toBe('PASS');
    expect(exitCode).toBe(0);
    const f = result.faults[0]!;
    expect(f).toMatchObject({ label: 'kill kafka', kind: 'restart', target: 'kafka' });
    // Down at least the 5 s of the timeline, plus the broker's own start.
    expect(f.endS! - f.startS).toBeGreaterThan(5);
    expect(result.figures.during_confirms).toBeGreaterThan(50);
    expect(result.invariants.find((i) => i.name === 'converged')?.valid).toBe(true);
    expect(result.invariants.find((i) => i.name === 'nothing-lost')?.valid).toBe(true);
  }, 300_000);
});
