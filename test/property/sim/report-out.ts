// What a property test leaves for `npm run property`: one JSON line per finding in
// $PAYPROOF_PROPERTY_OUT, and every run's client history appended to $PAYPROOF_PROPERTY_HISTORY.
import { appendFileSync } from 'node:fs';
import type { CheckedInvariant } from '../../../harness/checker/judge.ts';
import type { HistoryOp } from '../../../harness/run/history.ts';
import type { RunStats } from './run-scenario.ts';

export function record(kind: string, data: Record<string, unknown>): void {
  const out = process.env.PAYPROOF_PROPERTY_OUT;
  if (out) appendFileSync(out, `${JSON.stringify({ kind, ...data })}\n`);
}

/** Aggregates invariant results and stats over the runs of one property. */
export class RunTally {
  readonly invariants = new Map<
    string,
    {
      description: string;
      true: number;
      false: number;
      unknown: number;
      checked: number;
      violations: number;
      examples: unknown[];
    }
  >();
  readonly exercised: Record<string, number> = {};
  runs = 0;
  #historyRun = 0;
  /** Names this property's runs in the shared history file, so two properties' indexes never collide. */
  readonly #label: string;
  readonly #indexBase: number;

  constructor(label = '', indexBase = 0) {
    this.#label = label;
    this.#indexBase = indexBase;
  }

  add({
    results,
    stats,
    history,
  }: {
    results: readonly CheckedInvariant[];
    stats: RunStats;
    history: readonly HistoryOp[];
  }) {
    this.runs++;
    for (const r of results) {
      const t = this.invariants.get(r.name) ?? {
        description: r.description,
        true: 0,
        false: 0,
        unknown: 0,
        checked: 0,
        violations: 0,
        examples: [],
      };
      t[String(r.valid) as 'true' | 'false' | 'unknown']++;
      t.checked += r.checked;
      t.violations += r.violations;
      if (r.valid === false && t.examples.length < 5)
        t.examples.push(...r.examples.slice(0, 5 - t.examples.length));
      this.invariants.set(r.name, t);
    }
    const numeric: Record<string, number> = {
      duplicatesDelivered: stats.duplicatesDelivered,
      outOfOrderDeliveries: stats.outOfOrder,
      retriesAfterTransientError: stats.abortedTransactions + stats.relayRetries,
      restarts: stats.redeliveredChunks,
      deadLettered: stats.deadLettered,
      cacheReads: stats.dashboardReads,
      deliveries: stats.deliveries,
    };
    for (const [k, v] of Object.entries(numeric)) this.exercised[k] = (this.exercised[k] ?? 0) + v;
    const path = process.env.PAYPROOF_PROPERTY_HISTORY;
    if (path) {
      const run = this.#historyRun++;
      appendFileSync(
        path,
        history
          .map((op) =>
            JSON.stringify({
              ...op,
              index: this.#indexBase + run * 100_000 + op.index,
              process: `${this.#label}run${run}`,
            }),
          )
          .join('\n') + '\n',
      );
    }
  }

  toJSON() {
    return { runs: this.runs, invariants: Object.fromEntries(this.invariants), exercised: this.exercised };
  }
}
