// `node system/main.ts supervise [kind[=N] ...]`: every process of the system (or the kinds named)
// as child processes, each restarted when it exits unasked (backoff 0.2 s doubling to 2 s), for
// hosts with no supervisor of their own (a developer machine, a VM without systemd). Under Compose,
// Kubernetes or systemd, run one process per unit instead (`node system/main.ts <kind>`) and let
// the platform restart it.
//
// Ports: the API listens on PORT (3000); the other instances serve /metrics on METRICS_PORT_BASE
// (9400) + 1, + 2, ... in start order. With PAYPROOF_PID_DIR set, each instance's current pid is
// written to <dir>/<instance>.pid (e.g. purchase-worker-1.pid) on every (re)start, the way
// systemd's PIDFile= reads it: an operator or a fault injector finds the live pid there.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceName, isProcessKind, type ProcessKind, processKinds } from './contracts/processes.ts';

interface Instance {
  readonly kind: ProcessKind;
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  child?: ChildProcess;
  restarts: number;
}

/** `purchase=2 relay` → counts per kind; no argument: one of each. */
export function parseCounts(args: readonly string[]): Map<ProcessKind, number> {
  const counts = new Map<ProcessKind, number>();
  if (args.length === 0) for (const k of processKinds) counts.set(k, 1);
  for (const a of args) {
    const [kind, n = '1'] = a.split('=');
    if (!kind || !isProcessKind(kind))
      throw new Error(`supervise: unknown process '${kind}' (one of ${processKinds.join(', ')})`);
    const count = Number(n);
    if (!Number.isInteger(count) || count < 0 || count > 16)
      throw new Error(`supervise: ${a}: expected ${kind}=N with N in 0..16`);
    counts.set(kind, count);
  }
  return counts;
}

export function pidFileName(instance: string): string {
  return `${instance.replace('#', '-')}.pid`;
}

export async function supervise(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const counts = parseCounts(args);
  const pidDir = env.PAYPROOF_PID_DIR;
  if (pidDir) mkdirSync(pidDir, { recursive: true });
  const base = Number(env.METRICS_PORT_BASE ?? 9400);
  if (!Number.isInteger(base) || base < 0 || base > 65000)
    throw new Error(`METRICS_PORT_BASE=${env.METRICS_PORT_BASE}: expected a port number`);
  const instances: Instance[] = [];
  let port = base;
  for (const kind of processKinds) {
    for (let i = 1; i <= (counts.get(kind) ?? 0); i++) {
      const name = instanceName(kind, i);
      instances.push({
        kind,
        name,
        restarts: 0,
        env: {
          ...env,
          INSTANCE_ID: name,
          ...(kind === 'api' ? {} : { METRICS_PORT: String(++port) }),
        },
      });
    }
  }
  let stopping = false;
  const say = (line: string) => process.stderr.write(`[supervise] ${line}\n`);
  const start = (x: Instance) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'main.ts'), x.kind], {
      env: x.env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    x.child = child;
    if (pidDir && child.pid) writeFileSync(join(pidDir, pidFileName(x.name)), `${child.pid}\n`);
    say(`${x.name} started, pid ${child.pid}${x.env.METRICS_PORT ? `, metrics :${x.env.METRICS_PORT}` : ''}`);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      const delayMs = Math.min(2_000, 200 * 2 ** Math.min(x.restarts, 4));
      say(`${x.name} exited (${signal ?? code}); restarting in ${delayMs} ms`);
      x.restarts++;
      setTimeout(() => {
        if (!stopping) start(x);
      }, delayMs);
    });
  };
  for (const x of instances) start(x);
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping ${instances.length} processes`);
    // API first (no new work), then the rest; SIGKILL after the processes' own stop bound.
    for (const group of [
      instances.filter((x) => x.kind === 'api'),
      instances.filter((x) => x.kind !== 'api'),
    ]) {
      await Promise.all(
        group.map(
          (x) =>
            new Promise<void>((resolve) => {
              const c = x.child;
              if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGCONT');
              c.kill('SIGTERM');
            }),
        ),
      );
    }
    if (pidDir) for (const x of instances) rmSync(join(pidDir, pidFileName(x.name)), { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
