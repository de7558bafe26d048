// The bench report's "code:" line names the uncommitted files under system/ and migrations/ from
// `git status --porcelain`. An unstaged change's line starts with a space (" M system/x.ts"); the
// path must come out whole whatever the status columns hold.
import { describe, expect, it } from 'vitest';
import { porcelainPaths } from '../../harness/bench/lib/machine.ts';

describe('porcelainPaths', () => {
  it('keeps the first character of the first path when the first column is blank', () => {
    expect(porcelainPaths(' M system/lib/worker.ts\n')).toEqual(['system/lib/worker.ts']);
  });

  it('reads staged, untracked and mixed lines, and skips blank ones', () => {
    const out = 'M  system/api/app.ts\n?? migrations/0009_x.sql\nMM system/relay/relay.ts\n\n';
    expect(porcelainPaths(out)).toEqual([
      'system/api/app.ts',
      'migrations/0009_x.sql',
      'system/relay/relay.ts',
    ]);
  });

  it('gives nothing for a clean tree', () => {
    expect(porcelainPaths('')).toEqual([]);
  });
});
