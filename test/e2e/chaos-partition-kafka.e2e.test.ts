// partition-kafka end to end, on a fresh stack and system of its own: the correct system PASSES
// (confirmations keep flowing while Kafka is cut off, and since issue 15 the whole flow too, through
// the Redis Streams fallback; everything converges after the heal, Kafka gets every event), and the
// same run with publish-before-commit planted FAILS, naming the invariant the lost events break; with
// no-kafka-republish planted (fallback-only events never sent to Kafka) it FAILS on outbox-drained.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../harness/chaos/catalogue.ts';
import { runChaos } from '../../harness/chaos/run.ts';

const reportsRoot = mkdtempSync(join(tmpdir(), 'payproof-chaos-e2e-'));
const quiet = () => undefined;

describe('chaos: partition-kafka', () => {
  it('PASSES on the correct system: confirmations continue during the partition, then convergence', async () => {
    const scenario = await loadScenario('partition-kafka');
    const { result, dir, exitCode } = await runChaos({ scenario, reportsRoot, seed: 1, log: quiet });
    expect(result.reason).not.toMatch(/violated|not met/);
    expect(result.verdict).toBe('PASS');
    expect(exitCode).toBe(0);
    // The fault really happened, for about its 15 s, and was healed.
    expect(result.faults).toHaveLength(1);
    const f = result.faults[0]!;
    expect(f).toMatchObject({ label: 'partition kafka', kind: 'partition' });
    expect(f.endS! - f.startS).toBeGreaterThan(14);
    // Confirmations succeeded while Kafka was unreachable, and the flow went on through the fallback:
    // the payments of the fault reached their sessions within the stated bound, events went through
    // the streams, and every one of them is in Kafka too after the heal (outbox-drained below).
    expect(result.figures.during_confirms).toBeGreaterThan(100);
    expect(result.figures.during_http_req_failed_rate).toBe(0);
    expect(result.figures.time_to_recover_s).not.toBeNull();
    expect(Number(result.figures.fallback_rows)).toBeGreaterThan(0);
    expect(result.figures.fallback_rows_marked_in_kafka).toBe(result.figures.fallback_rows);
    for (const c of result.criteria.filter((x) =>
      /confirm → sessions|transport switches|Redis Streams/.test(x.name),
    ))
      expect(c.pass, c.name).toBe(true);
    // Prometheus warned that the relay runs on the fallback during the fault, cleared after, was quiet
    // before, and never raised the alerts the scenario declares silent (dead letters, constraint
    // errors, API 5xx, given-up retries: a Kafka partition causes none of them).
    const alerts = result.criteria.filter((c) => /alert|false positives/.test(c.name));
    expect(alerts.map((c) => [c.name.replace(/ \(.*$/, ''), c.pass])).toEqual([
      ['no alert firing in the steady state before the first fault: alert-seconds', true],
      ['alerts declared silent did not fire from the first fault on: alert-seconds', true],
      ['alert PayproofOnFallbackTransport fired after the first fault', true],
      ['alert PayproofOnFallbackTransport cleared after the last heal', true],
    ]);
    for (const name of [
      'nothing-lost',
      'outbox-drained',
      'events-processed',
      'converged',
      'no-duplicate-purchases',
    ])
      expect(result.invariants.find((i) => i.name === name)?.valid, name).toBe(true);
    // The run folder: samples with the scraped series, junit, the page.
    for (const file of ['result.json', 'history.jsonl', 'samples.jsonl', 'index.html', 'junit.xml'])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Each scraped series is there (the Kafka figures come from their own loop, so on a loaded
    // machine they need not land in the same second as the database's).
    // (dlq_total comes only from the direct Kafka reads, which a starved broker may not answer:
    // then the workers' lag gauges stand in, and there is no dead-letter series to draw.)
    for (const key of ['lag_purchase-worker', 'outbox_backlog'])
      expect(
        samples.some((s) => key in s),
        key,
      ).toBe(true);
    expect(samples.some((s) => s.confirm_p95_ms > 0)).toBe(true);
  }, 300_000);

  it('FAILS with publish-before-commit planted, naming the invariant of the lost events', async () => {
    const scenario = await loadScenario('partition-kafka');
    const { result, exitCode } = await runChaos({
      scenario,
      reportsRoot,
      seed: 2,
      plantedFaults: ['publish-before-commit'],
      log: quiet,
    });
    expect(result.verdict).toBe('FAIL');
    expect(exitCode).toBe(1);
    expect(result.plantedFaults).toEqual(['publish-before-commit']);
    const broken = result.invariants.filter((i) => i.valid === false).map((i) => i.name);
    expect(broken).toEqual(expect.arrayContaining(['nothing-lost']));
    expect(broken.some((n) => n === 'outbox-drained' || n === 'events-processed')).toBe(true);
    expect(result.reason).toMatch(/invariant (nothing-lost|outbox-drained|events-processed) violated/);
    expect(result.replay).toContain('--faults publish-before-commit');
  }, 300_000);

  it('FAILS with no-kafka-republish planted, naming outbox-drained (events of the outage missing from Kafka)', async () => {
    const scenario = await loadScenario('partition-kafka');
    const { result, exitCode } = await runChaos({
      scenario,
      reportsRoot,
      seed: 3,
      plantedFaults: ['no-kafka-republish'],
      log: quiet,
    });
    expect(result.verdict).toBe('FAIL');
    expect(exitCode).toBe(1);
    const drained = result.invariants.find((i) => i.name === 'outbox-drained');
    expect(drained?.valid).toBe(false);
    expect(JSON.stringify(drained?.examples)).toContain('published-but-absent');
  }, 300_000);
});
