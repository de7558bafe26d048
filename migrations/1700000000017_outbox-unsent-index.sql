-- Up Migration
-- The relay's claim on the Redis Streams fallback (relayToStreamsOnce, and its backlog probe
-- hasBacklog) asks for rows that went through no transport yet:
--   published_at IS NULL AND stream_published_at IS NULL ORDER BY id.
-- With outbox_unpublished alone, that walks every row that went only through the fallback (still
-- unpublished in Kafka's sense, and older) and fetches each from the heap to drop it: O(rows of the
-- outage so far) per claim, growing for as long as Kafka is away. Measured on PostgreSQL 15 with
-- 8,000 fallback-only rows before 100 new ones: claim 2.9 ms and 651 buffers, probe 2.5 ms and 445
-- buffers; with this index 0.45 ms / 207 buffers and 0.09 ms / 2 buffers. A partial index holds
-- only the rows waiting for any transport: a few hundred at most in normal running, and an insert
-- of one more entry per outbox row (no entry once a row is published either way).
CREATE INDEX outbox_unsent ON outbox (id) WHERE published_at IS NULL AND stream_published_at IS NULL;

-- Down Migration
DROP INDEX outbox_unsent;
