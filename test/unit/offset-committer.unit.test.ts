// The OffsetCommitter's queue (issue 17): a refused commit is queued again and retried on its own
// (an idle consumer's last offsets land; a consumer that can never commit keeps failing, which the
// stall watchdog counts), a newer offset wins over the refused one, and after the group was joined
// again nothing queued before is committed (the partitions may be another member's).
import { describe, expect, it, vi } from 'vitest';
import { type ConsumerDeps, OffsetCommitter } from '../../system/lib/consumer.ts';
import { createLogger } from '../../system/lib/log.ts';

type Offset = { topic: string; partition: number; offset: string };

function committerOver(answers: boolean[]) {
  const calls: Offset[][] = [];
  const consumer = {
    commitOffsets: async (o: Offset[]) => {
      calls.push(o.map((x) => ({ ...x })));
      if (answers.shift() === false) throw new Error('This is not the correct coordinator for this group');
    },
  };
  const deps = { consumer, log: createLogger('committer-test', 'silent') } as unknown as ConsumerDeps;
  const c = new OffsetCommitter(deps, 0);
  const outcomes: boolean[] = [];
  const events: string[] = [];
  c.onCommit({
    sent: (at) => events.push(`sent ${at}`),
    ended: (ok, at) => {
      outcomes.push(ok);
      events.push(`${ok ? 'took' : 'refused'} ${at}`);
    },
  });
  return { c, calls, outcomes, events };
}

describe('OffsetCommitter', () => {
  it('queues a refused commit again and retries it with no new event', async () => {
    vi.useFakeTimers();
    try {
      const { c, calls, outcomes } = committerOver([false, true]);
      await c.add('t', 0, '10');
      expect(outcomes).toEqual([false]);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(calls).toEqual([
        [{ topic: 't', partition: 0, offset: '10' }],
        [{ topic: 't', partition: 0, offset: '10' }],
      ]);
      expect(outcomes).toEqual([false, true]);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls).toHaveLength(2); // landed: nothing more to send
    } finally {
      vi.useRealTimers();
    }
  });

  it('tells the watchdog when each commit was sent, and ends it with that same time (kafkajs retries inside one call)', async () => {
    vi.useFakeTimers();
    try {
      const { c, events } = committerOver([false, true]);
      await c.add('t', 0, '10');
      await vi.advanceTimersByTimeAsync(1_000);
      expect(events).toHaveLength(4);
      const [sent1, refused, sent2, took] = events.map((e) => e.split(' '));
      expect([sent1![0], refused![0], sent2![0], took![0]]).toEqual(['sent', 'refused', 'sent', 'took']);
      expect(refused![1]).toBe(sent1![1]);
      expect(took![1]).toBe(sent2![1]);
      expect(Number(sent2![1])).toBeGreaterThanOrEqual(Number(sent1![1]) + 1_000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a newer offset of the partition wins over the refused one', async () => {
    vi.useFakeTimers();
    try {
      const { c, calls } = committerOver([false, true]);
      await c.add('t', 0, '10');
      await c.add('t', 0, '12'); // queued after the refusal: replaces offset 10, sent at once
      expect(calls.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '12' }]);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls.flat().filter((o) => o.offset === '10')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('forget() (the group joined again) drops what is queued and what a refusal would queue', async () => {
    vi.useFakeTimers();
    try {
      const { c, calls } = committerOver([false, false, false]);
      await c.add('t', 0, '10');
      c.forget();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
  it('a commit refused after forget() was called during it is not queued again', async () => {
    vi.useFakeTimers();
    try {
      const calls: Offset[][] = [];
      let refuse: (err: Error) => void = () => {};
      let sent: () => void = () => {};
      const inFlight = new Promise<void>((r) => {
        sent = r;
      });
      const consumer = {
        commitOffsets: (o: Offset[]) => {
          calls.push(o.map((x) => ({ ...x })));
          sent();
          return new Promise<void>((_resolve, reject) => {
            refuse = reject;
          });
        },
      };
      const deps = { consumer, log: createLogger('committer-test', 'silent') } as unknown as ConsumerDeps;
      const c = new OffsetCommitter(deps, 0);
      const adding = c.add('t', 0, '10');
      await inFlight;
      c.forget(); // the group was joined again while the commit was in flight
      refuse(new Error('The coordinator is not aware of this member'));
      await adding;
      await vi.advanceTimersByTimeAsync(5_000);
      await c.flush();
      expect(calls).toEqual([[{ topic: 't', partition: 0, offset: '10' }]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the batch waits for an unanswered commit at most maxWaitMs, and not at all while it is unanswered; the outcome still comes', async () => {
    vi.useFakeTimers();
    try {
      const calls: Offset[][] = [];
      const answers: ((ok: boolean) => void)[] = [];
      const consumer = {
        commitOffsets: (o: Offset[]) => {
          calls.push(o.map((x) => ({ ...x })));
          return new Promise<void>((resolve, reject) => {
            answers.push((ok) => (ok ? resolve() : reject(new Error('This is not the correct coordinator'))));
          });
        },
      };
      const deps = { consumer, log: createLogger('committer-test', 'silent') } as unknown as ConsumerDeps;
      const c = new OffsetCommitter(deps, 0, 2_000);
      const ended: boolean[] = [];
      c.onCommit({ sent: () => {}, ended: (ok) => ended.push(ok) });
      let returned = false;
      const first = c.add('t', 0, '10').then(() => {
        returned = true;
      });
      await vi.advanceTimersByTimeAsync(1_999);
      expect(returned).toBe(false); // a commit answered within 2 s is waited for, as before
      await vi.advanceTimersByTimeAsync(1);
      await first;
      expect(returned).toBe(true); // kafkajs still retrying: the batch goes on (and heartbeats)
      const t0 = Date.now();
      await c.add('t', 1, '20'); // the first still unanswered: queued, no wait
      expect(Date.now()).toBe(t0);
      expect(calls).toHaveLength(1);
      answers[0]!(false); // refused after ~28 s of retries
      await vi.advanceTimersByTimeAsync(1_000);
      expect(ended).toEqual([false]);
      expect(calls).toHaveLength(2); // queued again with the newer partition's offset, in one commit
      expect(calls[1]).toEqual(
        expect.arrayContaining([
          { topic: 't', partition: 0, offset: '10' },
          { topic: 't', partition: 1, offset: '20' },
        ]),
      );
      answers[1]!(true);
      await vi.advanceTimersByTimeAsync(0);
      expect(ended).toEqual([false, true]);
    } finally {
      vi.useRealTimers();
    }
  });
});
