-- Up Migration
-- The top-up sweep (system/workers/session/topup.ts) found the allocations whose window is short by
-- counting the sessions of EVERY live allocation, every pass: O(allocations) per pass, measured at
-- 94-159 ms per pass with 3,000-6,000 allocations, once a second in load runs (issue 11). Each
-- allocation now carries the date of its next session to create, maintained by the statement that
-- creates sessions (schedule-sql.ts), and the sweep is a range scan of the allocations that are due:
--   '-infinity' no session yet (the first is due at once),
--   a date      the next session's date (due once the window's horizon reaches it),
--   NULL        every session exists.
ALTER TABLE trainer_allocations ADD COLUMN next_session_on date DEFAULT '-infinity';
-- Existing rows: from their sessions (2 = the contract's cadenceDays when this was written).
UPDATE trainer_allocations a SET next_session_on = CASE
    WHEN s.n = 0 THEN '-infinity'::date
    WHEN s.n >= a.session_count THEN NULL
    ELSE a.start_date + s.n * 2 END
  FROM (SELECT allocation_id, count(*)::int AS n FROM tutoring_sessions GROUP BY allocation_id) s
  WHERE s.allocation_id = a.id;
CREATE INDEX trainer_allocations_topup ON trainer_allocations (next_session_on)
  WHERE status IN ('approved', 'active') AND next_session_on IS NOT NULL;

-- Down Migration
DROP INDEX trainer_allocations_topup;
ALTER TABLE trainer_allocations DROP COLUMN next_session_on;
