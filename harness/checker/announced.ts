// Which entity an event announces, and the one event id that may announce it
// (system/contracts/ids.ts): PURCHASE_CONFIRMED <- paymentId, PURCHASE_CREATED <- purchaseId,
// TRAINER_ALLOCATED <- allocationId, PAYMENT_REFUND_REQUESTED <- refundId.
import type { DomainEvent } from '../../system/contracts/events.ts';
import { eventIdFor } from '../../system/contracts/ids.ts';
import type { EventType } from '../../system/contracts/topics.ts';

export interface Announcement {
  readonly eventType: EventType;
  readonly entityId: string;
  /** The deterministic event id of that entity. */
  readonly expectedEventId: string;
}

export function announcedEntity(event: DomainEvent): Announcement {
  const entityId =
    event.eventType === 'PURCHASE_CONFIRMED'
      ? event.payload.paymentId
      : event.eventType === 'PURCHASE_CREATED'
        ? event.payload.purchaseId
        : event.eventType === 'TRAINER_ALLOCATED'
          ? event.payload.allocationId
          : event.payload.refundId;
  return { eventType: event.eventType, entityId, expectedEventId: eventIdFor(event.eventType, entityId) };
}
