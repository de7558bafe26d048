// What Prometheus scrapes: one target per process of the system, labelled with its instance name
// (`purchase-worker#2`, the name the rules and the logs use) and its kind. Not with its consumer
// group: the workers' own series carry `group`, and a target label of the same name would rename
// theirs to `exported_group`.
import type { ScrapeTarget } from '../stack/prometheus.ts';

/** The part of a SystemProcess this needs. */
export interface TargetSource {
  readonly name: string;
  readonly kind: string;
  readonly metricsPort: number;
}

export function scrapeTargets(processes: readonly TargetSource[], host = '127.0.0.1'): ScrapeTarget[] {
  return processes.map((p) => ({
    address: `${host}:${p.metricsPort}`,
    labels: { instance: p.name, kind: p.kind },
  }));
}
