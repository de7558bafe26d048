// The benches remove their phases' histories when they stop (harness/bench/lib/env.ts): every
// history*.jsonl of the run's folder goes, the logs stay, and PAYPROOF_KEEP_DATA keeps everything.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dropHistories } from '../../harness/bench/lib/env.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'payproof-drop-'));
  dirs.push(d);
  mkdirSync(join(d, 'logs'));
  writeFileSync(join(d, 'logs', 'api-1.log'), 'a log line\n');
  writeFileSync(join(d, 'stack.json'), '{}');
  writeFileSync(join(d, 'history.jsonl'), 'x'.repeat(2 ** 20));
  writeFileSync(join(d, 'history-users.jsonl'), '{}\n');
  writeFileSync(join(d, 'history-steps.jsonl.bak'), 'not a history');
  return d;
}

describe('dropHistories', () => {
  it('removes the histories, keeps the logs and every other file, and says how much it removed', () => {
    const d = runDir();
    const lines: string[] = [];
    dropHistories(d, (l) => lines.push(l), {});
    expect(readdirSync(d).sort()).toEqual(['history-steps.jsonl.bak', 'logs', 'stack.json']);
    expect(existsSync(join(d, 'logs', 'api-1.log'))).toBe(true);
    expect(lines).toEqual(["[bench] removed the phases' histories (1 MiB; PAYPROOF_KEEP_DATA=1 keeps them)"]);
  });

  it('keeps everything with PAYPROOF_KEEP_DATA, and says nothing when there is nothing to remove', () => {
    const d = runDir();
    const lines: string[] = [];
    dropHistories(d, (l) => lines.push(l), { PAYPROOF_KEEP_DATA: '1' });
    expect(readdirSync(d)).toContain('history-users.jsonl');
    expect(readdirSync(d)).toHaveLength(5);
    dropHistories(d, (l) => lines.push(l), {});
    dropHistories(d, (l) => lines.push(l), {});
    expect(lines).toHaveLength(1);
  });
});
