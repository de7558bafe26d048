// The random nemesis's pure half: generated schedules stay inside the load, parse back from their
// printed replay command, and shrink toward fewer, earlier, shorter faults.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  earliestS,
  latestEndS,
  nemesisFaults,
  parseSchedule,
  replayCommand,
  type ScheduledFault,
  scheduleArbitrary,
  shrinkCandidates,
  shrinkGreedy,
  toTimeline,
} from '../../harness/chaos/nemesis.ts';
import { formatMarkdown, formatTable, summaryRow, worstExitCode } from '../../harness/chaos/summary-table.ts';
import type { RunResult } from '../../harness/run/result.ts';

describe('fault schedules', () => {
  it('every generated schedule is 1-3 known faults, all healed before the end of the load', () => {
    fc.assert(
      fc.property(scheduleArbitrary(), (s) => {
        expect(s.length).toBeGreaterThanOrEqual(1);
        expect(s.length).toBeLessThanOrEqual(3);
        for (const f of s) {
          expect(Object.keys(nemesisFaults)).toContain(f.fault);
          expect(f.atS).toBeGreaterThanOrEqual(earliestS);
          expect(f.atS + f.forS).toBeLessThanOrEqual(latestEndS);
        }
        expect(toTimeline(s)).toHaveLength(s.length);
      }),
      { numRuns: 200 },
    );
  });

  it('the replay command carries the schedule as JSON that parses back to the same schedule', () => {
    fc.assert(
      fc.property(
        scheduleArbitrary(),
        fc.array(fc.constantFrom('publish-before-commit', 'skip-inbox')),
        (s, planted) => {
          const cmd = replayCommand(s, planted, 7);
          const json = /schedule '([^']+)'/.exec(cmd)![1]!;
          expect(parseSchedule(JSON.parse(json))).toEqual(s);
          expect(cmd.endsWith('--seed 7')).toBe(true);
          if (planted.length) expect(cmd).toContain(`--faults ${planted.join(',')}`);
        },
      ),
    );
  });

  it('refuses unknown faults and malformed entries, naming the field', () => {
    expect(() => parseSchedule([])).toThrow(/non-empty/);
    expect(() => parseSchedule([{ fault: 'meteor', atS: 1, forS: 1 }])).toThrow(/schedule\[0\]\.fault/);
    expect(() => parseSchedule([{ fault: 'partition-kafka', atS: -1, forS: 1 }])).toThrow(/atS and forS/);
  });

  it('shrinking moves toward one fault, as early and as short as allowed', () => {
    // A stand-in for a bug that any partition of Kafka reveals: fast-check must find the minimum.
    const details = fc.check(
      fc.property(scheduleArbitrary(), (s) => !s.some((f) => f.fault === 'partition-kafka')),
      { seed: 42, numRuns: 500 },
    );
    expect(details.failed).toBe(true);
    const smallest = details.counterexample![0] as ScheduledFault[];
    expect(smallest).toEqual([{ fault: 'partition-kafka', atS: earliestS, forS: 2 }]);
    expect(describeSchedule(smallest)).toBe(`partition-kafka@${earliestS}s+2s`);
  });
});

describe('greedy shrinking', () => {
  const pk = { fault: 'partition-kafka', atS: 14, forS: 9 };
  const lat = { fault: 'latency-postgres', atS: 6, forS: 3 };
  const kr = { fault: 'kill-relay', atS: 10, forS: 5 };

  it('tries dropping each fault first, then each fault shorter and earlier', () => {
    const c = shrinkCandidates([pk, lat]);
    expect(c.slice(0, 2)).toEqual([[lat], [pk]]);
    expect(c).toContainEqual([{ ...pk, forS: 2 }, lat]);
    expect(c).toContainEqual([{ ...pk, forS: 5 }, lat]);
    expect(c).toContainEqual([{ ...pk, atS: earliestS }, lat]);
    expect(c).toContainEqual([{ ...pk, atS: 9 }, lat]);
    expect(shrinkCandidates([{ fault: 'kill-relay', atS: earliestS, forS: 2 }])).toEqual([]);
  });

  it('reaches the one fault that matters, as short and early as still fails', async () => {
    // The "bug": any Kafka partition of at least 4 s loses events.
    const fails = async (s: ScheduledFault[]) => s.some((f) => f.fault === 'partition-kafka' && f.forS >= 4);
    const r = await shrinkGreedy([lat, kr, pk], fails, () => false);
    expect(r.smallest).toEqual([{ fault: 'partition-kafka', atS: earliestS, forS: 4 }]);
    expect(r.timeBoxed).toBe(false);
    expect(r.steps).toBeGreaterThanOrEqual(3);
  });

  it('stops at the time box with the smallest schedule seen failing so far', async () => {
    let budget = 2;
    const r = await shrinkGreedy(
      [lat, kr, pk],
      async () => true,
      () => budget-- <= 0,
    );
    expect(r).toMatchObject({ steps: 2, tried: 2, timeBoxed: true });
    expect(r.smallest).toHaveLength(1);
  });
});

describe('summary table', () => {
  const result = (scenario: string, verdict: RunResult['verdict'], figures: RunResult['figures']) =>
    ({
      scenario: `chaos:${scenario}`,
      verdict,
      durationS: 88.4,
      reason: 'x',
      figures,
    }) as unknown as RunResult;

  it('shows the per-scenario figures, a dash for what was not measured', () => {
    const rows = [
      summaryRow(
        result('partition-kafka', 'PASS', {
          during_confirms: 3420,
          during_confirm_p95_ms: 11.2,
          time_to_recover_s: 4.8,
          events_processed: 35260,
          duplicates_delivered: 197,
          duplicates_absorbed: 4458,
        }),
      ),
      summaryRow(result('kill-relay', 'FAIL', {})),
    ];
    const text = formatTable(rows);
    expect(text).toMatch(/partition-kafka\s+PASS\s+88\s+3420\s+11\s+4\.8\s+35260\s+197\s+4458/);
    expect(text).toMatch(/kill-relay\s+FAIL\s+88(\s+–){6}/);
    expect(formatMarkdown(rows).split('\n')).toHaveLength(4);
  });

  it('the exit code of several runs: any FAIL is 1, else any UNKNOWN is 2', () => {
    expect(worstExitCode(['PASS', 'PASS'])).toBe(0);
    expect(worstExitCode(['PASS', 'UNKNOWN'])).toBe(2);
    expect(worstExitCode(['UNKNOWN', 'FAIL', 'PASS'])).toBe(1);
  });
});
