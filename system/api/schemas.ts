// JSON schemas of the API's inputs; additional properties are errors, types are never coerced.

export const uuidParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export const createPaymentBody = {
  type: 'object',
  required: ['courseId'],
  additionalProperties: false,
  properties: {
    studentId: { type: 'string', format: 'uuid' },
    courseId: { type: 'string', format: 'uuid' },
    amountCents: { type: 'integer', minimum: 1, maximum: 100_000_000 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
  },
} as const;

export const providerWebhookBody = {
  type: 'object',
  required: ['id', 'type', 'created', 'data'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
    type: { type: 'string', enum: ['payment_succeeded', 'payment_failed'] },
    created: { type: 'integer', minimum: 0 },
    data: {
      type: 'object',
      required: ['paymentId', 'providerPaymentId', 'amountCents', 'currency'],
      additionalProperties: false,
      properties: {
        paymentId: { type: 'string', format: 'uuid' },
        providerPaymentId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
        amountCents: { type: 'integer', minimum: 1, maximum: 100_000_000 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      },
    },
  },
} as const;

export const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;
