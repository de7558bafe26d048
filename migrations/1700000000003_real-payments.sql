-- Up Migration
-- Real payments (issue 14, docs/payments.md): the server's prices, confirmation only from a signed
-- provider webhook (idempotent by the provider's event id), Idempotency-Keys scoped to the student,
-- pending payments that expire, refund requests for money that cannot become a purchase, and an
-- application role with only the grants the system needs.

-- The price is the server's: a payment's amount is its course's price.
ALTER TABLE courses
  ADD COLUMN price_cents bigint NOT NULL DEFAULT 4900 CHECK (price_cents > 0 AND price_cents <= 100000000),
  ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR';

-- 'flagged': the provider captured an amount or currency that is not the payment's. Never
-- confirmed; the capture becomes a refund request.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments
  ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'flagged')),
  ADD COLUMN failure_reason text,
  ADD CONSTRAINT payments_failure_reason CHECK ((status IN ('failed', 'flagged')) = (failure_reason IS NOT NULL));

-- An Idempotency-Key belongs to the student who sent it: two students may pick the same key.
ALTER TABLE payments DROP CONSTRAINT payments_idempotency_key_key;
ALTER TABLE payments ADD CONSTRAINT payments_student_idempotency_key UNIQUE (student_id, idempotency_key);
-- The expiry sweep reads pending payments oldest first.
CREATE INDEX payments_pending_created ON payments (created_at) WHERE status = 'pending';

-- Every provider event received with a valid signature, once: the provider's event id makes the
-- webhook idempotent (the same event again answers the stored outcome and changes nothing).
CREATE TABLE provider_events (
  id                  text PRIMARY KEY,
  payment_id          uuid NOT NULL REFERENCES payments (id),
  type                text NOT NULL CHECK (type IN ('payment_succeeded', 'payment_failed')),
  provider_payment_id text NOT NULL,
  amount_cents        bigint NOT NULL,
  currency            char(3) NOT NULL,
  outcome             text NOT NULL,
  received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_events_payment ON provider_events (payment_id);

-- Money captured that cannot become a purchase: one refund request per capture.
CREATE TABLE refund_requests (
  id                  uuid PRIMARY KEY,
  payment_id          uuid NOT NULL REFERENCES payments (id),
  provider_payment_id text NOT NULL UNIQUE,
  student_id          uuid NOT NULL REFERENCES students (id),
  course_id           uuid NOT NULL REFERENCES courses (id),
  amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
  currency            char(3) NOT NULL,
  reason              text NOT NULL CHECK (reason IN ('course_already_owned', 'captured_after_failure', 'duplicate_capture', 'amount_mismatch')),
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refund_requests_student ON refund_requests (student_id);

-- Least privilege: the system connects as payproof_app, which can read and write rows but owns
-- nothing and cannot change the schema. Roles are per cluster, so it may exist already.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'payproof_app') THEN
    CREATE ROLE payproof_app LOGIN;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO payproof_app;
GRANT SELECT ON students, courses, trainers, app_clock TO payproof_app;
GRANT UPDATE (active_allocations) ON trainers TO payproof_app;
GRANT SELECT, INSERT, UPDATE ON payments, student_course_purchases, trainer_allocations, tutoring_sessions,
  outbox, provider_events TO payproof_app;
GRANT SELECT, INSERT, DELETE ON processed_events TO payproof_app;
GRANT SELECT, INSERT ON refund_requests TO payproof_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO payproof_app;

-- Down Migration
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM payproof_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM payproof_app;
REVOKE USAGE ON SCHEMA public FROM payproof_app;
DROP TABLE refund_requests;
DROP TABLE provider_events;
DROP INDEX payments_pending_created;
ALTER TABLE payments DROP CONSTRAINT payments_student_idempotency_key;
ALTER TABLE payments ADD CONSTRAINT payments_idempotency_key_key UNIQUE (idempotency_key);
ALTER TABLE payments DROP CONSTRAINT payments_failure_reason, DROP COLUMN failure_reason;
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'failed'));
ALTER TABLE courses DROP COLUMN currency, DROP COLUMN price_cents;
