// Where every process of a running system serves Prometheus metrics: what `npm run system` prints.
import type { ProcessKind } from '../../system/contracts/index.ts';

/** The part of a SystemProcess this needs. */
export interface MetricsTarget {
  readonly name: string;
  readonly metricsPort: number;
}

/** One line per process, `purchase-worker#1   http://127.0.0.1:40123/metrics`, in start order. */
export function metricsLines(processes: readonly MetricsTarget[], host = '127.0.0.1'): string[] {
  const w = Math.max(0, ...processes.map((p) => p.name.length));
  return processes.map((p) => `${p.name.padEnd(w)}  http://${host}:${p.metricsPort}/metrics`);
}

/** What `npm run system` writes beside its stack.json (system.json): each process and its metrics. */
export interface SystemFile {
  readonly processes: readonly { name: string; kind: ProcessKind; metricsUrl: string }[];
}

export function systemFile(
  processes: readonly (MetricsTarget & { readonly kind: ProcessKind })[],
  host = '127.0.0.1',
): SystemFile {
  return {
    processes: processes.map((p) => ({
      name: p.name,
      kind: p.kind,
      metricsUrl: `http://${host}:${p.metricsPort}`,
    })),
  };
}
