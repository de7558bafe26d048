// Toxiproxy server, built from the Go module proxy; driven with toxiproxy-node-client.
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { waitFor, withTimeout } from '../lib/wait-for.ts';
import { ManagedProcess } from './process.ts';

export class ToxiproxyService {
  readonly port: number;
  readonly logFile: string;
  readonly url: string;
  readonly client: Toxiproxy;
  #bin: string;
  #proc: ManagedProcess | undefined;

  constructor(opts: { runDir: string; port: number; bin: string }) {
    this.port = opts.port;
    this.#bin = opts.bin;
    this.url = `http://127.0.0.1:${opts.port}`;
    this.client = new Toxiproxy(this.url);
    this.logFile = join(opts.runDir, 'logs', 'toxiproxy.log');
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  async start(): Promise<void> {
    this.#proc = ManagedProcess.start({
      name: 'toxiproxy',
      command: this.#bin,
      args: ['-host', '127.0.0.1', '-port', String(this.port)],
      logFile: this.logFile,
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    await waitFor(
      'toxiproxy API',
      async () => {
        if (!this.#proc?.running) throw new Error(`toxiproxy exited (see ${this.logFile})`);
        const res = await fetch(`${this.url}/version`, { signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  }

  async createProxy(name: string, listen: string, upstream: string) {
    return this.client.createProxy({ name, listen, upstream, enabled: true });
  }

  /** Removes every toxic and re-enables every proxy; bounded, because a heal can hang (Shopify/toxiproxy#412). */
  async reset(timeoutMs = 5_000): Promise<void> {
    await withTimeout(
      'toxiproxy reset',
      timeoutMs,
      fetch(`${this.url}/reset`, { method: 'POST' }).then(() => undefined),
    );
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(5_000);
  }
}
