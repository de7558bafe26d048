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
  | 'database_unavailable'
  | 'internal';

export interface ApiError {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

export interface CreatePaymentRequest {
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number;
  /** ISO 4217, default EUR. */
  readonly currency?: string;
}

export interface PaymentView {
  readonly id: string;
  readonly studentId: string;
  readonly courseId: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly providerPaymentId: string | null;
  readonly createdAt: string;
  readonly confirmedAt: string | null;
}

export interface ConfirmPaymentRequest {
  readonly providerPaymentId: string;
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
