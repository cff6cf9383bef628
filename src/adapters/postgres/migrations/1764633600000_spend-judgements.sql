-- Up Migration

-- One row per order the validation stage's spend limit judged (PostgresSpendLimit): the decision
-- and its idempotency record in one. Admitted rows are the spend a window sums; refused rows
-- spend nothing and stay only to answer a redelivery with its first decision. Amounts are whole
-- cents and event times epoch milliseconds, as SpendWindow counts them: no rounding and no time
-- zone between the two implementations of the rule. An order belongs to one customer, so the
-- key is the pair. Rows two windows behind the newest event time are pruned by the adapter.
CREATE TABLE spend_judgements (
  customer           text NOT NULL,
  order_id           text NOT NULL,
  event_time_ms      bigint NOT NULL,
  cents              bigint NOT NULL CHECK (cents >= 0),
  admitted           boolean NOT NULL,
  spent_before_cents bigint NOT NULL CHECK (spent_before_cents >= 0),
  judged_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (customer, order_id)
);
-- A window's sum: one customer's admitted spend by event time, read from the index alone.
CREATE INDEX spend_judgements_window ON spend_judgements (customer, event_time_ms) INCLUDE (cents) WHERE admitted;
-- The newest event time (max) and the prune (everything below a horizon).
CREATE INDEX spend_judgements_event_time ON spend_judgements (event_time_ms);

-- Down Migration
DROP TABLE spend_judgements;
