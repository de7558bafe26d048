// The stalled-consumer watchdog (issue 17): silence with Kafka answering is a stall; a batch in
// progress, an outage, a frozen process, or any fetch is not.
import { describe, expect, it } from 'vitest';
import { ConsumerWatchdog } from '../../system/lib/consumer-watchdog.ts';

const every = 5_000;

/** A watchdog on a fake clock; `run(ms)` lets ms pass with a check every 5 s, as the worker does. */
function dog(stallMs = 30_000) {
  let t = 0;
  let up = true;
  const w = new ConsumerWatchdog({ stallMs, kafkaUp: () => up, checkEveryMs: every, now: () => t });
  return {
    w,
    /** Checks every 5 s for ms; the first stall seen (or the last answer). */
    run: (ms: number): number | undefined => {
      let out: number | undefined;
      for (let left = ms; left > 0; left -= every) {
        t += Math.min(every, left);
        out = w.check();
        if (out !== undefined) return out;
      }
      return out;
    },
    /** Time passes with no check at all: the process was stopped. */
    freeze: (ms: number) => {
      t += ms;
    },
    setUp: (u: boolean) => {
      up = u;
    },
  };
}

describe('ConsumerWatchdog', () => {
  it('calls a consumer that fetched nothing for stallMs, Kafka answering, stalled', () => {
    const { run } = dog();
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('any fetch, join or batch end starts the silence again', () => {
    const { w, run } = dog();
    run(25_000);
    w.activity();
    expect(run(25_000)).toBeUndefined();
    w.batchStart();
    w.batchEnd();
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('a batch in progress is never a stall, however long (a chunk retried while the database is away)', () => {
    const { w, run } = dog();
    w.batchStart();
    expect(run(10 * 60_000)).toBeUndefined();
    w.batchEnd();
    expect(run(30_000)).toBe(30_000);
  });

  it('an outage is not a stall, and the clock starts again when Kafka answers', () => {
    const { run, setUp } = dog();
    setUp(false);
    expect(run(5 * 60_000)).toBeUndefined();
    setUp(true);
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('a crash or a rejoin ends the batches kafkajs never reported ended', () => {
    const { w, run } = dog();
    w.batchStart();
    w.reset();
    expect(run(30_000)).toBe(30_000);
  });

  it('a process frozen longer than stallMs (SIGSTOP) gets its full stallMs after it resumes', () => {
    const { run, freeze } = dog();
    run(10_000);
    freeze(60_000); // pause-worker: no check, no fetch
    expect(run(5_000)).toBeUndefined(); // the first check after SIGCONT is late: not a stall
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('a check late by less than twice its period still counts the silence', () => {
    const { run, freeze, w } = dog();
    run(20_000);
    freeze(9_000);
    expect(w.check()).toBeUndefined(); // 9 s late (< 2 periods): 29 s of silence, under 30
    expect(run(5_000)).toBe(34_000);
  });

  it('commits refused for stallMs are a stall even while a batch is in progress (kafkajs talking to the old coordinator)', () => {
    const { w, run } = dog();
    w.batchStart();
    w.commit(false);
    expect(run(25_000)).toBeUndefined();
    w.activity(); // fetches and heartbeats go on: the loop looks busy
    w.commit(false);
    expect(run(5_000)).toBe(30_000);
  });

  it('one commit the broker takes ends the run of refusals', () => {
    const { w, run } = dog();
    w.batchStart();
    w.commit(false);
    expect(run(25_000)).toBeUndefined();
    w.commit(true);
    w.commit(false);
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('commits refused while Kafka does not answer are an outage, not a stall', () => {
    const { w, run, setUp } = dog();
    w.batchStart();
    w.commit(false);
    setUp(false);
    expect(run(2 * 60_000)).toBeUndefined();
    setUp(true);
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('a rejoin ends the run of refusals: the committer forgot what it had queued', () => {
    const { w, run } = dog();
    w.commit(false);
    expect(run(20_000)).toBeUndefined();
    w.reset();
    expect(run(25_000)).toBeUndefined();
    w.activity();
    expect(run(25_000)).toBeUndefined();
  });

  it('a refused commit counts from when it was sent, not from when kafkajs gave up retrying it (kill-leader, 2026-12-03)', () => {
    const { w, run } = dog();
    w.batchStart();
    w.commitSent(0);
    expect(run(25_000)).toBeUndefined(); // kafkajs retrying NOT_COORDINATOR inside one call
    w.activity();
    w.commit(false, 0); // reported 25 s after it was sent
    expect(run(5_000)).toBe(30_000); // not 55 s, as when the run started at the report
  });

  it('a commit unanswered for stallMs is a stall, the batch awaiting it being blocked', () => {
    const { w, run } = dog();
    w.batchStart();
    w.commitSent(0);
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });

  it('a commit answered in time is not a stall, whatever came before it', () => {
    const { w, run } = dog();
    w.batchStart();
    w.commitSent(0);
    expect(run(25_000)).toBeUndefined();
    w.commit(true, 0);
    expect(run(10 * 60_000)).toBeUndefined();
  });

  it('a commit in flight through an outage gets its full stallMs after Kafka answers again', () => {
    const { w, run, setUp } = dog();
    w.batchStart();
    w.commitSent(0);
    run(10_000);
    setUp(false);
    expect(run(60_000)).toBeUndefined();
    setUp(true);
    expect(run(25_000)).toBeUndefined(); // the outage ended at 70 s: counted from there
    w.commit(false, 0); // refused, sent before the outage: still counted from its end
    expect(run(5_000)).toBe(30_000);
  });

  it('a rejoin gives a commit still in flight its full stallMs', () => {
    const { w, run } = dog();
    w.commitSent(0);
    expect(run(20_000)).toBeUndefined();
    w.reset();
    expect(run(25_000)).toBeUndefined();
    expect(run(5_000)).toBe(30_000);
  });
});
