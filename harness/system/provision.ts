// The system's own provision step (`node system/main.ts provision`: migrations, topics, dead-letter
// topics), run the way a deployment runs it: the harness talks to the system only as a user would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../toolchain/toolchain.ts';

export interface ProvisionTarget {
  /** As the owner: provision migrates. */
  readonly databaseUrl: string;
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
}

/** The environment a process of the system gets to reach `e` (as its owner: DATABASE_URL is `e`'s). */
export function systemEnv(e: ProvisionTarget): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: e.databaseUrl,
    KAFKA_BROKERS: e.kafkaBrokers,
    REDIS_URL: e.redisUrl,
    LOG_LEVEL: 'warn',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
}

/** Runs `node system/main.ts provision` against `e`; rejects with its output when it fails. */
export function provisionSystem(e: ProvisionTarget, timeoutMs = 120_000): Promise<void> {
  const env = systemEnv(e);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'system', 'main.ts'), 'provision'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`provision failed (${signal ?? code}): ${out.trim()}`)),
    );
  });
}
