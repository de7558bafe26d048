-- Up Migration
-- Indexes for the dashboard (read by student) and the checker.
CREATE INDEX trainer_allocations_student ON trainer_allocations (student_id);
CREATE INDEX tutoring_sessions_student ON tutoring_sessions (student_id, scheduled_date);
CREATE INDEX student_course_purchases_student ON student_course_purchases (student_id);

-- Down Migration
DROP INDEX student_course_purchases_student;
DROP INDEX tutoring_sessions_student;
DROP INDEX trainer_allocations_student;
