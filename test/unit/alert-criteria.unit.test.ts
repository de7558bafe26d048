// The alert criteria of a chaos run, on recorded samples: fired-within, cleared-within (and still
// clear at the end), no alert in the steady state before the first fault; each can fail.
import { describe, expect, it } from 'vitest';
import {
  alertCriteria,
  alertIntervals,
  alertNames,
  alertSample,
  clearedAfter,
  firedAfter,
  firstInjectionS,
} from '../../harness/chaos/alert-criteria.ts';
import { loadCatalogue } from '../../harness/chaos/catalogue.ts';

const k = 'alert_PayproofWorkerRestarted';
/** One sample a second from t = 0; `on` lists the seconds the alert fires. */
const samples = (n: number, on: (t: number) => boolean) =>
  Array.from({ length: n }, (_, t) => ({ t, [k]: on(t) ? 1 : 0, alert_PayproofWorkerDown: 0 }));
const names = ['PayproofWorkerRestarted', 'PayproofWorkerDown'];
const expected = [{ alert: 'PayproofWorkerRestarted', within: '5s', clearWithin: '10s' }];

describe('alert criteria', () => {
  it('pass when the alert fires within its bound after the fault and clears within its bound after the heal', () => {
    const s = samples(40, (t) => t >= 13 && t < 25);
    expect(firedAfter(s, 'PayproofWorkerRestarted', 10)).toBe(3);
    expect(clearedAfter(s, 'PayproofWorkerRestarted', 20)).toBe(5);
    const c = alertCriteria({ samples: s, names, expected, loadStartS: 0, firstFaultS: 10, lastHealS: 20 });
    expect(c.map((x) => [x.measured, x.pass])).toEqual([
      [0, true],
      [3, true],
      [5, true],
    ]);
  });

  it('fail when the alert is late, never clears, or fired before the fault', () => {
    const late = alertCriteria({
      samples: samples(40, (t) => t >= 18),
      names,
      expected,
      loadStartS: 0,
      firstFaultS: 10,
      lastHealS: 20,
    });
    expect(late.map((x) => x.pass)).toEqual([true, false, false]);
    const noisy = alertCriteria({
      samples: samples(40, (t) => (t >= 4 && t < 6) || (t >= 12 && t < 22)),
      names,
      expected,
      loadStartS: 0,
      firstFaultS: 10,
      lastHealS: 20,
    });
    expect(noisy[0]).toMatchObject({ measured: 2, pass: false });
    // Flapping back on after clearing is not cleared.
    expect(
      clearedAfter(
        samples(40, (t) => t === 25),
        'PayproofWorkerRestarted',
        20,
      ),
    ).toBe(26 - 20);
    expect(
      clearedAfter(
        samples(40, (t) => t >= 25),
        'PayproofWorkerRestarted',
        20,
      ),
    ).toBeUndefined();
  });

  it('judge nothing when Prometheus was never read, and expect nothing when no fault was injected', () => {
    expect(
      alertCriteria({ samples: [{ t: 1 }], names, expected, loadStartS: 0, firstFaultS: 10, lastHealS: 20 }),
    ).toEqual([]);
    const none = alertCriteria({
      samples: samples(10, () => false),
      names,
      expected,
      loadStartS: 0,
      firstFaultS: undefined,
      lastHealS: undefined,
    });
    expect(none).toEqual([]);
  });

  it('fail when an alert declared silent fires after the first fault; pass while it stays silent', () => {
    const k2 = 'alert_PayproofWorkerDown';
    const s = (on: (t: number) => boolean) =>
      Array.from({ length: 40 }, (_, t) => ({ t, [k]: 0, [k2]: on(t) ? 1 : 0 }));
    const judge = (on: (t: number) => boolean) =>
      alertCriteria({
        samples: s(on),
        names,
        expected: [],
        silent: ['PayproofWorkerDown'],
        loadStartS: 0,
        firstFaultS: 10,
        lastHealS: 20,
      }).find((c) => c.name.startsWith('alerts declared silent'));
    expect(judge(() => false)).toMatchObject({ measured: 0, pass: true });
    // During the fault, and after the heal: both count.
    expect(judge((t) => t >= 12 && t < 15)).toMatchObject({ measured: 3, pass: false });
    expect(judge((t) => t >= 30 && t < 32)).toMatchObject({ measured: 2, pass: false });
    expect(judge((t) => t >= 30 && t < 32)!.name).toContain('PayproofWorkerDown 2 s');
  });

  it('the steady state ends at the earliest injection, not at the first interval recorded', () => {
    // slow-close: three 20 s faults from 10 s, a kill at 15 s that ends first (and is recorded first).
    expect(
      firstInjectionS([
        { startS: 15.5, endS: 18.5 },
        { startS: 10.5, endS: 30.5 },
        { startS: 10.4, endS: 30.5 },
      ]),
    ).toBe(10.4);
    expect(firstInjectionS([])).toBeUndefined();
  });

  it('every alert a scenario declares (to fire or to stay silent) is a rule of the rules file', async () => {
    const rules = new Set(alertNames());
    for (const sc of await loadCatalogue()) {
      for (const a of sc.alerts?.fire ?? []) expect(rules, `${sc.name} fires ${a.alert}`).toContain(a.alert);
      for (const a of sc.alerts?.silent ?? []) expect(rules, `${sc.name} keeps ${a} silent`).toContain(a);
    }
  });

  it('reads every alert of the rules file and turns /api/v1/alerts into one sample', () => {
    expect(alertNames()).toContain('PayproofOutboxBacklogGrowing');
    expect(alertNames()).toHaveLength(11);
    const s = alertSample(names, [
      { labels: { alertname: 'PayproofWorkerRestarted', instance: 'a' }, state: 'firing' },
      { labels: { alertname: 'PayproofWorkerRestarted', instance: 'b' }, state: 'firing' },
      { labels: { alertname: 'PayproofWorkerDown', instance: 'a' }, state: 'pending' },
    ]);
    expect(s).toEqual({ alert_PayproofWorkerRestarted: 2, alert_PayproofWorkerDown: 0 });
    expect(
      alertIntervals(
        samples(10, (t) => t >= 3 && t < 6),
        names,
      ),
    ).toBe('PayproofWorkerRestarted 3-6 s');
  });
});
