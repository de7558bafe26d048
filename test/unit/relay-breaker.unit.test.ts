// The relay's circuit breaker between Kafka and the Redis Streams fallback (issue 15), on a fake
// clock: it opens only after Kafka failed without a success for openAfterMs (from the send it left
// unanswered when a failure says so), closes only after
// Kafka answered without a failure for closeAfterMs, and a flapping Kafka does not make it oscillate.
import { describe, expect, it } from 'vitest';
import { TransportBreaker } from '../../system/relay/breaker.ts';

const make = () => {
  const changes: [string, number][] = [];
  const b = new TransportBreaker({
    openAfterMs: 3_000,
    closeAfterMs: 10_000,
    onChange: (to, at) => changes.push([to, at]),
  });
  return { b, changes };
};

describe('TransportBreaker', () => {
  it('stays on Kafka through failures shorter than openAfterMs, then opens', () => {
    const { b, changes } = make();
    b.observe(false, 0);
    b.observe(false, 2_000);
    expect(b.transport(2_999)).toBe('kafka');
    b.observe(true, 2_999); // one answer resets the run of failures
    b.observe(false, 4_000);
    expect(b.transport(6_999)).toBe('kafka');
    expect(b.transport(7_000)).toBe('stream');
    expect(changes).toEqual([['stream', 7_000]]);
  });

  it('closes only after closeAfterMs of continuous health, and calls the onOpen listeners once', () => {
    const { b, changes } = make();
    let abandoned = 0;
    const cancel = b.onOpen(() => abandoned++);
    b.onOpen(() => abandoned++)();
    b.observe(false, 0);
    b.observe(false, 3_000);
    expect(b.transport(3_000)).toBe('stream');
    expect(abandoned).toBe(1);
    cancel();
    b.observe(true, 5_000);
    b.observe(true, 14_999);
    expect(b.transport(14_999)).toBe('stream');
    expect(b.transport(15_000)).toBe('kafka');
    expect(changes.map(([to]) => to)).toEqual(['stream', 'kafka']);
    expect(abandoned).toBe(1);
  });

  it('does not oscillate while Kafka flaps (up 5 s, down 5 s for a minute): one move out, one back closeAfterMs after the last up-period began', () => {
    const { b, changes } = make();
    for (let t = 0; t < 60_000; t += 500) b.observe(Math.floor(t / 5_000) % 2 === 1, t);
    expect(changes).toEqual([['stream', 3_000]]);
    for (let t = 60_000; t <= 75_000; t += 500) b.observe(true, t);
    expect(changes).toEqual([
      ['stream', 3_000],
      ['kafka', 65_000],
    ]);
    expect(b.transitions).toBe(2);
  });

  it('says when a probe is not needed (a success younger than the probe interval)', () => {
    const { b } = make();
    expect(b.recentlyHealthy(0, 1_000)).toBe(false);
    b.observe(true, 100);
    expect(b.recentlyHealthy(1_099, 1_000)).toBe(true);
    expect(b.recentlyHealthy(1_100, 1_000)).toBe(false);
    b.observe(false, 1_200);
    expect(b.recentlyHealthy(1_300, 1_000)).toBe(false);
  });

  it('counts a failure that says since when a send is unanswered from that send, never from before the last success', () => {
    const { b, changes } = make();
    // A send started at 1 000; the probe that gives up at 2 800 says so: failing since 1 000.
    b.observe(false, 2_800, 1_000);
    expect(b.opensAt()).toBe(4_000);
    expect(b.transport(3_999)).toBe('kafka');
    expect(b.transport(4_000)).toBe('stream');
    expect(b.opensAt()).toBeUndefined();
    expect(changes).toEqual([['stream', 4_000]]);

    const other = make();
    other.b.observe(true, 1_500); // Kafka answered something after the send began
    other.b.observe(false, 2_800, 1_000);
    expect(other.b.opensAt()).toBe(4_500);
    expect(other.b.transport(4_499)).toBe('kafka');
    // A later failure does not move the start of the run; a success ends it.
    other.b.observe(false, 4_000, 0);
    expect(other.b.opensAt()).toBe(4_500);
    other.b.observe(true, 4_400);
    expect(other.b.opensAt()).toBeUndefined();
    expect(other.b.transport(10_000)).toBe('kafka');
    // A send's start in the future of the observation (a clock that went back) is not believed.
    other.b.observe(false, 11_000, 20_000);
    expect(other.b.opensAt()).toBe(14_000);
  });

  it('refuses negative durations', () => {
    expect(() => new TransportBreaker({ openAfterMs: -1, closeAfterMs: 0 })).toThrow(RangeError);
  });
});
