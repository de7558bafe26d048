// The external target end to end: a deployment started by the system's own entry point (provision,
// then supervise: no harness launcher) on the test stack's services, described by a target file,
// and a chaos scenario run against it as `--target external:<file>`, process faults included
// through the native controller (signals to the pids in the supervisor's pid files).
//
// The deployment gets services of its own, empty (no schema, no topics: provision makes them), not
// the test stack's: the checker of an external run judges the whole deployment (every payment in
// its database, every message in its topics), and the test stack's database and topics hold what
// earlier test files left there, such as allocations whose windows were filled with the app clock
// 200 days ahead (app_clock.offset_ms) and events produced straight into the system's topics. A
// scratch database alone would not do: the system's topic and consumer-group names are fixed
// (system/contracts/topics.ts), so its topics, groups and caches would still be shared.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../harness/chaos/catalogue.ts';
import { runChaos } from '../../harness/chaos/run.ts';
import { type Stack, startStack } from '../../harness/stack/stack.ts';
import { providerFor } from '../../harness/target/providers.ts';
import { type Deployment, deploy } from '../support/external-deployment.ts';

let stack: Stack | undefined;
let deployment: Deployment | undefined;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', migrate: false, topics: false });
}, 180_000);
afterAll(async () => {
  await deployment?.stop();
  await stack?.stop();
});

describe('target external:<file>', () => {
  it('kill-worker against a deployment started with node system/main.ts: the kills land on its pids, its supervisor restarts them, nothing lost', async () => {
    // Empty services: nobody else's rows, messages, offsets, cache keys or toxics; the app clock at 0.
    deployment = await deploy(stack!.endpoints, [
      'api',
      'relay',
      'purchase=2',
      'allocation=2',
      'session',
      'cache',
    ]);
    const before = deployment.target.processes.list.map((p) => p.name);
    const { result } = await runChaos({
      scenario: await loadScenario('kill-worker'),
      target: providerFor(`external:${deployment.file}`),
      reportsRoot: mkdtempSync(join(tmpdir(), 'payproof-external-e2e-')),
      seed: 5,
      log: () => undefined,
    });
    expect(result.environment.target).toBe(`external:${deployment.file}`);
    expect(result.environment.stack).toMatch(/attached/);
    // Both kills were injected and healed: each victim came back under a new pid and answered /healthz.
    expect(result.faults.map((f) => f.kind)).toEqual(['kill', 'kill']);
    const applied = result.invariants.find((i) => i.name === 'chaos-faults-applied');
    expect(applied?.valid, applied?.unknownReason).toBe(true);
    // Restarts seen by the native controller: a new pid in a pid file is one restart.
    expect(result.exercised.restarts).toBeGreaterThanOrEqual(8);
    for (const name of [
      'nothing-lost',
      'no-duplicate-purchases',
      'no-duplicate-allocations',
      'no-duplicate-sessions',
    ])
      expect(result.invariants.find((i) => i.name === name)?.valid, name).toBe(true);
    // The deployment is still whole: the harness never stops what it did not start.
    const alive = providerFor(`external:${deployment.file}`);
    const t = await alive.open({ runDir: tmpdir(), spec: {}, faults: [], seed: false, log: () => undefined });
    expect(
      t.system
        .processes()
        .filter((p) => p.running)
        .map((p) => p.name),
    ).toEqual(before);
  }, 400_000);
});
