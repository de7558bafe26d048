// JSON schemas of the API's inputs; additional properties are errors, types are never coerced.

export const uuidParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export const createPaymentBody = {
  type: 'object',
  required: ['studentId', 'courseId', 'amountCents'],
  additionalProperties: false,
  properties: {
    studentId: { type: 'string', format: 'uuid' },
    courseId: { type: 'string', format: 'uuid' },
    amountCents: { type: 'integer', minimum: 1, maximum: 100_000_000 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
  },
} as const;

export const confirmPaymentBody = {
  type: 'object',
  required: ['providerPaymentId'],
  additionalProperties: false,
  properties: {
    providerPaymentId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
  },
} as const;

export const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;
