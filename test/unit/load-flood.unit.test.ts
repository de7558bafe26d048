import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleave } from '../../harness/chaos/flood-fault.ts';
import {
  badKinds,
  dueByRate,
  planFlood,
  purchaseConfirmedEnvelope,
  windowShuffle,
} from '../../harness/load/flood-plan.ts';
import { seededRandom } from '../../harness/load/rng.ts';
import type { DomainEvent } from '../../system/contracts/index.ts';
import { consumerGroups, eventIdFor, parseEvent, topics, uuidv5 } from '../../system/contracts/index.ts';

function envelopes(n: number): DomainEvent[] {
  return Array.from({ length: n }, (_, i) =>
    purchaseConfirmedEnvelope({
      paymentId: uuidv5(`p${i}`),
      studentId: uuidv5(`s${i % 7}`),
      courseId: uuidv5('c'),
      amountCents: 1_000 + i,
      confirmedAt: '2026-11-26T10:00:00.000Z',
    }),
  );
}

/** The consumer groups that read a topic, and what they accept. */
function acceptedOn(topic: string) {
  const type = Object.entries(topics).find(([, t]) => t === topic)![0];
  return Object.values(consumerGroups).find((types) => (types as readonly string[]).includes(type))!;
}

describe('flood plans: duplicates, bounded reordering, bad messages', () => {
  it('builds the envelope the API emits for a confirmed payment, valid by the contract', () => {
    const e = envelopes(1)[0]!;
    expect(e.eventType === 'PURCHASE_CONFIRMED' && e.eventId).toBe(
      eventIdFor('PURCHASE_CONFIRMED', uuidv5('p0')),
    );
    expect(e.timestamp).toBe('2026-11-26T10:00:00.000Z');
    expect(parseEvent(JSON.stringify(e))).toMatchObject({ ok: true });
  });

  it('produces every envelope exactly k times, byte-identical, keyed by student, on its topic', () => {
    const es = envelopes(20);
    const plan = planFlood({ envelopes: es, duplication: 3, reorderWindow: 10, seed: 1 });
    expect(plan).toHaveLength(60);
    for (const e of es) {
      const copies = plan.filter((m) => m.eventId === e.eventId);
      expect(copies.map((m) => m.copy).sort()).toEqual([0, 1, 2]);
      for (const m of copies) {
        expect(m.value).toBe(JSON.stringify(e));
        expect(m.key).toBe(e.payload.studentId);
        expect(m.topic).toBe(topics.PURCHASE_CONFIRMED);
      }
    }
  });

  it('reorders only within the window: no message moves by w positions or more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (n, w, seed) => {
          const out = windowShuffle(
            Array.from({ length: n }, (_, i) => i),
            w,
            seededRandom(seed),
          );
          expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          out.forEach((origin, pos) => {
            expect(Math.abs(origin - pos)).toBeLessThan(w);
          });
          // Any two items at least w apart keep their order.
          const pos = new Map(out.map((o, p) => [o, p]));
          for (let i = 0; i + w < n; i++) expect(pos.get(i)!).toBeLessThan(pos.get(i + w)!);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a window of 1 keeps the order; a larger one actually reorders', () => {
    const es = envelopes(50);
    const inOrder = planFlood({ envelopes: es, duplication: 2, reorderWindow: 1, seed: 3 });
    expect(inOrder.map((m) => m.origin)).toEqual(inOrder.map((_, i) => i));
    const shuffled = planFlood({ envelopes: es, duplication: 2, reorderWindow: 20, seed: 3 });
    expect(shuffled.filter((m, i) => m.origin !== i).length).toBeGreaterThan(50);
    // Some duplicate arrives before its original.
    expect(
      shuffled.some(
        (m, i) => m.copy > 0 && shuffled.slice(i + 1).some((x) => x.eventId === m.eventId && x.copy === 0),
      ),
    ).toBe(true);
  });

  it('is deterministic for a seed and different across seeds', () => {
    const es = envelopes(30);
    const a = planFlood({ envelopes: es, duplication: 2, reorderWindow: 8, seed: 11, bad: { oversized: 1 } });
    const b = planFlood({ envelopes: es, duplication: 2, reorderWindow: 8, seed: 11, bad: { oversized: 1 } });
    const c = planFlood({ envelopes: es, duplication: 2, reorderWindow: 8, seed: 12, bad: { oversized: 1 } });
    expect(b).toEqual(a);
    expect(c.map((m) => m.origin)).not.toEqual(a.map((m) => m.origin));
  });

  it('each bad message is rejected by the consumers with exactly the reason it was built for', () => {
    const plan = planFlood({
      envelopes: envelopes(5),
      duplication: 1,
      reorderWindow: 1,
      seed: 5,
      bad: Object.fromEntries(badKinds.map((k) => [k, 2])),
    });
    const bad = plan.filter((m) => m.bad);
    expect(bad).toHaveLength(badKinds.length * 2);
    for (const m of bad) {
      const parsed = parseEvent(m.value, acceptedOn(m.topic));
      expect(parsed.ok, m.bad).toBe(false);
      if (!parsed.ok) expect(parsed.code, m.bad).toBe(m.bad);
      // A bad message never reuses a real event's id.
      expect(plan.filter((x) => x.eventId === m.eventId)).toHaveLength(1);
    }
    for (const m of plan.filter((x) => !x.bad))
      expect(parseEvent(m.value, acceptedOn(m.topic)).ok).toBe(true);
  });

  it('bad messages need no envelopes, and maxMessages bounds the flood', () => {
    const plan = planFlood({
      envelopes: [],
      duplication: 1,
      reorderWindow: 1,
      seed: 1,
      bad: { malformed_json: 3 },
    });
    expect(plan.map((m) => m.bad)).toEqual(['malformed_json', 'malformed_json', 'malformed_json']);
    expect(
      planFlood({ envelopes: envelopes(100), duplication: 5, reorderWindow: 4, seed: 1, maxMessages: 42 }),
    ).toHaveLength(42);
    expect(() => planFlood({ envelopes: [], duplication: 0, reorderWindow: 1, seed: 1 })).toThrow(
      /duplication/,
    );
    expect(() => windowShuffle([1], 0, Math.random)).toThrow(/window/);
  });

  it('paces production: the first message at once, then rate × elapsed, never past the total', () => {
    expect(dueByRate(0, 100, 1_000)).toBe(1);
    expect(dueByRate(9.9, 100, 1_000)).toBe(1);
    expect(dueByRate(10, 100, 1_000)).toBe(2);
    expect(dueByRate(1_000, 100, 1_000)).toBe(101);
    expect(dueByRate(60_000, 100, 1_000)).toBe(1_000);
    expect(() => dueByRate(0, 0, 1)).toThrow(/rate/);
  });
});

describe('the duplicate flood takes every topic in turn', () => {
  it('interleaves the topics: any prefix of the flood holds events of every topic read', () => {
    expect(interleave<number | string>([[1, 2, 3], ['a'], [], ['x', 'y']])).toEqual([1, 'a', 'x', 2, 'y', 3]);
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { maxLength: 20 }), { maxLength: 5 }), (lists) => {
        const out = interleave(lists);
        expect(out.length).toBe(lists.reduce((n, l) => n + l.length, 0));
        const nonEmpty = lists.filter((l) => l.length > 0).length;
        // The first `nonEmpty` items come one from each non-empty list.
        expect(out.slice(0, nonEmpty)).toEqual(lists.filter((l) => l.length > 0).map((l) => l[0]));
      }),
    );
  });
});
