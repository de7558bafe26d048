// Service faults on the stack itself: the Kafka broker killed (SIGKILL) and started again, PostgreSQL
// stopped by an immediate shutdown (SIGQUIT: no checkpoint, crash recovery on start) and started
// again. Only on a stack this run started: an attached stack is someone else's to restart.
import { once } from './network-faults.ts';
import type { Fault, FaultContext } from './scenario.ts';

function ownStack(ctx: FaultContext, what: string) {
  if (!ctx.stack) throw new Error(`${what} needs a stack this run started (not --attach)`);
  return ctx.stack;
}

/** SIGKILL the broker; the heal starts it again and waits until it answers through the proxy. */
export function restartKafka(): Fault {
  return {
    label: 'kill kafka',
    kind: 'restart',
    target: 'kafka',
    needs: ['own-stack'],
    async inject(ctx) {
      const stack = ownStack(ctx, 'restart-kafka');
      if (ctx.holds.acquire('down:kafka') === 1) {
        ctx.log('[chaos] SIGKILL kafka');
        await stack.kafka.kill();
      }
      return once(async () => {
        if (ctx.holds.release('down:kafka') !== 0) return;
        const t0 = performance.now();
        await stack.kafka.start();
        await stack.kafka.waitReady(stack.endpoints.kafkaBrokers, 90_000);
        ctx.log(`[chaos] kafka restarted, answering in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      });
    },
  };
}

/** Immediate shutdown of PostgreSQL (SIGQUIT); the heal starts it (crash recovery) and waits for queries. */
export function restartPostgres(): Fault {
  return {
    label: 'crash postgres',
    kind: 'restart',
    target: 'postgres',
    needs: ['own-stack'],
    async inject(ctx) {
      const stack = ownStack(ctx, 'restart-postgres');
      if (ctx.holds.acquire('down:postgres') === 1) {
        ctx.log('[chaos] immediate shutdown of postgres (SIGQUIT)');
        await stack.postgres.crash();
      }
      return once(async () => {
        if (ctx.holds.release('down:postgres') !== 0) return;
        const t0 = performance.now();
        await stack.postgres.start();
        ctx.log(`[chaos] postgres restarted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      });
    },
  };
}
