// Process faults: SIGKILL (the supervisor restarts the process), SIGSTOP / SIGCONT (a pause long
// enough to lose group membership), scaling a kind up and down (rebalances). Every paused pid is
// registered with the heal guard, so it is resumed even if the runner dies.
import { sleep, waitFor } from '../lib/wait-for.ts';
import type { ProcessKind } from '../system/launcher.ts';
import { resumeByPid } from '../target/target.ts';
import { once } from './network-faults.ts';
import type { Fault, FaultContext, ProcessView } from './scenario.ts';

/** Which instance of a kind: the first, the last, or all of them. */
export type Which = 'first' | 'last' | 'all';

function targets(ctx: FaultContext, kind: ProcessKind, pick: Which): ProcessView[] {
  const running = ctx.system.processes().filter((p) => p.kind === kind && p.running);
  if (running.length === 0) throw new Error(`no running ${kind} process to fault`);
  return pick === 'all' ? running : pick === 'first' ? [running[0]!] : [running[running.length - 1]!];
}

/** Waits until the supervisor restarted `name` (restarts went up and it serves /healthz). */
export async function waitRestarted(
  ctx: FaultContext,
  name: string,
  restartsBefore: number,
  // A restarted Node process needs about 1 s of CPU to load; on a 2-core machine at load 20 it gets
  // a few percent of one core (measured: 20-28 s to serve /healthz again, state R, no socket yet).
  timeoutMs = 60_000,
) {
  await waitFor(
    `${name} to be restarted`,
    async () => {
      const p = ctx.system.processes().find((x) => x.name === name);
      if (!p) return true; // scaled away meanwhile
      if (!p.running || p.restarts <= restartsBefore) return false;
      if (p.kind === 'api')
        return (await fetch(`${ctx.system.apiUrl}/readyz`, { signal: AbortSignal.timeout(500) })).ok;
      const base = p.metricsUrl ?? `http://127.0.0.1:${p.metricsPort}`;
      return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(500) })).ok;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/**
 * SIGKILL one instance of each kind, at once (mid-batch under load: a batch is nearly always in
 * flight). The heal waits until the supervisor has restarted each of them.
 */
export function kill(kinds: readonly ProcessKind[], pick: Which = 'first'): Fault {
  return {
    label: `SIGKILL ${kinds.join(', ')}`,
    kind: 'kill',
    target: kinds.join(','),
    needs: ['processes'],
    async inject(ctx) {
      const victims = kinds.flatMap((k) => targets(ctx, k, pick));
      for (const v of victims) {
        ctx.log(`[chaos] SIGKILL ${v.name} (pid ${v.pid})`);
        ctx.system.signal(v.name, 'SIGKILL');
      }
      return once(async () => {
        await Promise.all(victims.map((v) => waitRestarted(ctx, v.name, v.restarts)));
      });
    },
  };
}

/** SIGSTOP the chosen instances; SIGCONT on heal. Overlapping pauses of one process are counted. */
export function pause(kinds: readonly ProcessKind[], pick: Which = 'first'): Fault {
  return {
    label: `SIGSTOP ${kinds.join(', ')}`,
    kind: 'pause',
    target: kinds.join(','),
    needs: ['processes'],
    async inject(ctx) {
      const victims = kinds.flatMap((k) => targets(ctx, k, pick));
      for (const v of victims) {
        if (ctx.holds.acquire(`stopped:${v.pid || v.name}`) === 1) {
          if (v.pid > 0) ctx.guard.paused(v.pid);
          ctx.log(`[chaos] SIGSTOP ${v.name} (pid ${v.pid})`);
          ctx.system.signal(v.name, 'SIGSTOP');
        }
      }
      return once(async () => {
        for (const v of victims) {
          if (ctx.holds.release(`stopped:${v.pid || v.name}`) === 0) {
            // By the view taken at the pause, not the name: a process restarted meanwhile is a
            // different one and was never stopped.
            if (ctx.system.resume) ctx.system.resume(v);
            else resumeByPid(v);
            if (v.pid > 0) ctx.guard.resumed(v.pid);
            ctx.log(`[chaos] SIGCONT ${v.name} (pid ${v.pid})`);
          }
        }
      });
    },
  };
}

/**
 * Scales every listed kind up and down during the fault: one instance of each kind is added, the
 * groups are left to settle (every member rejoined: a real rebalance, not a member that came and
 * went before joining, which a loaded machine makes likely), then it is removed, and again, every
 * `everyMs`. The heal stops the storm and removes whatever it added.
 */
export function rebalanceStorm(kinds: readonly ProcessKind[], everyMs = 2_000): Fault {
  return {
    label: `rebalance storm ${kinds.join(', ')}`,
    kind: 'scale',
    target: kinds.join(','),
    needs: ['processes', 'scaling'],
    async inject(ctx) {
      const { add, remove, settle } = ctx.system;
      if (!add || !remove) throw new Error('rebalance storm needs a system this run started (not --attach)');
      const added: string[] = [];
      const stop = new AbortController();
      const calm = async () => {
        await settle
          ?.call(ctx.system, 15_000)
          .catch((err) => ctx.log(`[chaos] groups not stable: ${(err as Error).message}`));
      };
      const storm = (async () => {
        for (let step = 0; !stop.signal.aborted && !ctx.signal.aborted && step < 1_000; step++) {
          if (added.length === 0) {
            const names = await Promise.all(kinds.map((k) => add.call(ctx.system, k)));
            added.push(...names);
            ctx.log(`[chaos] scaled up: ${names.join(', ')}`);
          } else {
            const names = added.splice(0);
            await Promise.all(names.map((n) => remove.call(ctx.system, n)));
            ctx.log(`[chaos] scaled down: ${names.join(', ')}`);
          }
          await calm();
          if (!stop.signal.aborted) await sleep(everyMs);
        }
      })().catch((err) => ctx.log(`[chaos] rebalance storm stopped: ${(err as Error).message}`));
      return once(async () => {
        stop.abort();
        await storm;
        const names = added.splice(0);
        await Promise.all(names.map((n) => remove.call(ctx.system, n)));
        if (names.length) ctx.log(`[chaos] scaled back down: ${names.join(', ')}`);
      });
    },
  };
}

/**
 * Adds `extra` instances of a kind with extra environment (e.g. a skewed clock) for the fault's
 * duration; the heal removes them.
 */
export function extraInstances(
  kind: ProcessKind,
  envs: readonly NodeJS.ProcessEnv[],
  label = `+${envs.length} ${kind}`,
): Fault {
  return {
    label,
    kind: 'scale',
    target: kind,
    needs: ['processes', 'scaling'],
    async inject(ctx) {
      const { add, remove } = ctx.system;
      if (!add || !remove) throw new Error(`${label} needs a system this run started (not --attach)`);
      const names: string[] = [];
      for (const env of envs) names.push(await add.call(ctx.system, kind, env));
      ctx.log(`[chaos] added ${names.join(', ')}`);
      return once(async () => {
        await Promise.all(names.map((n) => remove.call(ctx.system, n)));
        ctx.log(`[chaos] removed ${names.join(', ')}`);
      });
    },
  };
}
