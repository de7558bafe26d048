// duplicate-flood as a fault: for the fault's duration, every event the system has emitted so far
// is re-injected k times, shuffled within a window, straight into the topics (harness/load/flood.ts),
// on top of the live load. The heal stops the flood and waits for its last batch.
import type { DomainEvent } from '../../system/contracts/index.ts';
import { topics } from '../../system/contracts/index.ts';
import { createFloodProducer, planFlood, readEnvelopes, runFlood } from '../load/flood.ts';
import { once } from './network-faults.ts';
import type { Fault } from './scenario.ts';

export interface FloodFaultOptions {
  /** Copies of each envelope (the original included), >= 2 to deliver duplicates. */
  readonly duplication: number;
  /** 1 keeps the order; w lets a copy move by less than w positions either way. */
  readonly reorderWindow: number;
  readonly ratePerS: number;
  readonly maxMessages: number;
  readonly seed?: number;
}

export function duplicateFlood(o: FloodFaultOptions): Fault {
  return {
    label: `flood ×${o.duplication} (window ${o.reorderWindow})`,
    kind: 'flood',
    target: 'kafka',
    async inject(ctx) {
      // Read through the direct listener: the flood is the harness's, not the system's traffic.
      const names = Object.values(topics);
      const perTopic = Math.ceil(o.maxMessages / o.duplication / names.length);
      // The topics are read at once: one after the other, each consumer group's join on a saturated
      // machine made the reading take 18 s of a 20 s flood (verify, 2026-12-02: 501 of 6,270
      // messages produced before the heal).
      const readStart = performance.now();
      const byTopic: DomainEvent[][] = await Promise.all(
        names.map((topic) =>
          readEnvelopes(ctx.kafka.direct, topic, { maxMessages: perTopic, timeoutMs: 8_000 }),
        ),
      );
      ctx.figures.flood_read_ms = Math.round(performance.now() - readStart);
      // Round-robin over the topics: a flood cut short (by its `for`, or a slow machine) still
      // duplicated every event type, not only the first topic's (it used to send one topic after
      // the other: a 20 s flood at 400 msg/s reached only PURCHASE_CONFIRMED when the machine was busy).
      const envelopes = interleave(byTopic);
      if (envelopes.length === 0) throw new Error('duplicate flood: no event in the topics yet to duplicate');
      const messages = planFlood({
        envelopes,
        duplication: o.duplication,
        reorderWindow: o.reorderWindow,
        maxMessages: o.maxMessages,
        seed: o.seed ?? 1,
      });
      const producer = await createFloodProducer(ctx.kafka.direct);
      const stop = new AbortController();
      ctx.signal.addEventListener('abort', () => stop.abort(), { once: true });
      ctx.log(
        `[chaos] flood: ${messages.length} messages from ${envelopes.length} envelopes at ${o.ratePerS}/s`,
      );
      const flooding = runFlood({
        producer,
        messages,
        ratePerS: o.ratePerS,
        maxDurationMs: 120_000,
        history: ctx.history,
        signal: stop.signal,
      }).then(
        (r) => {
          const f = ctx.figures;
          f.flood_planned = (Number(f.flood_planned) || 0) + r.planned;
          f.flood_produced = (Number(f.flood_produced) || 0) + r.produced;
          f.flood_duplicates = (Number(f.flood_duplicates) || 0) + r.duplicates;
          ctx.log(
            `[chaos] flood: ${r.produced} produced (${r.duplicates} duplicates), stopped by ${r.stoppedBy}`,
          );
        },
        (err) => ctx.log(`[chaos] flood failed: ${(err as Error).message}`),
      );
      return once(async () => {
        stop.abort();
        await flooding;
        await producer.disconnect().catch(() => undefined);
      });
    },
  };
}

/** [a1, b1, c1, a2, b2, a3, ...]: one from each list in turn, until every list is used up. */
export function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
