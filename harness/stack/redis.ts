// Redis from Debian's package, caches only: no persistence.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../lib/wait-for.ts';
import { ManagedProcess } from './process.ts';

/** How every payproof Redis runs, native or in a container: caches only, no persistence. */
export const cacheOnlyArgs: readonly string[] = [
  '--save',
  '',
  '--appendonly',
  'no',
  '--protected-mode',
  'no',
  '--maxclients',
  '2000',
];

export class RedisService {
  readonly port: number;
  readonly logFile: string;
  #runDir: string;
  #bin: string;
  #proc: ManagedProcess | undefined;

  constructor(opts: { runDir: string; port: number; bin: string }) {
    this.port = opts.port;
    this.#runDir = opts.runDir;
    this.#bin = opts.bin;
    this.logFile = join(opts.runDir, 'logs', 'redis.log');
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  async start(): Promise<void> {
    const dir = join(this.#runDir, 'redis');
    mkdirSync(dir, { recursive: true });
    this.#proc = ManagedProcess.start({
      name: 'redis',
      command: this.#bin,
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', dir, ...cacheOnlyArgs],
      logFile: this.logFile,
    });
    await waitFor(
      'redis to answer PING',
      async () => {
        if (!this.#proc?.running) throw new Error(`redis exited (see ${this.logFile})`);
        const r = new Redis({
          port: this.port,
          host: '127.0.0.1',
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        r.on('error', () => {});
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(5_000);
  }
}
