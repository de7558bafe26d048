// The nemesis of one run: timeline order, overlapping holds, healing on every path out (the end of
// the timeline, an early stop, a heal that throws), and the gate before the first fault.
import { describe, expect, it } from 'vitest';
import { createHolds, FaultController, planEvents } from '../../harness/chaos/controller.ts';
import { once } from '../../harness/chaos/network-faults.ts';
import type { Fault, FaultContext, TimelineStep } from '../../harness/chaos/scenario.ts';

/** A fault that records what happened to it, in order, in `log`. */
function fake(
  name: string,
  log: string[],
  opts: { healThrows?: boolean; injectThrows?: boolean; healDelayMs?: number } = {},
): Fault {
  return {
    label: name,
    kind: 'fake',
    target: name,
    async inject(ctx) {
      if (opts.injectThrows) throw new Error(`cannot inject ${name}`);
      const n = ctx.holds.acquire('shared');
      log.push(`inject ${name} (holds ${n})`);
      return once(async () => {
        if (opts.healDelayMs) await new Promise((r) => setTimeout(r, opts.healDelayMs));
        const left = ctx.holds.release('shared');
        log.push(`heal ${name} (left ${left})`);
        if (opts.healThrows) throw new Error(`heal of ${name} hangs`);
      });
    },
  };
}

function controller(timeline: TimelineStep[], extra: { gate?: () => string | undefined } = {}) {
  const t0 = performance.now();
  const holds = createHolds();
  const lines: string[] = [];
  const c = new FaultController({
    timeline,
    nowS: () => (performance.now() - t0) / 1_000,
    log: (l) => lines.push(l),
    pids: () => [],
    // Nothing listens here: the last resort's reset fails fast and is recorded, not thrown.
    toxiproxyUrl: 'http://127.0.0.1:9',
    context: (id) => ({ holds, id }) as unknown as FaultContext,
    ...extra,
  });
  return { c, lines };
}

describe('planEvents', () => {
  it('orders injections and heals by time; at the same time injections first (a kill before its own heal)', () => {
    const f = fake('x', []);
    const events = planEvents([
      { at: '2s', for: '1s', fault: f },
      { at: '1s', for: '2s', fault: f },
      { at: '3s', fault: f },
    ]);
    expect(events).toEqual([
      { atMs: 1000, step: 1, heal: false },
      { atMs: 2000, step: 0, heal: false },
      { atMs: 3000, step: 2, heal: false },
      { atMs: 3000, step: 0, heal: true },
      { atMs: 3000, step: 1, heal: true },
      { atMs: 3000, step: 2, heal: true },
    ]);
  });
});

describe('holds', () => {
  it('count overlapping faults on one resource: only the last release heals', () => {
    const h = createHolds();
    expect(h.acquire('kafka')).toBe(1);
    expect(h.acquire('kafka')).toBe(2);
    expect(h.release('kafka')).toBe(1);
    expect(h.release('kafka')).toBe(0);
    expect(h.release('kafka')).toBe(0);
  });
});

describe('FaultController', () => {
  it('applies overlapping faults in time order and records their intervals', async () => {
    const log: string[] = [];
    const { c } = controller([
      { at: '0ms', for: '300ms', fault: fake('a', log) },
      { at: '100ms', for: '100ms', fault: fake('b', log) },
    ]);
    c.start(0);
    await c.finished();
    expect(log).toEqual(['inject a (holds 1)', 'inject b (holds 2)', 'heal b (left 1)', 'heal a (left 0)']);
    expect(c.injected).toBe(2);
    expect(c.intervals.map((i) => i.label)).toEqual(['b', 'a']);
    const a = c.intervals.find((i) => i.label === 'a')!;
    expect(a.endS! - a.startS).toBeGreaterThanOrEqual(0.25);
    expect(c.faulty).toBe(false);
  });

  it('gives the load every fault still on, being healed included, with no end', async () => {
    // A broker restart's heal waits for the broker: a load that ends meanwhile must still see the
    // fault, or its `during` phase (and that phase's thresholds) would be left out.
    const log: string[] = [];
    const { c } = controller([{ at: '0ms', for: '50ms', fault: fake('slow', log, { healDelayMs: 300 }) }]);
    c.start(0);
    await new Promise((r) => setTimeout(r, 25));
    expect(c.relativeToLoad()).toEqual([{ label: 'slow', startS: expect.any(Number), endS: null }]);
    await new Promise((r) => setTimeout(r, 150));
    expect(log).toEqual(['inject slow (holds 1)']);
    expect(c.relativeToLoad()).toEqual([{ label: 'slow', startS: expect.any(Number), endS: null }]);
    await c.finished();
    const [done] = c.relativeToLoad();
    expect(c.relativeToLoad()).toHaveLength(1);
    expect(done!.endS! - done!.startS).toBeGreaterThanOrEqual(0.3);
  });

  it('a fault injected late, behind a slow heal, still stays on for its whole `for`', async () => {
    // kill-leader: the first broker's heal waits for every replica (31-42 s here), the second kill
    // comes late; it must not be healed the moment it lands.
    const log: string[] = [];
    const { c } = controller([
      { at: '0ms', for: '50ms', fault: fake('slow', log, { healDelayMs: 300 }) },
      { at: '100ms', for: '200ms', fault: fake('late', log) },
    ]);
    c.start(0);
    await c.finished();
    expect(log).toEqual([
      'inject slow (holds 1)',
      'heal slow (left 0)',
      'inject late (holds 1)',
      'heal late (left 0)',
    ]);
    const late = c.intervals.find((i) => i.label === 'late')!;
    expect(late.startS).toBeGreaterThanOrEqual(0.34);
    expect(late.endS! - late.startS).toBeGreaterThanOrEqual(0.19);
  });

  it('healAll stops the timeline early and heals what is on, once', async () => {
    const log: string[] = [];
    const { c } = controller([
      { at: '0ms', for: '10s', fault: fake('long', log) },
      { at: '5s', for: '1s', fault: fake('never', log) },
    ]);
    c.start(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.faulty).toBe(true);
    expect(c.activeLabels()).toEqual(['long']);
    await c.healAll('probe breached');
    await c.healAll('again');
    expect(log).toEqual(['inject long (holds 1)', 'heal long (left 0)']);
    expect(c.stopped).toBe(true);
    expect(c.intervals).toHaveLength(1);
  });

  it('a heal that throws falls back to the last resort and is recorded, never thrown', async () => {
    const log: string[] = [];
    const { c } = controller([{ at: '0ms', for: '50ms', fault: fake('stuck', log, { healThrows: true }) }]);
    c.start(0);
    await c.finished();
    await c.healAll('end');
    expect(c.errors.join()).toMatch(/heal stuck failed: heal of stuck hangs/);
    expect(c.unhealed.join()).toMatch(/toxiproxy reset/);
    expect(c.intervals).toHaveLength(1);
  });

  it('an injection that fails is recorded and its heal skipped', async () => {
    const log: string[] = [];
    const { c } = controller([
      { at: '0ms', for: '10ms', fault: fake('broken', log, { injectThrows: true }) },
    ]);
    c.start(0);
    await c.finished();
    expect(c.injected).toBe(0);
    expect(c.errors).toEqual(['inject broken failed: cannot inject broken']);
    expect(c.intervals).toEqual([]);
  });

  it('the gate cancels the whole timeline when the steady state does not hold', async () => {
    const log: string[] = [];
    const { c, lines } = controller([{ at: '0ms', for: '10ms', fault: fake('a', log) }], {
      gate: () => 'confirm p95 900 > 800',
    });
    c.start(0);
    await c.finished();
    expect(log).toEqual([]);
    expect(c.gateFailure).toBe('confirm p95 900 > 800');
    expect(lines.join('\n')).toMatch(/steady state not met/);
  });
});

describe('active faults (the progress line)', () => {
  it('a fault counts as on from the start of its injection (a kill that waits for the restart), until healed', async () => {
    let release!: () => void;
    const injected = new Promise<void>((r) => {
      release = r;
    });
    const slow: Fault = {
      label: 'slow kill',
      kind: 'kill',
      target: 'w',
      async inject() {
        await injected;
        return async () => undefined;
      },
    };
    const { c } = controller([{ at: '0s', for: '10s', fault: slow }]);
    c.start(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.active().map((a) => [a.label, a.step])).toEqual([['slow kill', 0]]);
    expect(c.faulty).toBe(false); // injected only once inject returns
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.active().map((a) => a.label)).toEqual(['slow kill']);
    expect(c.faulty).toBe(true);
    await c.healAll('test over');
    expect(c.active()).toEqual([]);
  });
});
