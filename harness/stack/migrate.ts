// Applies migrations/ with node-pg-migrate (plain SQL files, tracked in pgmigrations). Re-running
// is a no-op: only migrations not yet recorded are applied.
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { repoRoot } from '../toolchain/toolchain.ts';

export const migrationsDir = join(repoRoot, 'migrations');

export async function migrate(databaseUrl: string, direction: 'up' | 'down' = 'up'): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction,
    migrationsTable: 'pgmigrations',
    count: direction === 'down' ? Number.POSITIVE_INFINITY : undefined,
    singleTransaction: true,
    log: () => {},
    verbose: false,
  });
  return applied.map((m) => m.name);
}
