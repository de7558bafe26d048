// Event envelope and payloads: readonly, one schema each, shared by the system and the harness.
import { type Static, Type } from '@sinclair/typebox';

const Uuid = Type.String({ format: 'uuid' });
const Metadata = Type.Record(
  Type.String({ maxLength: 64 }),
  Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean()]),
  {
    maxProperties: 16,
  },
);

/** PURCHASE_CONFIRMED: a payment succeeded (emitted by the API, in the confirmation transaction). */
export const PurchaseConfirmedPayload = Type.Object(
  {
    paymentId: Uuid,
    studentId: Uuid,
    courseId: Uuid,
    /** Amount paid, in cents of `currency`. */
    amountCents: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    metadata: Metadata,
  },
  { additionalProperties: false },
);

/** PURCHASE_CREATED: the student owns the course (emitted by the purchase worker). */
export const PurchaseCreatedPayload = Type.Object(
  {
    purchaseId: Uuid,
    studentId: Uuid,
    courseId: Uuid,
    purchaseTier: Type.Integer({ minimum: 1, maximum: 10 }),
    metadata: Metadata,
  },
  { additionalProperties: false },
);

/** TRAINER_ALLOCATED: a trainer was assigned (emitted by the allocation worker). */
export const TrainerAllocatedPayload = Type.Object(
  {
    allocationId: Uuid,
    trainerId: Uuid,
    studentId: Uuid,
    courseId: Uuid,
    sessionCount: Type.Integer({ minimum: 1, maximum: 500 }),
    /** First day of the schedule, YYYY-MM-DD. */
    startDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
  },
  { additionalProperties: false },
);

/**
 * PAYMENT_REFUND_REQUESTED: money was captured that cannot become a purchase (the student already
 * owns the course, the payment had failed or expired, a second capture, a wrong amount). Emitted by
 * the purchase worker or by the API's webhook; handled by the purchase worker, which records the
 * refund request (refund_requests) for the provider. One per capture (`providerPaymentId`).
 */
export const PaymentRefundRequestedPayload = Type.Object(
  {
    refundId: Uuid,
    paymentId: Uuid,
    studentId: Uuid,
    courseId: Uuid,
    providerPaymentId: Type.String({ minLength: 1, maxLength: 128 }),
    amountCents: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    reason: Type.Union([
      Type.Literal('course_already_owned'),
      Type.Literal('captured_after_failure'),
      Type.Literal('duplicate_capture'),
      Type.Literal('amount_mismatch'),
    ]),
  },
  { additionalProperties: false },
);

function envelope<T extends string, P extends ReturnType<typeof Type.Object>>(eventType: T, payload: P) {
  return Type.Object(
    {
      eventId: Uuid,
      /** The payment this chain of events started from. */
      correlationId: Uuid,
      /** The event that caused this one; null for the first event of a chain. */
      causationId: Type.Union([Uuid, Type.Null()]),
      eventType: Type.Literal(eventType),
      version: Type.Literal(1),
      /** ISO 8601. */
      timestamp: Type.String({ format: 'date-time' }),
      payload,
    },
    { additionalProperties: false },
  );
}

export const PurchaseConfirmed = envelope('PURCHASE_CONFIRMED', PurchaseConfirmedPayload);
export const PurchaseCreated = envelope('PURCHASE_CREATED', PurchaseCreatedPayload);
export const TrainerAllocated = envelope('TRAINER_ALLOCATED', TrainerAllocatedPayload);

export const PaymentRefundRequested = envelope('PAYMENT_REFUND_REQUESTED', PaymentRefundRequestedPayload);

export type PurchaseConfirmedEvent = Readonly<Static<typeof PurchaseConfirmed>>;
export type PurchaseCreatedEvent = Readonly<Static<typeof PurchaseCreated>>;
export type TrainerAllocatedEvent = Readonly<Static<typeof TrainerAllocated>>;
export type PaymentRefundRequestedEvent = Readonly<Static<typeof PaymentRefundRequested>>;
export type RefundReason = PaymentRefundRequestedEvent['payload']['reason'];

/** Every event of the flow, discriminated by `eventType`. */
export type DomainEvent =
  | PurchaseConfirmedEvent
  | PurchaseCreatedEvent
  | TrainerAllocatedEvent
  | PaymentRefundRequestedEvent;

export const eventSchemas = {
  PURCHASE_CONFIRMED: PurchaseConfirmed,
  PURCHASE_CREATED: PurchaseCreated,
  TRAINER_ALLOCATED: TrainerAllocated,
  PAYMENT_REFUND_REQUESTED: PaymentRefundRequested,
} as const;

/** Largest message a worker accepts; anything bigger is dead-lettered unparsed. */
export const maxMessageBytes = 64 * 1024;
