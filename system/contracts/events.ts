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

export type PurchaseConfirmedEvent = Readonly<Static<typeof PurchaseConfirmed>>;
export type PurchaseCreatedEvent = Readonly<Static<typeof PurchaseCreated>>;
export type TrainerAllocatedEvent = Readonly<Static<typeof TrainerAllocated>>;

/** Every event of the flow, discriminated by `eventType`. */
export type DomainEvent = PurchaseConfirmedEvent | PurchaseCreatedEvent | TrainerAllocatedEvent;

export const eventSchemas = {
  PURCHASE_CONFIRMED: PurchaseConfirmed,
  PURCHASE_CREATED: PurchaseCreated,
  TRAINER_ALLOCATED: TrainerAllocated,
} as const;

/** Largest message a worker accepts; anything bigger is dead-lettered unparsed. */
export const maxMessageBytes = 64 * 1024;
