-- Up Migration

-- Stock per SKU. The CHECK is the last line of defence against an oversell: a reservation that
-- would take more than there is fails instead of going negative.
CREATE TABLE stock (
  sku        text PRIMARY KEY,
  available  integer NOT NULL CHECK (available >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order that asked for stock: the idempotency record of the reservation, written in
-- the same transaction as the stock change. `lines` holds what was taken (one line per SKU),
-- `shortages` what was missing; the other is empty.
CREATE TABLE reservations (
  order_id   text PRIMARY KEY,
  outcome    text NOT NULL CHECK (outcome IN ('reserved', 'insufficient')),
  lines      jsonb NOT NULL DEFAULT '[]'::jsonb,
  shortages  jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order charged (or declined): the first outcome wins, so an order is charged at most
-- once. Amounts are exact decimals in the currency's major unit, as orders carry them.
CREATE TABLE payments (
  order_id     text PRIMARY KEY,
  outcome      text NOT NULL CHECK (outcome IN ('charged', 'declined')),
  payment_id   text UNIQUE,
  customer     text NOT NULL,
  amount       numeric NOT NULL,
  currency     text NOT NULL,
  decline_code text,
  reason       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((outcome = 'charged') = (payment_id IS NOT NULL)),
  CHECK ((outcome = 'declined') = (decline_code IS NOT NULL))
);
CREATE INDEX payments_created_at ON payments (created_at);

-- At most one refund per order, and only of a charge (the foreign key and the insert's WHERE).
CREATE TABLE refunds (
  order_id   text PRIMARY KEY REFERENCES payments (order_id),
  refund_id  text NOT NULL UNIQUE,
  payment_id text NOT NULL,
  amount     numeric NOT NULL,
  currency   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE refunds;
DROP TABLE payments;
DROP TABLE reservations;
DROP TABLE stock;
