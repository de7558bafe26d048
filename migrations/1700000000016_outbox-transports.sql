-- Up Migration
-- Issue 15: two transports. Each outbox row records which transports it went through:
--   published_at          Kafka acknowledged it (acks=all). Kept under its old name: every reader
--                         (relay, checker, convergence, trace) means "in Kafka's log", and Kafka
--                         stays the complete log: a row is done only once this is set.
--   stream_published_at   the relay's fallback put it in its Redis stream (XADD answered) while
--                         Kafka was unreachable. A row with this set and published_at NULL went
--                         only through the fallback: the relay publishes it to Kafka once Kafka is
--                         back (it is still in the partial index outbox_unpublished).
-- A nullable column without a default: a catalog change, no table rewrite, nothing on the insert path.
ALTER TABLE outbox ADD COLUMN stream_published_at timestamptz;
COMMENT ON COLUMN outbox.published_at IS 'when Kafka acknowledged the event (NULL: not in Kafka yet)';
COMMENT ON COLUMN outbox.stream_published_at IS 'when the Redis Streams fallback took the event (NULL: never went through the fallback)';

-- Down Migration
ALTER TABLE outbox DROP COLUMN stream_published_at;
COMMENT ON COLUMN outbox.published_at IS NULL;
