-- Up Migration

-- Order ids claimed by POST /orders (PostgresOrderIdClaims, adr/0019): one row per id from the
-- claim until it is pruned (24 h; the order view knows every published order long before).
-- `uncertain` is a send that failed or timed out: the record may still have been appended, so
-- only a request with the same body (body_sha256) may claim the id again. `token` is the
-- holder's: only it settles the claim, so a request that lost a stale claim changes nothing.
CREATE TABLE api_order_claims (
  order_id      text PRIMARY KEY,
  body_sha256   text NOT NULL,
  state         text NOT NULL CHECK (state IN ('in-flight', 'published', 'uncertain')),
  token         text NOT NULL,
  claimed_at_ms bigint NOT NULL
);
CREATE INDEX api_order_claims_claimed_at ON api_order_claims (claimed_at_ms);

-- The first final answer to each Idempotency-Key (PostgresIdempotencyRecords), kept 24 h.
-- `answer` is null while the first request is still being answered.
CREATE TABLE api_idempotency_records (
  idempotency_key text PRIMARY KEY,
  fingerprint     text NOT NULL,
  token           text NOT NULL,
  answer          text,
  started_at_ms   bigint NOT NULL,
  completed_at_ms bigint
);
CREATE INDEX api_idempotency_records_started_at ON api_idempotency_records (started_at_ms);

-- Down Migration
DROP TABLE api_idempotency_records;
DROP TABLE api_order_claims;
