// The pure half of the Kafka flood: which messages, in which order. Each envelope is repeated k
// times, the stream is shuffled within a bounded reorder window, and deliberately bad messages
// (one per dead-letter reason) are mixed in. Deterministic for a seed, so a failing flood replays.
import type { DomainEvent, EventType, PurchaseConfirmedEvent } from '../../system/contracts/index.ts';
import { eventIdFor, maxMessageBytes, topics, uuidv5 } from '../../system/contracts/index.ts';
import type { Duration } from './duration.ts';
import { seededRandom } from './rng.ts';

/** The dead-letter reasons a bad message is built to trigger (RejectCode of contracts/validate.ts). */
export type BadKind =
  | 'malformed_json'
  | 'unknown_event_type'
  | 'schema_violation'
  | 'oversized'
  | 'wrong_topic';
export const badKinds: readonly BadKind[] = [
  'malformed_json',
  'unknown_event_type',
  'schema_violation',
  'oversized',
  'wrong_topic',
];

export interface FloodMessage {
  readonly topic: string;
  /** studentId, as the system keys its topics. */
  readonly key: string | null;
  readonly value: string;
  readonly eventId: string;
  readonly eventType: string;
  /** 0 for the first copy of an event, 1.. for its duplicates. */
  readonly copy: number;
  /** Set on deliberately invalid messages. */
  readonly bad?: BadKind;
  /** Position before the shuffle: how far the flood moved it shows the reordering. */
  readonly origin: number;
}

export interface FloodPlanOptions {
  /** Valid envelopes, ideally read back from the topics (so every copy is byte-identical to the real one). */
  readonly envelopes: readonly DomainEvent[];
  /** Copies of each envelope, >= 1. */
  readonly duplication: number;
  /** 1 keeps the order; w lets a message move by less than w positions either way. */
  readonly reorderWindow: number;
  /** Bad messages to mix in, per kind. */
  readonly bad?: Readonly<Partial<Record<BadKind, number>>>;
  /** Upper bound on the messages produced. */
  readonly maxMessages?: number;
  readonly seed: number;
}

/** A flood as data (scenarios/flood/*.ts), the way load profiles are. */
export interface FloodProfile {
  readonly name: string;
  readonly description: string;
  readonly duplication: number;
  readonly reorderWindow: number;
  readonly ratePerS: number;
  readonly maxMessages: number;
  readonly maxDuration: Duration;
  readonly bad?: Readonly<Partial<Record<BadKind, number>>>;
}

/** The PURCHASE_CONFIRMED envelope the API emits for a confirmed payment (timestamp = confirmedAt). */
export function purchaseConfirmedEnvelope(p: {
  readonly paymentId: string;
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number;
  readonly confirmedAt: string;
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
}): PurchaseConfirmedEvent {
  return {
    eventId: eventIdFor('PURCHASE_CONFIRMED', p.paymentId),
    correlationId: p.paymentId,
    causationId: null,
    eventType: 'PURCHASE_CONFIRMED',
    version: 1,
    timestamp: p.confirmedAt,
    payload: {
      paymentId: p.paymentId,
      studentId: p.studentId,
      courseId: p.courseId,
      amountCents: p.amountCents,
      metadata: { ...(p.metadata ?? {}) },
    },
  };
}

function keyOf(e: DomainEvent): string {
  return e.payload.studentId;
}

/** A topic that does not carry `type`: a valid event there is dead-lettered as wrong_topic. */
function otherTopic(type: EventType): string {
  return type === 'PURCHASE_CONFIRMED' ? topics.PURCHASE_CREATED : topics.PURCHASE_CONFIRMED;
}

/** Builds one message that the consumers must dead-letter with reason `kind`. */
export function badMessage(
  kind: BadKind,
  base: DomainEvent,
  eventId: string,
): Omit<FloodMessage, 'origin' | 'copy'> {
  const e = { ...base, eventId } as Record<string, unknown>;
  const common = { key: keyOf(base), eventId, bad: kind };
  switch (kind) {
    case 'malformed_json': {
      const text = JSON.stringify(e);
      return {
        ...common,
        topic: topics[base.eventType],
        eventType: base.eventType,
        value: text.slice(0, Math.floor(text.length / 2)),
      };
    }
    case 'unknown_event_type':
      return {
        ...common,
        topic: topics[base.eventType],
        eventType: 'PURCHASE_REFUNDED',
        value: JSON.stringify({ ...e, eventType: 'PURCHASE_REFUNDED' }),
      };
    case 'schema_violation':
      return {
        ...common,
        topic: topics[base.eventType],
        eventType: base.eventType,
        value: JSON.stringify({ ...e, version: 2 }),
      };
    case 'oversized':
      return {
        ...common,
        topic: topics[base.eventType],
        eventType: base.eventType,
        value: JSON.stringify({ ...e, padding: 'x'.repeat(maxMessageBytes + 1_024) }),
      };
    case 'wrong_topic':
      return {
        ...common,
        topic: otherTopic(base.eventType),
        eventType: base.eventType,
        value: JSON.stringify(e),
      };
  }
}

/**
 * Shuffles within a window: item i gets the sort key i + U[0, w), so two items at least w apart
 * never swap, and any item moves by less than w positions. w = 1 keeps the order.
 */
export function windowShuffle<T>(items: readonly T[], window: number, random: () => number): T[] {
  if (!(window >= 1)) throw new Error(`reorder window must be >= 1, got ${window}`);
  return items
    .map((item, i) => ({ item, key: i + random() * window }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);
}

/** The messages of a flood, in production order. */
export function planFlood(o: FloodPlanOptions): FloodMessage[] {
  if (!Number.isInteger(o.duplication) || o.duplication < 1)
    throw new Error(`duplication must be an integer >= 1, got ${o.duplication}`);
  const random = seededRandom(o.seed);
  const seq: Omit<FloodMessage, 'origin'>[] = [];
  for (const e of o.envelopes) {
    const value = JSON.stringify(e);
    for (let copy = 0; copy < o.duplication; copy++) {
      seq.push({
        topic: topics[e.eventType],
        key: keyOf(e),
        value,
        eventId: e.eventId,
        eventType: e.eventType,
        copy,
      });
    }
  }
  const base: DomainEvent =
    o.envelopes[0] ??
    purchaseConfirmedEnvelope({
      paymentId: uuidv5(`flood-base-payment:${o.seed}`),
      studentId: uuidv5(`flood-base-student:${o.seed}`),
      courseId: uuidv5(`flood-base-course:${o.seed}`),
      amountCents: 1_000,
      confirmedAt: '2026-01-01T00:00:00.000Z',
    });
  let n = 0;
  for (const kind of badKinds) {
    for (let i = 0; i < (o.bad?.[kind] ?? 0); i++) {
      const source = o.envelopes.length > 0 ? o.envelopes[n % o.envelopes.length]! : base;
      const msg = { ...badMessage(kind, source, uuidv5(`flood-bad:${o.seed}:${n}`)), copy: 0 };
      n++;
      seq.splice(Math.floor(random() * (seq.length + 1)), 0, msg);
    }
  }
  const withOrigin = seq.map((m, origin) => ({ ...m, origin }));
  const shuffled = windowShuffle(withOrigin, o.reorderWindow, random);
  return o.maxMessages === undefined ? shuffled : shuffled.slice(0, Math.max(0, o.maxMessages));
}

/** How many messages should have been sent `elapsedMs` into a flood at `ratePerS` (the first at once). */
export function dueByRate(elapsedMs: number, ratePerS: number, total: number): number {
  if (!(ratePerS > 0)) throw new Error(`rate must be > 0, got ${ratePerS}`);
  return Math.min(total, Math.floor((Math.max(0, elapsedMs) * ratePerS) / 1_000) + 1);
}
