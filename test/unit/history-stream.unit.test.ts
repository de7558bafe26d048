// history.jsonl read as a stream (harness/run/history.ts, historyOps): the same operations, in the
// same order, as parsing the whole file at once, whatever falls on a 1 MiB chunk boundary (a line,
// a multi-byte character); blank lines skipped, a last line without a newline kept. And the
// bench's merge of several phases renumbers indexes and shifts times as it streams.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeHistories } from '../../harness/bench/lib/histories.ts';
import { toOperations } from '../../harness/checker/operations.ts';
import { History, type HistoryOp, historyOps, readHistory } from '../../harness/run/history.ts';

const dir = mkdtempSync(join(tmpdir(), 'payproof-history-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Operations whose lines have varying lengths and multi-byte text, ~3.5 MiB in all. */
function sample(n: number): HistoryOp[] {
  const ops: HistoryOp[] = [];
  for (let i = 0; i < n; i++) {
    const student = `s-${i % 97}-é€😀`;
    ops.push({
      index: i,
      type: 'invoke',
      op: 'create',
      timeNs: i * 10,
      process: i % 7,
      ids: { studentId: student },
    });
    ops.push({
      index: i,
      type: i % 5 === 0 ? 'info' : 'ok',
      op: 'create',
      timeNs: i * 10 + 3,
      process: i % 7,
      ids: { studentId: student, paymentId: `p-${i}` },
      status: 201,
      value: { response: { note: 'ü'.repeat(i % 300) } },
    });
  }
  return ops;
}

describe('historyOps', () => {
  it('yields exactly what parsing the whole file yields, across chunk boundaries', () => {
    const ops = sample(12_000);
    const path = join(dir, 'h.jsonl');
    const text = ops.map((o) => JSON.stringify(o)).join('\n\n');
    writeFileSync(path, text); // blank lines between, no newline at the end
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 * (1 << 20));
    const streamed = [...historyOps(path)];
    expect(streamed).toHaveLength(ops.length);
    expect(streamed).toEqual(ops);
    expect(readHistory(path)).toEqual(ops);
  });

  it('reads an empty file as no operations', () => {
    const path = join(dir, 'empty.jsonl');
    writeFileSync(path, '');
    expect([...historyOps(path)]).toEqual([]);
  });

  it('pairs the same operations streamed as from an array', () => {
    const ops = sample(500);
    const path = join(dir, 'p.jsonl');
    writeFileSync(path, `${ops.map((o) => JSON.stringify(o)).join('\n')}\n`);
    const fromStream = toOperations(historyOps(path));
    expect(fromStream).toHaveLength(500);
    expect(fromStream).toEqual(toOperations(ops));
    expect(fromStream.filter((o) => o.outcome === 'info')).toHaveLength(100);
  });
});

describe('mergeHistories', () => {
  it('renumbers the second phase after the first and shifts its times onto the first clock', async () => {
    const a = { history: new History(join(dir, 'a.jsonl')), originNs: 1_000n };
    const b = { history: new History(join(dir, 'b.jsonl')), originNs: 6_000n };
    for (const h of [a.history, b.history]) {
      const i = h.invoke('create', 1, { studentId: 's' });
      h.complete(i, 'ok', 'create', 1, { status: 201 });
      await h.close();
    }
    const merged = [...mergeHistories([a, b])];
    expect(merged.map((o) => [o.index, o.type])).toEqual([
      [0, 'invoke'],
      [0, 'ok'],
      [1, 'invoke'],
      [1, 'ok'],
    ]);
    const own = [...historyOps(b.history.path)];
    expect(merged[2]!.timeNs).toBe(own[0]!.timeNs + 5_000);
    expect(merged[3]!.ids).toBeUndefined();
  });
});
