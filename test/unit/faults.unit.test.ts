import { describe, expect, it } from 'vitest';
import { parseFaults, plantedFaults } from '../../system/lib/faults.ts';

describe('PAYPROOF_FAULTS', () => {
  it('is empty by default', () => {
    expect(parseFaults({}).size).toBe(0);
  });
  it('parses a comma separated list of known faults', () => {
    expect([...parseFaults({ PAYPROOF_FAULTS: 'skip-inbox, allocate-without-lock' })]).toEqual([
      'skip-inbox',
      'allocate-without-lock',
    ]);
    expect(plantedFaults).toHaveLength(6);
  });
  it('refuses an unknown fault, naming it', () => {
    expect(() => parseFaults({ PAYPROOF_FAULTS: 'skip-inbox,typo' })).toThrow(/unknown fault\(s\) typo/);
  });
  it('refuses any planted fault in production', () => {
    expect(() => parseFaults({ PAYPROOF_FAULTS: 'skip-inbox', NODE_ENV: 'production' })).toThrow(
      /refused with NODE_ENV=production/,
    );
    expect(parseFaults({ NODE_ENV: 'production' }).size).toBe(0);
  });
});
