// The stalled-consumer watchdog (issue 17): silence with Kafka answering is a stall; a batch in
// progress, an outage, or any fetch is not.
import { describe, expect, it } from 'vitest';
import { ConsumerWatchdog } from '../../system/lib/consumer-watchdog.ts';

function dog(stallMs = 60_000) {
  let t = 0;
  let up = true;
  const w = new ConsumerWatchdog({ stallMs, kafkaUp: () => up, now: () => t });
  return {
    w,
    advance: (ms: number) => {
      t += ms;
    },
    setUp: (u: boolean) => {
      up = u;
    },
  };
}

describe('ConsumerWatchdog', () => {
  it('calls a consumer that fetched nothing for stallMs, Kafka answering, stalled', () => {
    const { w, advance } = dog();
    advance(59_999);
    expect(w.stalledForMs()).toBeUndefined();
    advance(1);
    expect(w.stalledForMs()).toBe(60_000);
  });

  it('any fetch, join or batch end starts the silence again', () => {
    const { w, advance } = dog();
    advance(50_000);
    w.activity();
    advance(50_000);
    expect(w.stalledForMs()).toBeUndefined();
    w.batchStart();
    w.batchEnd();
    advance(59_000);
    expect(w.stalledForMs()).toBeUndefined();
  });

  it('a batch in progress is never a stall, however long (a chunk retried while the database is away)', () => {
    const { w, advance } = dog();
    w.batchStart();
    advance(10 * 60_000);
    expect(w.stalledForMs()).toBeUndefined();
    w.batchEnd();
    advance(60_000);
    expect(w.stalledForMs()).toBe(60_000);
  });

  it('an outage is not a stall, and the clock starts again when Kafka answers', () => {
    const { w, advance, setUp } = dog();
    setUp(false);
    advance(5 * 60_000);
    expect(w.stalledForMs()).toBeUndefined();
    setUp(true);
    advance(30_000);
    expect(w.stalledForMs()).toBeUndefined();
    advance(30_000);
    expect(w.stalledForMs()).toBe(60_000);
  });

  it('a crash or a rejoin ends the batches kafkajs never reported ended', () => {
    const { w, advance } = dog();
    w.batchStart();
    w.reset();
    advance(60_000);
    expect(w.stalledForMs()).toBe(60_000);
  });
});
