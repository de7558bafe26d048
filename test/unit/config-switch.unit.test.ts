// On/off switches from the environment (FALLBACK_TRANSPORT, PG_GENERIC_PLANS): unset is the
// default, `on` and `off` say so, anything else is refused rather than silently read as one of them.
import { describe, expect, it } from 'vitest';
import { fallbackEnabled, onOff } from '../../system/lib/config.ts';

describe('onOff', () => {
  it('unset gives the default, either way', () => {
    expect(onOff({}, 'PG_GENERIC_PLANS', true)).toBe(true);
    expect(onOff({}, 'PG_GENERIC_PLANS', false)).toBe(false);
  });
  it('on and off override the default', () => {
    expect(onOff({ PG_GENERIC_PLANS: 'off' }, 'PG_GENERIC_PLANS', true)).toBe(false);
    expect(onOff({ PG_GENERIC_PLANS: 'on' }, 'PG_GENERIC_PLANS', false)).toBe(true);
  });
  it('refuses any other value, naming the variable', () => {
    for (const v of ['0', '1', 'false', 'ON', ''])
      expect(() => onOff({ PG_GENERIC_PLANS: v }, 'PG_GENERIC_PLANS', true)).toThrow(
        `PG_GENERIC_PLANS=${v}: expected on or off`,
      );
  });
  it('FALLBACK_TRANSPORT is such a switch, on by default', () => {
    expect(fallbackEnabled({})).toBe(true);
    expect(fallbackEnabled({ FALLBACK_TRANSPORT: 'off' })).toBe(false);
    expect(() => fallbackEnabled({ FALLBACK_TRANSPORT: 'no' })).toThrow('FALLBACK_TRANSPORT=no');
  });
});
