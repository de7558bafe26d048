// The status line of a load or chaos run, phase by phase: warm-up, load with the fault on (at 12 s
// of 15 s), converging with the backlog and the lag, checking.
import { describe, expect, it } from 'vitest';
import { formatRunProgress } from '../../harness/cli/run-progress.ts';

describe('formatRunProgress', () => {
  it('warm-up: VUs, requests/s, confirm p95, errors', () => {
    expect(
      formatRunProgress({
        elapsedS: 3,
        phase: 'warm-up',
        loadS: 0,
        loadTotalS: 30,
        healed: 0,
        vus: 50,
        rps: 180.4,
        confirmP95Ms: 930.2,
        errors: 0,
      }),
    ).toBe('[00:03] setup and warm-up · 50 VUs · 180 req/s · confirm p95 930 ms · 0 errors');
  });

  it('setup: nothing measured yet', () => {
    expect(
      formatRunProgress({ elapsedS: 1, phase: 'setup', loadS: 0, loadTotalS: 10, healed: 0, errors: 0 }),
    ).toBe('[00:01] setup (fixtures) · 0 errors');
  });

  it('load with a fault on: elapsed of planned, the fault at 12 s of 15 s', () => {
    expect(
      formatRunProgress({
        elapsedS: 27.4,
        phase: 'load',
        loadS: 20.6,
        loadTotalS: 30,
        fault: { label: 'partition-kafka', onS: 12.2, forS: 15 },
        healed: 0,
        vus: 100,
        rps: 212,
        confirmP95Ms: 45.4,
        errors: 3,
        outboxBacklog: 800,
        lag: 10,
      }),
    ).toBe(
      '[00:27] load 20/30 s · fault partition-kafka at 12 of 15 s · 100 VUs · 212 req/s · confirm p95 45 ms · 3 errors',
    );
  });

  it('load after the faults healed, with no sample yet for the latency', () => {
    expect(
      formatRunProgress({ elapsedS: 61, phase: 'load', loadS: 50, loadTotalS: null, healed: 2, errors: 7 }),
    ).toBe('[01:01] load 50 s · 2 faults healed · – VUs · – req/s · confirm p95 – · 7 errors');
  });

  it('converging and checking: the outbox backlog and the consumer lag instead of the load', () => {
    expect(
      formatRunProgress({
        elapsedS: 75,
        phase: 'converging',
        loadS: 40,
        loadTotalS: 30,
        healed: 1,
        errors: 7,
        outboxBacklog: 120,
        lag: 340,
      }),
    ).toBe('[01:15] converging · 7 errors · outbox backlog 120 · consumer lag 340');
    expect(
      formatRunProgress({
        elapsedS: 90,
        phase: 'checking',
        loadS: 40,
        loadTotalS: 30,
        healed: 1,
        errors: 7,
        outboxBacklog: 0,
        lag: 0,
      }),
    ).toBe('[01:30] checking invariants · 7 errors · outbox backlog 0 · consumer lag 0');
  });
});
