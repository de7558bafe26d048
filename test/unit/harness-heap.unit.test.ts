// The harness's heap policy (harness/lib/harness-heap.ts) caps the young generation of the process
// that applies it, where V8 alone grows it to 128 MiB under a load run's allocation rate. Each case
// runs in a fresh Node process (V8 flags are process-wide), allocating like a generator: many
// short-lived objects, some surviving a while.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'payproof-harness-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const heapModule = resolve(import.meta.dirname, '../../harness/lib/harness-heap.ts');

function youngPeakMiB(apply: boolean): number {
  const script = join(dir, `churn-${apply}.ts`);
  writeFileSync(
    script,
    `import { holdHarnessHeap, youngGenerationMiB } from ${JSON.stringify(heapModule)};
${apply ? 'holdHarnessHeap();' : ''}
let keep: unknown[] = [];
let peak = 0;
for (let round = 0; round < 150; round++) {
  for (let i = 0; i < 20_000; i++) keep.push({ s: JSON.stringify({ i, round }), o: { i } });
  if (keep.length > 300_000) keep = [];
  peak = Math.max(peak, youngGenerationMiB());
  await new Promise((r) => setImmediate(r));
}
console.log(peak);
`,
  );
  return Number(execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim());
}

describe('holdHarnessHeap', () => {
  it('keeps the young generation at 32 MiB (one doubling of slack) where V8 alone grows it past that', () => {
    const free = youngPeakMiB(false);
    const held = youngPeakMiB(true);
    expect(free).toBeGreaterThan(32);
    expect(held).toBeLessThanOrEqual(64);
    expect(held).toBeLessThan(free);
  }, 60_000);
});
