-- Up Migration

-- The order view (PostgresOrderView, issue 11): one row per order the order-view stage has seen
-- placed. `view` is the whole row as the domain builds it (src/domain/lifecycle/order-view.ts),
-- history included, so the event ids in its history are the duplicate check: an event is applied
-- under the order's lock, in the transaction that writes its history entry. The columns beside it
-- are what the list filters and sorts by. Order ids compare by code point (COLLATE "C"), as the
-- in-memory view and the cursors do, whatever the database's locale.
CREATE TABLE order_view (
  order_id  text COLLATE "C" PRIMARY KEY,
  status    text NOT NULL,
  customer  text NOT NULL,
  placed_at timestamptz NOT NULL,
  version   integer NOT NULL CHECK (version >= 1),
  view      jsonb NOT NULL
);
-- Keyset pages by placement: all orders, one status's, one customer's.
CREATE INDEX order_view_by_placement ON order_view (placed_at, order_id);
CREATE INDEX order_view_by_status ON order_view (status, placed_at, order_id);
CREATE INDEX order_view_by_customer ON order_view (customer, placed_at, order_id);

-- Events that arrived before their order, kept until it does (then applied and deleted), or until
-- the age bound expires them (`expired` = 'age'), and the stage dead-letters them. (The count
-- bound refuses new holds instead: it expires nothing.) An expired row stays until the instance
-- that claimed it (claimed_by, at claimed_at_ms) confirms by its next sweep that the dead letter
-- is written; a claim that lapses (a crash) is taken again, so an expired event is dead-lettered
-- at least once. `seq` orders them by arrival.
CREATE TABLE order_view_held (
  event_id      text PRIMARY KEY,
  order_id      text NOT NULL,
  topic         text NOT NULL,
  event         jsonb NOT NULL,
  seq           bigserial NOT NULL,
  held_at_ms    bigint NOT NULL,
  expired       text CHECK (expired IN ('age')),
  claimed_by    uuid,
  claimed_at_ms bigint
);
CREATE INDEX order_view_held_by_order ON order_view_held (order_id);
CREATE INDEX order_view_held_waiting ON order_view_held (seq) WHERE expired IS NULL;
CREATE INDEX order_view_held_expired ON order_view_held (seq) WHERE expired IS NOT NULL;

-- Down Migration
DROP TABLE order_view_held;
DROP TABLE order_view;
