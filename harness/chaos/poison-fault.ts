// poison flood as a fault: for the fault's duration, messages that can never be processed are
// produced straight into an event topic through the direct listener (the harness's traffic, not
// the system's): half malformed JSON, half well-formed envelopes that fail the schema. Each must be
// dead-lettered with its reason, never crash a worker or block a partition.
import { randomUUID } from 'node:crypto';
import { topics } from '../../system/contracts/index.ts';
import { harnessKafka } from '../lib/kafka.ts';
import { sleep } from '../lib/wait-for.ts';
import { once } from './network-faults.ts';
import type { Fault } from './scenario.ts';

export interface PoisonFloodOptions {
  readonly ratePerS: number;
  /** Stops after this many, even if the fault is still on. */
  readonly maxMessages: number;
}

/** The i-th poison message: malformed JSON on even i, a schema violation (amount as text) on odd i. */
export function poisonMessage(i: number): { key: string; value: string } {
  const key = randomUUID();
  if (i % 2 === 0) return { key, value: `{"eventId": "${randomUUID()}", "truncated` };
  return {
    key,
    value: JSON.stringify({
      eventId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      eventType: 'PURCHASE_CONFIRMED',
      version: 1,
      timestamp: new Date().toISOString(),
      payload: { paymentId: randomUUID(), studentId: key, courseId: randomUUID(), amountCents: 'lots' },
    }),
  };
}

export function poisonFlood(o: PoisonFloodOptions): Fault {
  return {
    label: `poison flood ${o.ratePerS}/s`,
    kind: 'flood',
    target: 'kafka',
    async inject(ctx) {
      const producer = harnessKafka(ctx.kafka.direct, 'payproof-poison').producer({
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      const stop = new AbortController();
      ctx.signal.addEventListener('abort', () => stop.abort(), { once: true });
      const topic = topics.PURCHASE_CONFIRMED;
      const flooding = (async () => {
        let sent = 0;
        const t0 = performance.now();
        while (!stop.signal.aborted && sent < o.maxMessages) {
          // Paced by the clock, not by the sends: a slow acknowledgement is caught up next time.
          const due = Math.min(o.maxMessages, Math.ceil((o.ratePerS * (performance.now() - t0)) / 1000));
          const n = due - sent;
          if (n <= 0) {
            await sleep(50);
            continue;
          }
          await producer.send({
            topic,
            acks: -1,
            messages: Array.from({ length: n }, (_, j) => poisonMessage(sent + j)),
          });
          sent += n;
        }
        ctx.figures.poison_produced = (Number(ctx.figures.poison_produced) || 0) + sent;
        ctx.log(`[chaos] poison flood: ${sent} messages into ${topic}`);
      })().catch((err) => ctx.log(`[chaos] poison flood failed: ${(err as Error).message}`));
      return once(async () => {
        stop.abort();
        await flooding;
        await producer.disconnect().catch(() => undefined);
      });
    },
  };
}
