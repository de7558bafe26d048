-- Up Migration
-- payments.request_hash (sha256 of the create body) was written and never read: an Idempotency-Key
-- replay is compared field by field (system/api/payments.ts sameRequest), because an omitted amount
-- and the price spelled out are the same request, which a hash of the body cannot say.
ALTER TABLE payments DROP COLUMN request_hash;

-- Down Migration
ALTER TABLE payments ADD COLUMN request_hash text;
