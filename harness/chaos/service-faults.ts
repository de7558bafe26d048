// Service faults on the infrastructure itself: a Kafka broker killed (SIGKILL) and started again,
// PostgreSQL stopped by an immediate shutdown (SIGQUIT: no checkpoint, crash recovery on start) and
// started again. Through the target's services (harness/target/): a target that cannot restart
// them (an external deployment) makes the scenario UNKNOWN before it starts.
import { once } from './network-faults.ts';
import type { Fault, FaultContext } from './scenario.ts';

function services(ctx: FaultContext, what: string) {
  if (!ctx.services) throw new Error(`${what} needs a target that can restart services`);
  return ctx.services;
}

/** Kills a service (`kafka`, `kafka-2`, `postgres`); the heal starts it and waits until it answers. */
export function restartService(name: string, label = `kill ${name}`): Fault {
  return {
    label,
    kind: 'restart',
    target: name,
    needs: ['services'],
    async inject(ctx) {
      const svc = services(ctx, label);
      if (ctx.holds.acquire(`down:${name}`) === 1) {
        ctx.log(
          `[chaos] ${name === 'postgres' ? 'immediate shutdown of postgres (SIGQUIT)' : `SIGKILL ${name}`}`,
        );
        await svc.kill(name);
      }
      return once(async () => {
        if (ctx.holds.release(`down:${name}`) !== 0) return;
        const t0 = performance.now();
        await svc.start(name);
        ctx.log(`[chaos] ${name} restarted, answering in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      });
    },
  };
}

/** SIGKILL the broker; the heal starts it again and waits until it answers through the proxy. */
export function restartKafka(): Fault {
  return restartService('kafka', 'kill kafka');
}

/** Immediate shutdown of PostgreSQL (SIGQUIT); the heal starts it (crash recovery) and waits for queries. */
export function restartPostgres(): Fault {
  return restartService('postgres', 'crash postgres');
}
