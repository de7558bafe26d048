// PostgreSQL's settings: the tuned ones, and the experiment hook that may never weaken durability.
import { describe, expect, it } from 'vitest';
import { experimentSettings, tunedSettings } from '../../harness/stack/postgres.ts';

describe('PostgreSQL settings', () => {
  it('an experiment adds its settings after the tuned ones, so they win', () => {
    const s = tunedSettings({ PAYPROOF_PG_SETTINGS: 'commit_delay=20, commit_siblings=5' });
    expect(s.slice(-2)).toEqual(['commit_delay=20', 'commit_siblings=5']);
    expect(s).toContain('shared_buffers=256MB');
  });

  it('no experiment, no extra setting', () => {
    expect(experimentSettings(undefined)).toEqual([]);
    expect(experimentSettings(' ')).toEqual([]);
    expect(tunedSettings({})).toEqual(tunedSettings({ PAYPROOF_PG_SETTINGS: '' }));
  });

  it('refuses what would weaken durability, and what is not name=value', () => {
    for (const bad of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'])
      expect(() => experimentSettings(bad)).toThrow(/durability/);
    expect(() => experimentSettings('commit_delay')).toThrow(/name=value/);
    expect(() => experimentSettings('a=b=c')).toThrow(/name=value/);
  });
});
