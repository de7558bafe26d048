// The model of the payment flow for the model-based property (issue 4, property 2): pure data and
// a handful of rules, small enough to check by eye against docs/semantics.md. Commands apply the
// same operation to this model and to the real system; after each one the real system's state,
// projected by SQL, must equal `project(model)`.
//
// Events are named by the payment whose flow they belong to (`PURCHASE_CREATED#3`: the purchase
// made from payment 3), so the model never needs the real ids; the real side maps its
// deterministic event ids back to these names.
import { dueSessionCount, isoDate, startDateFor } from '../../../system/contracts/schedule.ts';

export type Group = 'purchase-worker' | 'allocation-worker' | 'session-worker' | 'cache-worker';
export type EventType =
  | 'PURCHASE_CONFIRMED'
  | 'PURCHASE_CREATED'
  | 'TRAINER_ALLOCATED'
  | 'PAYMENT_REFUND_REQUESTED';

/** The order in which one delivery round hands each group its backlog (the real side does the same). */
export const groups: readonly Group[] = [
  'purchase-worker',
  'allocation-worker',
  'session-worker',
  'cache-worker',
];

/** Who reads what (contracts/topics.ts consumerGroups). */
export const readers: Readonly<Record<EventType, readonly Group[]>> = {
  PURCHASE_CONFIRMED: ['purchase-worker'],
  PURCHASE_CREATED: ['allocation-worker', 'cache-worker'],
  TRAINER_ALLOCATED: ['session-worker', 'cache-worker'],
  PAYMENT_REFUND_REQUESTED: ['purchase-worker'],
};

/** `TYPE#payment`. */
export type EventKey = `${EventType}#${number}`;

export function eventKey(type: EventType, payment: number): EventKey {
  return `${type}#${payment}`;
}

export function parseKey(key: EventKey): { type: EventType; payment: number } {
  const [type, n] = key.split('#') as [EventType, string];
  return { type, payment: Number(n) };
}

export interface Payment {
  readonly student: number;
  readonly course: number;
  status: 'pending' | 'succeeded';
}

export interface Allocation {
  readonly status: 'approved' | 'waitlisted';
  /** The payment whose purchase this allocation was made for. */
  readonly payment: number;
  readonly startDate: string;
  /** Sessions that exist (0 for a waitlisted allocation). */
  sessions: number;
}

const dayMs = 86_400_000;
/** Day 0 of the model's app clock, at noon (the real side sets its app clock to noon too). */
const epochMs = Date.parse('2026-01-01T12:00:00Z');

export interface ModelShape {
  readonly students: number;
  readonly courses: number;
  /** Sum of the trainers' capacities: allocation waitlists exactly when every trainer is full. */
  readonly capacity: number;
  /** Sessions per course. */
  readonly sessionCount: number;
}

export class FlowModel {
  readonly shape: ModelShape;
  /** Days the app clock has been advanced. */
  clockDays = 0;
  readonly payments: Payment[] = [];
  /** Every event ever emitted, in outbox order: one row per event (its id is deterministic). */
  readonly outbox: EventKey[] = [];
  /** Outbox rows already published (the relay publishes in outbox order). */
  published = 0;
  /** Published events each group has not yet committed, in topic order. */
  readonly backlog: Record<Group, EventKey[]> = {
    'purchase-worker': [],
    'allocation-worker': [],
    'session-worker': [],
    'cache-worker': [],
  };
  /**
   * Issue 15: outbox rows that went through the Redis Streams fallback. Not in Kafka until
   * `publish` (which takes every row Kafka has not had, these included): each is delivered again.
   */
  readonly streamed = new Set<EventKey>();
  /** The inbox: `group event` for every event a group has processed. */
  readonly processed: string[] = [];
  /** The active purchase of each student/course pair: the payment it came from. */
  readonly purchases = new Map<string, number>();
  /** The allocation of each pair (at most one: live or waitlisted). */
  readonly allocations = new Map<string, Allocation>();
  /** Live allocations, i.e. the sum of the trainers' loads. */
  load = 0;
  /** Payments whose capture has a refund request (a second payment for a course already owned). */
  readonly refunds: number[] = [];

  constructor(shape: ModelShape) {
    this.shape = shape;
  }

  now(): Date {
    return new Date(epochMs + this.clockDays * dayMs);
  }

  pairOf(payment: number): string {
    const p = this.payments[payment]!;
    return `s${p.student}/c${p.course}`;
  }

  // --- the API ----------------------------------------------------------------------------

  /** POST /payments: a pending payment. */
  create(student: number, course: number): number {
    this.payments.push({ student, course, status: 'pending' });
    return this.payments.length - 1;
  }

  /** POST /payments/:id/confirm on a pending payment: succeeded, and its event in the outbox. */
  confirm(payment: number): void {
    this.payments[payment]!.status = 'succeeded';
    this.emit(eventKey('PURCHASE_CONFIRMED', payment));
  }

  // Re-confirming with the same providerPaymentId, or confirming with another payment's, changes
  // nothing: those commands leave the model alone.

  /** A re-emission of an event that exists is a no-op (outbox ON CONFLICT (event_id) DO NOTHING). */
  emit(key: EventKey): void {
    if (!this.outbox.includes(key)) this.outbox.push(key);
  }

  // --- the relay and the consumers -----------------------------------------------------------

  /** The relay: every unpublished outbox row, in order, to the topic of its type. */
  publish(): void {
    for (const key of this.outbox.slice(this.published))
      for (const g of readers[parseKey(key).type]) this.backlog[g].push(key);
    this.published = this.outbox.length;
  }

  /**
   * The relay on the fallback (Kafka unreachable), then every group takes what its streams got, in
   * stream order: the rows Kafka has not had and no stream has had yet. They stay unpublished in
   * Kafka's sense, so a later `publish` delivers them a second time, by the other transport.
   */
  fallbackRound(): void {
    const batch = this.outbox.slice(this.published).filter((k) => !this.streamed.has(k));
    for (const key of batch) this.streamed.add(key);
    for (const g of groups)
      for (const key of batch) if (readers[parseKey(key).type].includes(g)) this.handle(g, key);
  }

  /** Rows a fallback round would take. */
  unstreamed(): number {
    return this.outbox.slice(this.published).filter((k) => !this.streamed.has(k)).length;
  }

  /** One group handles one event: at most once per (group, event), whatever the copies. */
  handle(group: Group, key: EventKey): 'applied' | 'duplicate' {
    const inbox = `${group} ${key}`;
    if (this.processed.includes(inbox)) return 'duplicate';
    this.processed.push(inbox);
    const { payment, type } = parseKey(key);
    const pair = this.pairOf(payment);
    if (group === 'purchase-worker' && type === 'PAYMENT_REFUND_REQUESTED') {
      // The refund request is recorded once per capture.
      if (!this.refunds.includes(payment)) this.refunds.push(payment);
    } else if (group === 'purchase-worker') {
      // One active purchase per pair: the first payment of a pair to be processed makes it; a
      // later one re-announces that purchase, whose event exists already, and its capture is
      // refunded (never absorbed).
      if (!this.purchases.has(pair)) {
        this.purchases.set(pair, payment);
        this.emit(eventKey('PURCHASE_CREATED', payment));
      } else if (this.purchases.get(pair) !== payment) {
        this.emit(eventKey('PAYMENT_REFUND_REQUESTED', payment));
      }
    } else if (group === 'allocation-worker') {
      // One allocation per pair; approved while any trainer has room, else waitlisted (no event).
      if (!this.allocations.has(pair)) {
        const startDate = startDateFor(this.now());
        if (this.load < this.shape.capacity) {
          this.load++;
          this.allocations.set(pair, { status: 'approved', payment, startDate, sessions: 0 });
          this.emit(eventKey('TRAINER_ALLOCATED', payment));
        } else {
          this.allocations.set(pair, { status: 'waitlisted', payment, startDate, sessions: 0 });
        }
      }
    } else if (group === 'session-worker') {
      this.fillWindow(this.allocations.get(pair)!);
    }
    // cache-worker: only Redis changes (not modelled) and its inbox row.
    return 'applied';
  }

  /** Sessions seq 1..due exist (never fewer than before: the slots are unique, inserts are idempotent). */
  fillWindow(a: Allocation): void {
    if (a.status !== 'approved') return;
    a.sessions = Math.max(a.sessions, dueSessionCount(a.startDate, this.shape.sessionCount, this.now()));
  }

  /** Every group takes its whole backlog once, in order or reversed, and commits it. */
  deliverRound(reversed: boolean): void {
    this.publish();
    for (const g of groups) {
      const batch = this.backlog[g].splice(0);
      if (reversed) batch.reverse();
      for (const key of batch) this.handle(g, key);
    }
  }

  /** Nothing left to publish or to consume. */
  quiet(): boolean {
    return this.published === this.outbox.length && groups.every((g) => this.backlog[g].length === 0);
  }

  /** The top-up job: every live allocation's window filled up to what is due now. */
  topUp(): void {
    for (const a of this.allocations.values()) this.fillWindow(a);
  }

  advance(days: number): void {
    this.clockDays += days;
  }
}

/** What the real system is compared on, in the model's vocabulary (indexes and event names). */
export interface Projection {
  readonly clockDays: number;
  /** Status of payment i, by index. */
  readonly payments: readonly string[];
  /** Outbox rows in id order. */
  readonly outbox: readonly EventKey[];
  readonly unpublished: number;
  /** What each group has yet to commit, in topic order. */
  readonly backlog: Readonly<Record<Group, readonly EventKey[]>>;
  /** Inbox rows, sorted. */
  readonly processed: readonly string[];
  /** `pair <- pPAYMENT active|inactive`, sorted: duplicates would show as two lines. */
  readonly purchases: readonly string[];
  /** `pair status pPAYMENT dayN sessions=K`, sorted (day: start date in app-clock days). */
  readonly allocations: readonly string[];
  /** `pPAYMENT`, sorted: payments with a refund request. */
  readonly refunds: readonly string[];
  /** Sum of the trainers' load counters. */
  readonly trainerLoad: number;
  /** Trainers whose counter differs from their live allocations or exceeds their capacity. */
  readonly trainersInconsistent: number;
  /** Sessions whose date or seq is not the contract's schedule of their allocation. */
  readonly misplacedSessions: number;
}

/**
 * A group's backlog in topic order: order holds within a topic, not across the topics of a group
 * (the relay groups a batch by topic; Kafka orders nothing across topics). Since issue 15 a batch can
 * hold a re-published event of one topic older than an unpublished event of another, so the two
 * sides are compared topic by topic (a stable sort by event type). The handlers of a group do not
 * depend on the order across its topics (a refund request and a later payment's confirmation).
 */
export function byTopic(keys: readonly EventKey[]): EventKey[] {
  const type = (k: string) => k.split('#')[0]!;
  return [...keys].sort((a, b) => (type(a) < type(b) ? -1 : type(a) > type(b) ? 1 : 0));
}

export function project(m: FlowModel): Projection {
  const day0 = Date.parse(`${isoDate(new Date(epochMs))}T00:00:00Z`);
  const dayOf = (date: string) => (Date.parse(`${date}T00:00:00Z`) - day0) / dayMs;
  return {
    clockDays: m.clockDays,
    payments: m.payments.map((p) => p.status),
    outbox: [...m.outbox],
    unpublished: m.outbox.length - m.published,
    backlog: Object.fromEntries(groups.map((g) => [g, byTopic(m.backlog[g])])) as Record<Group, EventKey[]>,
    processed: [...m.processed].sort(),
    purchases: [...m.purchases].map(([pair, p]) => `${pair} <- p${p} active`).sort(),
    allocations: [...m.allocations]
      .map(([pair, a]) => `${pair} ${a.status} p${a.payment} day${dayOf(a.startDate)} sessions=${a.sessions}`)
      .sort(),
    refunds: m.refunds.map((p) => `p${p}`).sort(),
    trainerLoad: m.load,
    trainersInconsistent: 0,
    misplacedSessions: 0,
  };
}
