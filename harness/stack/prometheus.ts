// Prometheus (Debian's package, or one on the PATH), part of the stack when a system runs: it scrapes every process
// of the system (targets in a file_sd file that the launcher rewrites whenever a process is added or
// removed, so `--workers` counts and scaling are followed; a restarted process keeps its port) and
// evaluates the project's alert rules. Its TSDB lives in a temp folder removed on stop.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../lib/wait-for.ts';
import { toolPaths } from '../toolchain/toolchain.ts';
import { ManagedProcess, pipelineNice } from './process.ts';

/** Debian's Prometheus, else the one on the PATH (harness/toolchain/toolchain.ts: the lookup order). */
export function prometheusBin(): string {
  return toolPaths().prometheus || '/usr/bin/prometheus';
}

/** One scrape target: `127.0.0.1:port` and the labels it carries (instance name, kind, group). */
export interface ScrapeTarget {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  readonly runDir: string;
  readonly port: number;
  /** Rendered alert rules (YAML text). */
  readonly rules: string;
  readonly scrapeIntervalS: number;
  readonly evaluationIntervalS: number;
  readonly bin?: string;
}

/** An alert as /api/v1/alerts reports it. */
export interface PromAlert {
  readonly labels: Readonly<Record<string, string>> & { readonly alertname: string };
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly activeAt?: string;
  readonly value?: string;
}

export class PrometheusService {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly logFile: string;
  readonly targetsFile: string;
  #opts: PrometheusOptions;
  #proc: ManagedProcess | undefined;
  #data: string | undefined;

  constructor(opts: PrometheusOptions) {
    this.#opts = opts;
    this.port = opts.port;
    this.url = `http://127.0.0.1:${opts.port}`;
    this.dir = join(opts.runDir, 'prometheus');
    this.logFile = join(opts.runDir, 'logs', 'prometheus.log');
    this.targetsFile = join(this.dir, 'targets.json');
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  /** The scrape configuration: one job, `payproof`, whose targets come from the file_sd file. */
  config(): string {
    const o = this.#opts;
    const timeoutS = Math.max(0.5, o.scrapeIntervalS * 0.8);
    return [
      'global:',
      `  scrape_interval: ${o.scrapeIntervalS}s`,
      `  scrape_timeout: ${Math.round(timeoutS * 1000)}ms`,
      `  evaluation_interval: ${o.evaluationIntervalS}s`,
      'rule_files:',
      `  - ${JSON.stringify(join(this.dir, 'payproof.rules.yml'))}`,
      'scrape_configs:',
      '  - job_name: payproof',
      '    file_sd_configs:',
      `      - files: [${JSON.stringify(this.targetsFile)}]`,
      '        refresh_interval: 1s',
      '',
    ].join('\n');
  }

  /** Replaces the targets atomically (Prometheus watches the file and never reads half of it). */
  writeTargets(targets: readonly ScrapeTarget[]): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.targetsFile}.tmp`;
    writeFileSync(
      tmp,
      `${JSON.stringify(
        targets.map((t) => ({ targets: [t.address], labels: t.labels })),
        null,
        2,
      )}\n`,
    );
    renameSync(tmp, this.targetsFile);
  }

  async start(targets: readonly ScrapeTarget[] = []): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(join(this.#opts.runDir, 'logs'), { recursive: true });
    writeFileSync(join(this.dir, 'payproof.rules.yml'), this.#opts.rules);
    writeFileSync(join(this.dir, 'prometheus.yml'), this.config());
    this.writeTargets(targets);
    this.#data = mkdtempSync(join(tmpdir(), 'payproof-prometheus-'));
    this.#proc = ManagedProcess.start({
      name: 'prometheus',
      command: this.#opts.bin ?? prometheusBin(),
      args: [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${this.#data}`,
        '--storage.tsdb.retention.time=1d',
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      logFile: this.logFile,
      // An observer: it yields the CPU to the system it watches.
      nice: pipelineNice,
    });
    await waitFor(
      'prometheus to be ready',
      async () => {
        if (!this.#proc?.running) throw new Error(`prometheus exited (see ${this.logFile})`);
        return (await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).ok;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** Every alert Prometheus holds now (pending and firing). */
  async alerts(timeoutMs = 900): Promise<PromAlert[]> {
    const r = await fetch(`${this.url}/api/v1/alerts`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new Error(`GET /api/v1/alerts: ${r.status}`);
    const body = (await r.json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  }

  /** An instant query's vector. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!r.ok) throw new Error(`query ${expr}: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { data: { result: never[] } }).data.result;
  }

  async stop(): Promise<void> {
    await this.#proc?.stop(10_000);
    if (this.#data && !process.env.PAYPROOF_KEEP_DATA) rmSync(this.#data, { recursive: true, force: true });
  }
}
