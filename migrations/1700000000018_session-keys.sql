-- Up Migration
-- Index entries every payment writes that no statement needs (docs/benchmarks.md, twenty-second
-- round). A payment writes ~7 sessions, and each session paid three index entries: its surrogate key
-- (a bigint from a sequence: a nextval per row), the seed's guard (allocation, date, time), and
-- (student_id, scheduled_date), whose leading random uuid dirties a random leaf page per row.
-- Measured with pgbench (1 client, 77 allocations x 7 sessions per statement, as the session
-- worker's chunks): 7.7 ms per statement with the three, 5.5 without the student index, 4.1 with
-- the guard alone.
--
-- * tutoring_sessions_student: the dashboard reaches a student's sessions through the student's
--   allocations (trainer_allocations_student, then this table's key by allocation_id). The composite
--   foreign key (allocation_id, student_id) makes that the same set of rows: a session's student is
--   its allocation's.
-- * The surrogate id: nothing refers to a session by it. The seed's guard becomes the primary key,
--   under the constraint name it always had (the handlers, the planted bug no-session-unique and
--   the tests name it).
-- * payments_student: payments_student_idempotency_key (student_id, idempotency_key) leads with
--   student_id and serves every lookup by student; the single-column index was a second entry per
--   payment insert and per confirmation (a non-HOT update: provider_payment_id is indexed).
DROP INDEX tutoring_sessions_student;
ALTER TABLE tutoring_sessions DROP COLUMN id;
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key,
  ADD CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key
    PRIMARY KEY (allocation_id, scheduled_date, scheduled_time);
DROP INDEX payments_student;

-- Down Migration
CREATE INDEX payments_student ON payments (student_id);
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key,
  ADD CONSTRAINT tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key
    UNIQUE (allocation_id, scheduled_date, scheduled_time);
ALTER TABLE tutoring_sessions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE INDEX tutoring_sessions_student ON tutoring_sessions (student_id, scheduled_date);
