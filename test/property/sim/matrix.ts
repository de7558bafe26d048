// The planted-bug catalogue and the defense-in-depth matrix (issue 12), as data: which planted bugs
// each row switches on, and for the catalogue which invariant must name the harm. The test
// (planted-bugs.int.test.ts) runs every row through the handler-level property in harm-only mode;
// `npm run property -- --planted all` turns its records into the tables of the report.
import type { PlantedFault } from '../../../system/lib/faults.ts';

export interface MatrixRow {
  /** `a+b`: the planted bugs switched on together. */
  readonly name: string;
  readonly faults: readonly PlantedFault[];
  /**
   * `bug`: a row of the catalogue, which must be caught through a user-visible effect, with
   * `expect` among the failed invariants. `layer` / `pair`: a defense layer removed alone, or two
   * together: the outcome (harm, or absorbed) is what is measured, there is no expectation.
   */
  readonly kind: 'bug' | 'layer' | 'pair';
  /** The invariant that names the bug (catalogue rows). */
  readonly expect?: string;
  /** The layer(s) removed (matrix rows). */
  readonly layers?: readonly string[];
  /** What the bug does, in one line. */
  readonly what: string;
}

/** Each defense layer and the planted bugs that remove it. */
export const layers: Readonly<Record<string, readonly PlantedFault[]>> = {
  inbox: ['skip-inbox'],
  'unique constraints': ['no-purchase-unique', 'no-allocation-unique', 'no-session-unique'],
  'deterministic ids': ['random-downstream-ids'],
  'row locks': ['allocate-without-lock'],
  'outbox (atomic with the change)': ['confirm-two-transactions'],
  'outbox (marked after the ack)': ['publish-before-commit'],
};

const bug = (faults: PlantedFault[], expect: string, what: string): MatrixRow => ({
  name: faults.join('+'),
  faults,
  kind: 'bug',
  expect,
  what,
});

/** One planted bug (or pair) per invariant, each caught through an effect a user would see. */
export const catalogue: readonly MatrixRow[] = [
  bug(
    ['no-purchase-unique'],
    'no-duplicate-purchases',
    'a second payment for a pair makes a second active purchase',
  ),
  bug(
    ['no-purchase-unique', 'no-allocation-unique'],
    'no-duplicate-allocations',
    'and the allocation worker does not guard the pair: two live allocations',
  ),
  bug(
    ['skip-inbox', 'no-session-unique'],
    'no-duplicate-sessions',
    'a redelivered TRAINER_ALLOCATED schedules the sessions again',
  ),
  bug(
    ['publish-before-commit'],
    'nothing-lost',
    'a failed send after the mark loses the event: a payment without its purchase',
  ),
  bug(['publish-before-commit'], 'outbox-drained', 'rows marked published that no topic holds'),
  bug(
    ['confirm-two-transactions', 'trust-event'],
    'causal-closure',
    'an event committed before its payment succeeded, believed by the purchase worker: a course without a payment',
  ),
  bug(
    ['wrong-causation'],
    'causal-closure',
    'a purchase announced as caused by its payment, not by the confirmation event: the audit trail from a course back to its payment is broken',
  ),
  bug(['allocate-without-lock'], 'trainer-capacity', 'lost updates of the trainer counter: over capacity'),
  bug(
    ['dedupe-by-key'],
    'events-processed',
    'a second event of one student in a chunk is dropped unprocessed: a payment without its purchase',
  ),
  bug(['dedupe-by-key'], 'processing-success-rate', 'the same dropped events, as a rate'),
  bug(
    ['random-downstream-ids', 'no-session-unique'],
    'event-identity',
    'an allocation re-announced under a new id schedules its sessions twice',
  ),
  bug(['skip-cache-invalidation'], 'cache-converged', 'dashboards never invalidated: a stale view'),
  bug(
    ['confirm-two-transactions'],
    'no-half-done',
    'the confirm answered 503 after the event committed: an announced payment that never succeeded',
  ),
  bug(
    ['ignore-idempotency-key'],
    'idempotency-keys',
    'a retried create with the same key makes a second payment',
  ),
  // Issue 14: real payments (docs/payments.md).
  bug(
    ['absorb-repeat-capture'],
    'money',
    'a payment for a course the student already owns is captured and kept: neither a purchase nor a refund',
  ),
  bug(['trust-client-amount'], 'money', "the client's amount is the price: a course bought for 1 cent"),
  bug(
    ['skip-signature-check'],
    'no-forged-effect',
    'a webhook signed with the wrong secret confirms a payment the provider never captured',
  ),
  bug(['no-ownership-check'], 'ownership', "a student reads another student's dashboard"),
  // Issue 13: the planted cause of PayproofConstraintViolations (test/e2e/alerts-fire.e2e.test.ts).
  bug(
    ['bare-outbox-insert'],
    'money',
    'the outbox insert without ON CONFLICT: a second payment for an owned course throws a unique violation and is dead-lettered, neither a purchase nor a refund',
  ),
];

const layerRow = (names: string[], kind: 'layer' | 'pair'): MatrixRow => {
  const faults = names.flatMap((n) => [...(layers[n] ?? [])]);
  return {
    name: faults.join('+'),
    faults,
    kind,
    layers: names,
    what: `${names.join(' + ')} removed`,
  };
};

/** Each layer removed alone, then the pairs that matter (the layers that back each other up). */
export const matrix: readonly MatrixRow[] = [
  ...Object.keys(layers).map((n) => layerRow([n], 'layer')),
  layerRow(['inbox', 'unique constraints'], 'pair'),
  layerRow(['inbox', 'deterministic ids'], 'pair'),
  layerRow(['unique constraints', 'deterministic ids'], 'pair'),
  layerRow(['inbox', 'row locks'], 'pair'),
];

/**
 * Planted bugs the handler-level property cannot show, and the chaos scenario that proves each
 * instead. `no-kafka-republish` needs a Kafka outage long enough for the relay's breaker to move to
 * the Redis Streams fallback: `npm run chaos -- partition-kafka --faults no-kafka-republish` FAILS
 * on outbox-drained (rows marked published that Kafka does not hold).
 */
export const provenByChaos: Readonly<Partial<Record<PlantedFault, string>>> = {
  'no-kafka-republish': 'partition-kafka',
};

/** The rows `--planted` selects: `all`, `catalogue`, `matrix`, or row names / single bug names. */
export function selectRows(spec: string): MatrixRow[] {
  const parts = spec.split(',').filter(Boolean);
  const every = [...catalogue, ...matrix];
  if (parts.includes('all')) return every;
  const out: MatrixRow[] = [];
  for (const p of parts) {
    if (p === 'catalogue') out.push(...catalogue);
    else if (p === 'matrix') out.push(...matrix);
    else out.push(...every.filter((r) => r.name === p || r.faults.includes(p as PlantedFault)));
  }
  return out.filter(
    (r, i) => out.findIndex((x) => x.kind === r.kind && x.name === r.name && x.expect === r.expect) === i,
  );
}
