// The payment API's request and response shapes and its error codes.

/** Machine-readable error codes of the API; every 4xx/5xx body is `{ error: { code, message } }`. */
export type ApiErrorCode =
  | 'malformed_json'
  | 'validation_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_id'
  | 'payment_not_found'
  | 'unknown_student'
  | 'unknown_course'
  | 'idempotency_key_reused'
  | 'provider_payment_id_conflict'
  | 'provider_payment_id_in_use'
  | 'not_found'
  | 'unauthenticated'
  | 'invalid_token'
  | 'forbidden'
  | 'amount_mismatch'
  | 'invalid_signature'
  | 'rate_limited'
  | 'request_timeout'
  | 'database_unavailable'
  | 'overloaded'
  | 'internal';

export interface ApiError {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

export interface CreatePaymentRequest {
  /** Optional: the authenticated student's id; another student's is a 403. */
  readonly studentId?: string;
  readonly courseId: string;
  /** Optional: the course's price is the amount; a different amount is a 422 amount_mismatch. */
  readonly amountCents?: number;
  /** Optional: the course's currency; a different one is a 422 amount_mismatch. */
  readonly currency?: string;
}

export interface PaymentView {
  readonly id: string;
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly status: 'pending' | 'succeeded' | 'failed' | 'flagged';
  readonly providerPaymentId: string | null;
  readonly createdAt: string;
  readonly confirmedAt: string | null;
}

/**
 * What the payment provider POSTs to /webhooks/provider, signed (system/contracts/webhook.ts). `id` is
 * the provider's event id: the same event delivered again answers the same and changes nothing.
 */
export interface ProviderWebhook {
  readonly id: string;
  readonly type: 'payment_succeeded' | 'payment_failed';
  /** Unix seconds when the provider created the event. */
  readonly created: number;
  readonly data: {
    readonly paymentId: string;
    readonly providerPaymentId: string;
    readonly amountCents: number;
    readonly currency: string;
  };
}

/**
 * What a provider event did (stored with the event, answered again on a redelivery):
 * confirmed, failed, already_confirmed (same capture again), flagged_amount_mismatch,
 * refund_duplicate_capture, refund_captured_after_failure (a refund request was made),
 * ignored_succeeded / ignored_failed / ignored_flagged (a failure after the payment was decided),
 * rejected_capture_of_another_payment (the providerPaymentId confirmed another payment: 409).
 */
export type WebhookOutcome =
  | 'confirmed'
  | 'failed'
  | 'already_confirmed'
  | 'flagged_amount_mismatch'
  | 'refund_duplicate_capture'
  | 'refund_captured_after_failure'
  | 'ignored_succeeded'
  | 'ignored_failed'
  | 'ignored_flagged'
  | 'rejected_capture_of_another_payment';

/** The answer to a webhook: the payment as it is after the event, with the event's outcome. */
export interface WebhookAnswer extends PaymentView {
  readonly providerEventId: string;
  readonly outcome: WebhookOutcome;
}

export interface DashboardView {
  readonly studentId: string;
  readonly purchases: readonly {
    readonly purchaseId: string;
    readonly courseId: string;
    readonly purchaseTier: number;
  }[];
  readonly allocations: readonly {
    readonly allocationId: string;
    readonly courseId: string;
    readonly trainerId: string | null;
    readonly status: string;
  }[];
  readonly upcomingSessions: readonly {
    readonly allocationId: string;
    readonly seq: number;
    readonly date: string;
    readonly time: string;
  }[];
}

/** Redis key of a student's cached dashboard. */
export function dashboardCacheKey(studentId: string): string {
  return `dashboard:v1:${studentId}`;
}

/** Header that makes POST /payments idempotent. */
export const idempotencyHeader = 'idempotency-key';
