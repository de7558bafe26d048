// The session-window oracle: what must exist at a given time, and every way a window can be wrong.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dueAtAllocation,
  type WindowAllocation,
  type WindowSession,
  windowBounds,
  windowProblems,
} from '../../harness/checker/session-window.ts';
import { dueSessionCount, sessionDate, sessionTime, startDateFor } from '../../system/contracts/schedule.ts';

const day = 86_400_000;
const alloc: WindowAllocation = {
  allocationId: 'a',
  trainerId: 't',
  studentId: 's',
  startDate: '2030-01-02',
  sessionCount: 30,
};
const window = (n: number, a: WindowAllocation = alloc): WindowSession[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    date: sessionDate(a.startDate, i + 1),
    time: sessionTime,
    trainerId: a.trainerId!,
    studentId: a.studentId,
  }));

describe('window bounds', () => {
  it('requires what was due when the allocation was made, whatever the hour it was made at', () => {
    // start 2030-01-02, made on 2030-01-01: horizon 2030-01-15, sessions every 2 days from the 2nd: 7.
    expect(dueAtAllocation('2030-01-02', 30)).toBe(7);
    expect(dueAtAllocation('2030-01-02', 3)).toBe(3);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: day - 1 }),
        fc.integer({ min: 1, max: 500 }),
        (msIntoDay, count) => {
          const madeAt = new Date(Date.parse('2030-01-01T00:00:00Z') + msIntoDay);
          expect(dueSessionCount(startDateFor(madeAt), count, madeAt)).toBe(
            dueAtAllocation(startDateFor(madeAt), count),
          );
        },
      ),
    );
  });

  it('allows at most what is due now, widened by the clock tolerance; toppedUpBy raises the floor', () => {
    const now = new Date('2030-01-01T12:00:00Z');
    expect(windowBounds(alloc, now)).toEqual({ min: 7, max: 7 });
    expect(windowBounds(alloc, now, 4 * day)).toEqual({ min: 7, max: 9 });
    const later = new Date('2030-01-11T12:00:00Z');
    expect(windowBounds(alloc, later, 0, later)).toEqual({ min: 12, max: 12 });
  });
});

describe('window problems', () => {
  const bounds = { min: 7, max: 9 };

  it('finds nothing wrong in a window built from the schedule, for any allocation and clock', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 400 }),
        (madeAt, count, daysLater) => {
          const a = { ...alloc, startDate: startDateFor(madeAt), sessionCount: count };
          const now = new Date(madeAt.getTime() + daysLater * day);
          const b = windowBounds(a, now);
          expect(windowProblems(a, window(b.max, a), b)).toEqual([]);
          expect(windowProblems(a, window(b.min, a), b)).toEqual([]);
        },
      ),
    );
  });

  it('names a gap with the missing seqs, and too few / too many', () => {
    const gap = window(8).filter((s) => s.seq !== 3 && s.seq !== 5);
    expect(windowProblems(alloc, gap, bounds)).toEqual([
      { kind: 'gap', expected: 'seq 1..8', found: { missing: [3, 5] } },
    ]);
    expect(windowProblems(alloc, window(6), bounds)).toEqual([
      { kind: 'too-few', expected: '>= 7', found: 6 },
    ]);
    expect(windowProblems(alloc, window(10), bounds)).toEqual([
      { kind: 'too-many', expected: '<= 9', found: 10 },
    ]);
    expect(windowProblems(alloc, [], bounds)).toEqual([{ kind: 'too-few', expected: '>= 7', found: 0 }]);
  });

  it('names a session on the wrong date, time, trainer or student by its seq', () => {
    const w = window(7);
    w[1] = { ...w[1]!, date: '2030-01-05' };
    w[2] = { ...w[2]!, time: '11:00:00' };
    w[3] = { ...w[3]!, trainerId: 'other' };
    w[4] = { ...w[4]!, studentId: 'other' };
    expect(windowProblems(alloc, w, bounds)).toEqual([
      { kind: 'wrong-date', seq: 2, expected: '2030-01-04', found: '2030-01-05' },
      { kind: 'wrong-time', seq: 3, expected: sessionTime, found: '11:00:00' },
      { kind: 'wrong-trainer', seq: 4, expected: 't', found: 'other' },
      { kind: 'wrong-student', seq: 5, expected: 's', found: 'other' },
    ]);
  });
});
