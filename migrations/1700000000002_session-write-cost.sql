-- Up Migration
-- What a session row costs to write (docs/benchmarks.md, third round). A payment writes ~7
-- sessions; each paid three foreign-key probes (allocation, trainer, student), each with a KEY
-- SHARE lock on the referenced row (the trainer's row is the allocator's hot row), and a random
-- UUID primary key.
--
-- One composite foreign key instead of three: a session's student must be its allocation's (a
-- stronger rule than before, where a session could name another student than its allocation's),
-- checked with ONE probe. The allocation's own keys guarantee that its trainer and student exist.
-- The session's trainer is not tied to the allocation's by a key, because an allocation may be
-- cancelled (trainer_id NULL, by the CHECK on trainer_allocations) while its sessions stay as history.
ALTER TABLE trainer_allocations
  ADD CONSTRAINT trainer_allocations_id_student UNIQUE (id, student_id);
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_id_fkey,
  DROP CONSTRAINT tutoring_sessions_trainer_id_fkey,
  DROP CONSTRAINT tutoring_sessions_student_id_fkey,
  ADD CONSTRAINT tutoring_sessions_allocation_fkey FOREIGN KEY (allocation_id, student_id)
    REFERENCES trainer_allocations (id, student_id);
-- A sequence-generated key appends to the right edge of its index; a random UUID dirties a random
-- page of it on every insert. Nothing refers to a session by this id.
ALTER TABLE tutoring_sessions DROP CONSTRAINT tutoring_sessions_pkey, DROP COLUMN id;
ALTER TABLE tutoring_sessions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;

-- Down Migration
ALTER TABLE tutoring_sessions DROP COLUMN id;
ALTER TABLE tutoring_sessions ADD COLUMN id uuid PRIMARY KEY DEFAULT gen_random_uuid();
ALTER TABLE tutoring_sessions
  DROP CONSTRAINT tutoring_sessions_allocation_fkey,
  ADD CONSTRAINT tutoring_sessions_allocation_id_fkey FOREIGN KEY (allocation_id) REFERENCES trainer_allocations (id),
  ADD CONSTRAINT tutoring_sessions_trainer_id_fkey FOREIGN KEY (trainer_id) REFERENCES trainers (id),
  ADD CONSTRAINT tutoring_sessions_student_id_fkey FOREIGN KEY (student_id) REFERENCES students (id);
ALTER TABLE trainer_allocations DROP CONSTRAINT trainer_allocations_id_student;
