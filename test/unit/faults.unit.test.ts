import { describe, expect, it } from 'vitest';
import { invariants } from '../../harness/checker/check.ts';
import { parseFaults, plantedFaults } from '../../system/lib/faults.ts';
import { catalogue, matrix, provenByChaos } from '../property/sim/matrix.ts';

describe('PAYPROOF_FAULTS', () => {
  it('is empty by default', () => {
    expect(parseFaults({}).size).toBe(0);
  });
  const optIn = { PAYPROOF_ALLOW_PLANTED_FAULTS: 'yes-i-am-testing' };
  it('parses a comma separated list of known faults', () => {
    expect([...parseFaults({ PAYPROOF_FAULTS: 'skip-inbox, allocate-without-lock', ...optIn })]).toEqual([
      'skip-inbox',
      'allocate-without-lock',
    ]);
    expect(plantedFaults).toHaveLength(19);
  });
  it('needs the explicit opt-in variable as well', () => {
    expect(() => parseFaults({ PAYPROOF_FAULTS: 'skip-inbox' })).toThrow(/PAYPROOF_ALLOW_PLANTED_FAULTS/);
    expect(() =>
      parseFaults({ PAYPROOF_FAULTS: 'skip-inbox', PAYPROOF_ALLOW_PLANTED_FAULTS: 'yes' }),
    ).toThrow(/PAYPROOF_ALLOW_PLANTED_FAULTS=yes-i-am-testing/);
  });
  it('refuses an unknown fault, naming it', () => {
    expect(() => parseFaults({ PAYPROOF_FAULTS: 'skip-inbox,typo', ...optIn })).toThrow(
      /unknown fault\(s\) typo/,
    );
  });
  it('refuses any planted fault in production', () => {
    expect(() => parseFaults({ PAYPROOF_FAULTS: 'skip-inbox', NODE_ENV: 'production', ...optIn })).toThrow(
      /refused with NODE_ENV=production/,
    );
    expect(parseFaults({ NODE_ENV: 'production' }).size).toBe(0);
    for (const f of plantedFaults)
      expect(() => parseFaults({ PAYPROOF_FAULTS: f, NODE_ENV: 'production', ...optIn }), f).toThrow(
        /refused/,
      );
  });
});

describe('the planted-bug catalogue (issue 12)', () => {
  it('names a planted bug for every invariant of the checker, and uses every planted bug', () => {
    expect(new Set(catalogue.map((r) => r.expect))).toEqual(new Set(Object.keys(invariants)));
    const used = new Set([
      ...[...catalogue, ...matrix].flatMap((r) => r.faults),
      ...Object.keys(provenByChaos),
    ]);
    expect([...plantedFaults].filter((f) => !used.has(f))).toEqual([]);
  });
});
