-- Up Migration
-- Dashboard invalidations Redis refused (an outage): kept here, durably, and retried by every
-- worker's sweeper once a second until Redis takes them. One row per student: a second refusal
-- for the same student only moves parked_at. Without it a Redis outage longer than the retry loop
-- left a dashboard stale until its TTL (1 h) ran out (issue 13).
CREATE TABLE pending_invalidations (
  student_id uuid PRIMARY KEY,
  parked_at  timestamptz NOT NULL DEFAULT now(),
  refusals   integer NOT NULL DEFAULT 1
);
-- The application role (migration 1700000000003) parks, reads and clears them.
GRANT SELECT, INSERT, UPDATE, DELETE ON pending_invalidations TO payproof_app;

-- Down Migration
DROP TABLE pending_invalidations;
