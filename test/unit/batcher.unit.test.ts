// Group commit at the application level (system/lib/batcher.ts): a lone call runs at once, calls
// that arrive while every slot is busy ride together, and each item gets its own answer.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type Settled, settleEach } from '../../system/lib/batcher.ts';

/** A batch runner whose batches finish only when the test says so; records every batch. */
function controlled() {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const run = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<Settled<number>[]>((resolve) =>
      release.push(() =>
        resolve(
          items.map((x) =>
            x < 0 ? { ok: false, error: new Error(`bad ${x}`) } : { ok: true, value: x * 10 },
          ),
        ),
      ),
    );
  };
  return { batches, release, run };
}

describe('Batcher', () => {
  it('runs a lone call at once, alone', async () => {
    const c = controlled();
    const b = new Batcher(c.run, { slots: 2, maxBatch: 10 });
    const p = b.submit(1);
    expect(c.batches).toEqual([[1]]);
    c.release[0]!();
    await expect(p).resolves.toBe(10);
  });

  it('groups the calls that arrive while every slot is busy, at most maxBatch per batch', async () => {
    const c = controlled();
    const b = new Batcher(c.run, { slots: 1, maxBatch: 3 });
    const first = b.submit(1);
    const rest = [2, 3, 4, 5, 6].map((x) => b.submit(x));
    expect(c.batches).toEqual([[1]]);
    c.release[0]!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.release[1]!();
    await new Promise((r) => setImmediate(r));
    expect(c.batches).toEqual([[1], [2, 3, 4], [5, 6]]);
    c.release[2]!();
    await expect(Promise.all(rest)).resolves.toEqual([20, 30, 40, 50, 60]);
  });

  it('gives each item its own answer: one failing item rejects only its caller', async () => {
    const c = controlled();
    const b = new Batcher(c.run, { slots: 1, maxBatch: 10 });
    const block = b.submit(0);
    const good = b.submit(2);
    const bad = b.submit(-1);
    c.release[0]!();
    await block;
    await new Promise((r) => setImmediate(r));
    c.release[1]!();
    await expect(good).resolves.toBe(20);
    await expect(bad).rejects.toThrow('bad -1');
  });

  it('rejects every caller of a batch whose runner throws, and keeps serving later calls', async () => {
    let fail = true;
    const b = new Batcher<number, number>(
      async (items) => {
        if (fail) throw new Error('down');
        return items.map((x) => ({ ok: true, value: x }));
      },
      { slots: 1, maxBatch: 10 },
    );
    await expect(b.submit(1)).rejects.toThrow('down');
    fail = false;
    await expect(b.submit(2)).resolves.toBe(2);
  });
});

describe('settleEach', () => {
  const one = async (x: number) => {
    if (x < 0) throw new Error(`bad ${x}`);
    return x;
  };

  it('returns the batch values when the batch statement succeeds, without running any item alone', async () => {
    let alone = 0;
    const out = await settleEach(
      [1, 2],
      async (xs) => xs.map((x) => x * 2),
      async (x) => {
        alone++;
        return x;
      },
      () => false,
    );
    expect(out).toEqual([
      { ok: true, value: 2 },
      { ok: true, value: 4 },
    ]);
    expect(alone).toBe(0);
  });

  it("retries each item alone when the batch fails for an item's own reason", async () => {
    const out = await settleEach(
      [1, -2, 3],
      async () => {
        throw new Error('unique violation');
      },
      one,
      () => false,
    );
    expect(out.map((r) => (r.ok ? r.value : (r.error as Error).message))).toEqual([1, 'bad -2', 3]);
  });

  it('fails every item at once when the error is shared (the database is away)', async () => {
    let alone = 0;
    const out = await settleEach(
      [1, 2, 3],
      async () => {
        throw new Error('connection refused');
      },
      async (x) => {
        alone++;
        return x;
      },
      () => true,
    );
    expect(out.every((r) => !r.ok)).toBe(true);
    expect(alone).toBe(0);
  });
});

describe('Batcher with spreadMs', () => {
  afterEach(() => vi.useRealTimers());

  it('holds a second batch back while the first is out, for at most spreadMs', async () => {
    vi.useFakeTimers();
    const c = controlled();
    const b = new Batcher(c.run, { slots: 4, maxBatch: 10, spreadMs: 5 });
    const first = b.submit(1);
    // A free slot, but the first batch left 0 ms ago: these wait instead of taking slots of their own.
    vi.advanceTimersByTime(2);
    const next = [b.submit(2), b.submit(3)];
    expect(c.batches).toEqual([[1]]);
    // 5 ms after the first left, still out: the waiting calls leave together on a second slot.
    vi.advanceTimersByTime(3);
    expect(c.batches).toEqual([[1], [2, 3]]);
    c.release[0]!();
    c.release[1]!();
    await expect(first).resolves.toBe(10);
    await expect(Promise.all(next)).resolves.toEqual([20, 30]);
  });

  it('sends the waiting calls at once when every batch in flight has come back', async () => {
    vi.useFakeTimers();
    const c = controlled();
    const b = new Batcher(c.run, { slots: 4, maxBatch: 10, spreadMs: 1_000 });
    const first = b.submit(1);
    const next = [b.submit(2), b.submit(3), b.submit(4)];
    expect(c.batches).toEqual([[1]]);
    c.release[0]!();
    await first;
    // Settles the batch's bookkeeping without moving the clock: no timer fires, 0 ms of the 1,000.
    await vi.advanceTimersByTimeAsync(0);
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.release[1]!();
    await expect(Promise.all(next)).resolves.toEqual([20, 30, 40]);
  });

  it('without spreadMs, a call takes a free slot at once', () => {
    const c = controlled();
    const b = new Batcher(c.run, { slots: 4, maxBatch: 10 });
    void b.submit(1);
    void b.submit(2);
    expect(c.batches).toEqual([[1], [2]]);
  });
});
