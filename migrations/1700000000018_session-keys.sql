-- Up Migration
-- Index entries every payment writes that no statement needs (docs/benchmarks.md, twenty-second
-- round).
--
-- * The sessions' surrogate id: nothing refers to a session by it, and each of a payment's ~7
--   sessions paid a nextval and an entry in its index. The seed's guard (allocation, date, time)
--   becomes the primary key, under the constraint name it always had (the handlers, the planted bug
--   no-session-unique and the tests name it). Measured with pgbench (1 client, 77 allocations x 7
--   sessions per statement, as the session worker's chunks, into copies of the table without the
--   student index): 5.5 ms per statement with the surrogate key, 4.1 without.
-- * payments_student: payments_student_idempotency_key (student_id, idempotency_key) leads with
--   student_id and serves every lookup by student; the single-column index was a second entry per
--   payment insert and per confirmation (a non-HOT update: provider_payment_id is indexed).
-- * student_course_purchases_student: every query of a student's purchases (the dashboard, the
--   purchase worker, the checker) asks for the active ones, which
--   student_course_purchases_one_active (student_id, course_id) WHERE is_active serves.
--
-- Kept: tutoring_sessions_student. The same statement takes 7.7 ms with it (and the surrogate key)
-- against 5.5 without it, but the dashboard, which reads a student's sessions through it, then goes through the
-- student's allocations and costs 20-25% more per read (pgbench, 20 students of 5 allocations
-- each: 4.6-5.6 ms against 3.9-4.6); in the benchmark's profile every payment reads a dashboard.
ALTER TABLE tutoring_sessions DROP COLUMN id;
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key,
  ADD CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key
    PRIMARY KEY (allocation_id, scheduled_date, scheduled_time);
DROP INDEX payments_student;
DROP INDEX student_course_purchases_student;

-- Down Migration
CREATE INDEX student_course_purchases_student ON student_course_purchases (student_id);
CREATE INDEX payments_student ON payments (student_id);
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key,
  ADD CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key
    UNIQUE (allocation_id, scheduled_date, scheduled_time);
ALTER TABLE tutoring_sessions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
