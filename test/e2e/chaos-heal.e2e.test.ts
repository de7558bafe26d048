// Faults are always healed: on Ctrl-C in the middle of a fault, and at once when a steady-state
// probe is breached while the fault is on. Runs attached to the shared test stack and a system on
// it, so the proxies can be inspected after the run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { partition } from '../../harness/chaos/network-faults.ts';
import { isHealthy, proxyState } from '../../harness/chaos/proxy.ts';
import { runChaos } from '../../harness/chaos/run.ts';
import { defineScenario } from '../../harness/chaos/scenario.ts';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import { startTestSystem } from '../support/system.ts';

const stack = inject('stack');
const reportsRoot = mkdtempSync(join(tmpdir(), 'payproof-chaos-e2e-'));
let system: RunningSystem;

beforeAll(async () => {
  system = await startTestSystem(stack);
});

afterAll(async () => {
  await system?.stop();
});

const long = defineScenario({
  name: 'heal-test',
  description: 'a 60 s Kafka partition on a short load, to be cut short',
  hypothesis: 'the harness heals the partition whatever ends the run',
  load: { vus: 10, duration: '20s' },
  timeline: [{ at: '2s', for: '60s', fault: partition('kafka') }],
  steadyState: {
    probes: [{ name: 'confirm latency p95 (ms)', metric: 'confirm_p95_ms', max: 5_000 }],
  },
  recoverWithin: '30s',
  expect: {},
});

describe('chaos: faults are always healed', () => {
  it('on Ctrl-C in the middle of a fault: the run ends UNKNOWN and the proxy is healthy', async () => {
    const ctrlC = new AbortController();
    const t0 = performance.now();
    const { result, exitCode } = await runChaos({
      scenario: long,
      attach: { endpoints: stack, apiUrl: system.apiUrl },
      reportsRoot,
      signal: ctrlC.signal,
      log: (l) => {
        if (l.includes('inject partition kafka')) setTimeout(() => ctrlC.abort(), 1_500);
      },
    });
    expect(result.verdict).toBe('UNKNOWN');
    expect(exitCode).toBe(2);
    expect(result.reason).toMatch(/interrupted/);
    expect(result.faults).toHaveLength(1);
    expect(result.faults[0]!.endS! - result.faults[0]!.startS).toBeLessThan(10);
    expect(performance.now() - t0).toBeLessThan(45_000);
    expect(isHealthy(await proxyState(stack.toxiproxyUrl, 'kafka'))).toBe(true);
  }, 120_000);

  it('on a breached probe: healed at once, the run FAILS with the breach as the criterion', async () => {
    const breaching = defineScenario({
      ...long,
      name: 'breach-test',
      // Any backlog at all while Kafka is away breaches: 3 s in a row beyond 0 rows.
      steadyState: {
        probes: [{ name: 'outbox backlog (rows)', metric: 'outbox_backlog', max: 1_000_000, during: 0 }],
      },
      invariants: { only: ['outbox-drained'] },
      checker: { convergenceTimeout: '30s' },
    });
    const { result } = await runChaos({
      scenario: breaching,
      attach: { endpoints: stack, apiUrl: system.apiUrl },
      reportsRoot,
      log: () => undefined,
    });
    expect(result.verdict).toBe('FAIL');
    const breach = result.criteria.find((c) => c.name.startsWith('steady state during: outbox backlog'));
    expect(breach).toMatchObject({ pass: false, phase: 'during' });
    expect(result.figures.probe_breach).toMatch(/outbox backlog/);
    // Healed within seconds of the breach, long before the 60 s the timeline asked for.
    expect(result.faults[0]!.endS! - result.faults[0]!.startS).toBeLessThan(15);
    expect(isHealthy(await proxyState(stack.toxiproxyUrl, 'kafka'))).toBe(true);
  }, 180_000);
});
