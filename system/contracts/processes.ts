// The processes of the system, as data: what each is called, which module runs it, and which
// consumer group it joins. `node system/main.ts <name>` starts one of them; the harness's launcher,
// a Compose file, a systemd unit or a Kubernetes Deployment all start them that way. Adding a
// process (a new worker) is adding one entry here.
import type { ConsumerGroup } from './topics.ts';

/** One process kind of the system. */
export interface ProcessSpec {
  /** Module under system/ that runs it (relative to system/). */
  readonly module: string;
  /** The consumer group it joins; absent for the API and the relay. */
  readonly group?: ConsumerGroup;
  /** Serves HTTP on PORT (the API); the others serve /metrics and /healthz on METRICS_PORT. */
  readonly http?: boolean;
}

export const processSpecs = {
  api: { module: 'api/main.ts', http: true },
  relay: { module: 'relay/main.ts' },
  purchase: { module: 'workers/purchase/main.ts', group: 'purchase-worker' },
  allocation: { module: 'workers/allocation/main.ts', group: 'allocation-worker' },
  session: { module: 'workers/session/main.ts', group: 'session-worker' },
  cache: { module: 'workers/cache/main.ts', group: 'cache-worker' },
} as const satisfies Record<string, ProcessSpec>;

export type ProcessKind = keyof typeof processSpecs;
/** In start order: the API first, the relay, then the workers in pipeline order. */
export const processKinds = Object.keys(processSpecs) as ProcessKind[];

export function isProcessKind(s: string): s is ProcessKind {
  return Object.hasOwn(processSpecs, s);
}

/** The instance name the launcher and the supervisor give: `api#1`, `purchase-worker#2`. */
export function instanceName(kind: ProcessKind, n: number): string {
  return kind === 'api' || kind === 'relay' ? `${kind}#${n}` : `${kind}-worker#${n}`;
}
