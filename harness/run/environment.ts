// The versions a run used, for result.json's environment (and the report's "Environment" table).
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadToolchain, repoRoot, toolPaths } from '../toolchain/toolchain.ts';

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: repoRoot });
  return (r.stdout || r.stderr || '').split('\n')[0]?.trim() || 'unknown';
}

let cached: Record<string, string> | undefined;

export function environment(): Record<string, string> {
  if (cached) return cached;
  const tc = loadToolchain();
  const paths = toolPaths(tc);
  const dirty =
    firstLine('git', ['status', '--porcelain']) !== 'unknown' &&
    spawnSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim() !== '';
  cached = {
    node: process.version,
    kafka: `${tc.kafka.version} (KRaft, 1 broker)`,
    postgres: paths.postgresBin
      ? firstLine(join(paths.postgresBin, 'postgres'), ['--version']).replace('postgres (PostgreSQL) ', '')
      : 'missing',
    redis: firstLine(paths.redisServer, ['--version']).replace(/^Redis server v=(\S+).*/, '$1'),
    toxiproxy: tc.toxiproxy.version,
    git: `${firstLine('git', ['rev-parse', '--short', 'HEAD'])}${dirty ? ' (dirty)' : ''}`,
    machine: `${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
  };
  return cached;
}
