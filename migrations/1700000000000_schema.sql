-- Up Migration
-- The seed's tables and idempotency guards (see DESIGN.md "Idempotency"). Every guard that
-- decides "already done" is a database constraint, so it holds under any concurrency.

CREATE TABLE students (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE courses (
  id            uuid PRIMARY KEY,
  title         text NOT NULL,
  session_count integer NOT NULL DEFAULT 30 CHECK (session_count BETWEEN 1 AND 500),
  purchase_tier integer NOT NULL DEFAULT 1 CHECK (purchase_tier BETWEEN 1 AND 10),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- active_allocations is a load counter kept in step with trainer_allocations; the checker
-- verifies both that it equals the real count and that the real count never exceeds capacity.
CREATE TABLE trainers (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL,
  capacity           integer NOT NULL CHECK (capacity >= 0),
  active_allocations integer NOT NULL DEFAULT 0 CHECK (active_allocations >= 0),
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments (
  id                  uuid PRIMARY KEY,
  student_id          uuid NOT NULL REFERENCES students (id),
  course_id           uuid NOT NULL REFERENCES courses (id),
  amount_cents        bigint NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 100000000),
  currency            char(3) NOT NULL DEFAULT 'EUR',
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_payment_id text UNIQUE,
  idempotency_key     text UNIQUE,
  request_hash        text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  confirmed_at        timestamptz,
  CHECK ((status = 'succeeded') = (provider_payment_id IS NOT NULL AND confirmed_at IS NOT NULL))
);
CREATE INDEX payments_student ON payments (student_id);

CREATE TABLE student_course_purchases (
  id            uuid PRIMARY KEY,
  payment_id    uuid NOT NULL REFERENCES payments (id),
  student_id    uuid NOT NULL REFERENCES students (id),
  course_id     uuid NOT NULL REFERENCES courses (id),
  purchase_tier integer NOT NULL,
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- The seed's guard: one active purchase per student and course.
CREATE UNIQUE INDEX student_course_purchases_one_active
  ON student_course_purchases (student_id, course_id) WHERE is_active;
CREATE INDEX student_course_purchases_payment ON student_course_purchases (payment_id);

CREATE TABLE trainer_allocations (
  id              uuid PRIMARY KEY,
  purchase_id     uuid NOT NULL REFERENCES student_course_purchases (id),
  student_id      uuid NOT NULL REFERENCES students (id),
  course_id       uuid NOT NULL REFERENCES courses (id),
  trainer_id      uuid REFERENCES trainers (id),
  status          text NOT NULL CHECK (status IN ('approved', 'active', 'waitlisted', 'cancelled')),
  waitlist_reason text,
  session_count   integer NOT NULL CHECK (session_count BETWEEN 1 AND 500),
  start_date      date NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((status IN ('approved', 'active')) = (trainer_id IS NOT NULL)),
  CHECK ((status = 'waitlisted') = (waitlist_reason IS NOT NULL))
);
-- The seed's guard: one live allocation per student and course.
CREATE UNIQUE INDEX trainer_allocations_one_live
  ON trainer_allocations (student_id, course_id) WHERE status IN ('approved', 'active');
-- A waitlist entry is an allocation outcome too: at most one per student and course.
CREATE UNIQUE INDEX trainer_allocations_one_waitlisted
  ON trainer_allocations (student_id, course_id) WHERE status = 'waitlisted';
CREATE INDEX trainer_allocations_trainer ON trainer_allocations (trainer_id) WHERE status IN ('approved', 'active');

CREATE TABLE tutoring_sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  allocation_id  uuid NOT NULL REFERENCES trainer_allocations (id),
  trainer_id     uuid NOT NULL REFERENCES trainers (id),
  student_id     uuid NOT NULL REFERENCES students (id),
  seq            integer NOT NULL CHECK (seq >= 1),
  scheduled_date date NOT NULL,
  scheduled_time time NOT NULL,
  status         text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'done', 'cancelled')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- The seed's guard: one session per allocation and slot.
  UNIQUE (allocation_id, scheduled_date, scheduled_time)
);

-- The inbox: keyed by consumer group as well as event id, because two groups (allocation and
-- cache) consume the same PURCHASE_CREATED event.
CREATE TABLE processed_events (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  event_type   text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- The transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  event_id         uuid NOT NULL UNIQUE,
  event_type       text NOT NULL,
  topic            text NOT NULL,
  message_key      text NOT NULL,
  envelope         jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  published_at     timestamptz,
  publish_attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- The system's notion of "now" is wall time plus this offset, so that tests and chaos runs can
-- advance days in seconds for every process at once.
CREATE TABLE app_clock (
  id        integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  offset_ms bigint NOT NULL DEFAULT 0
);
INSERT INTO app_clock (id, offset_ms) VALUES (1, 0);

-- Down Migration
DROP TABLE app_clock;
DROP TABLE outbox;
DROP TABLE processed_events;
DROP TABLE tutoring_sessions;
DROP TABLE trainer_allocations;
DROP TABLE student_course_purchases;
DROP TABLE payments;
DROP TABLE trainers;
DROP TABLE courses;
DROP TABLE students;
