import { LifecycleEvent } from '../../domain/lifecycle/events';
import { OrderStatus } from '../../domain/lifecycle/order-status';
import { OrderView } from '../../domain/lifecycle/order-view';

/**
 * The order view (issue 11): one row per order, kept by the `order-view` stage from every
 * lifecycle topic and orders.status, and read by every `orderflow api` instance. PostgreSQL in
 * production, in memory for the embedded default; both pass tests/contract/order-view.contract.ts.
 *
 * Two ports over the same rows, one per side: the stage writes through OrderViewStore, the HTTP
 * API reads through OrderViewQueries. Neither side needs the other's methods.
 */

// The row's types are the domain's (src/domain/lifecycle/order-view.ts, which applies events to
// it); re-exported here so that both sides of the port import them from the port.
export type { OrderHistoryEntry, OrderView, OrderViewLine, OrderViewReason } from '../../domain/lifecycle/order-view';

/** What applying one event did. */
export type ApplyOutcome =
  /** The row changed (or was created, for a placed event). */
  | { readonly kind: 'applied'; readonly view: OrderView }
  /** Its event id was applied before: nothing changed. */
  | { readonly kind: 'duplicate' }
  /**
   * Its order is not in the view yet: kept (durably) until the placed event arrives. When the
   * count bound is reached, apply rejects with HeldEventsFullError instead (transient: retry later).
   */
  | { readonly kind: 'held' }
  /**
   * The order is there, but the status machine forbids the move (an update after a terminal
   * status, a race with a cancellation): recorded in the history, the status unchanged.
   */
  | { readonly kind: 'ignored'; readonly reason: string };

/** An event held for an order that never arrived within the bounds: the stage dead-letters it. */
export interface ExpiredHeldEvent {
  readonly event: LifecycleEvent;
  /** The topic it was read from: its dead letter goes to `<topic>.dlq`. */
  readonly topic: string;
  /** VIEW.ORDER_UNKNOWN, with the age bound that expired it in the message. */
  readonly code: string;
  readonly message: string;
}

/** How long and how many events the view holds for orders it has not seen. */
export interface HeldEventBounds {
  /**
   * ORDERFLOW_VIEW_HOLD_MAX_EVENTS: held events in all. A hold past it is refused as a transient
   * failure (HeldEventsFullError): the stage retries that input later, once placements have freed
   * room, so the bound pushes back on the topics that run ahead instead of dead-lettering events
   * of orders that are merely late. Only the age bound dead-letters.
   */
  readonly maxEvents: number;
  /** ORDERFLOW_VIEW_HOLD_MAX_AGE_MS: how long an event waits for its order, by the view's clock. */
  readonly maxAgeMs: number;
}

/** The stage's side: apply events, idempotently, and give up on held ones past their bounds. */
export interface OrderViewStore {
  /**
   * Applies one event read from `topic`, atomically with its duplicate check and its history
   * entry: a crash leaves it applied or not, and a redelivery is a duplicate. A placed event
   * creates the row and applies every event held for the order, in their occurred_at order.
   * A rejected promise is a transient failure: nothing changed, and the stage retries.
   */
  apply(event: LifecycleEvent, topic: string): Promise<ApplyOutcome>;
  /**
   * Removes and returns the held events past the bounds at `nowMs`. The caller dead-letters them;
   * an event it fails to dead-letter is lost to the view, so the caller dead-letters before it
   * calls again (at least once: a crash in between dead-letters it twice, never zero times).
   */
  expireHeld(nowMs: number): Promise<readonly ExpiredHeldEvent[]>;
}

export interface OrderListQuery {
  readonly status?: OrderStatus;
  readonly customer?: string;
  /** 1–500. */
  readonly limit: number;
  /** From the previous page's nextCursor; opaque to the caller. */
  readonly cursor?: string;
}

export interface OrderPage {
  readonly orders: readonly OrderView[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
}

/** The API's side: read rows, page through them, and hear about changes. */
export interface OrderViewQueries {
  get(orderId: string): Promise<OrderView | undefined>;
  /** Ordered by placement (placedAt, then order id), stable under inserts: a cursor never skips a row. */
  list(query: OrderListQuery): Promise<OrderPage>;
  /**
   * Calls `listener` with the id of each order whose row changed, by this process or by another
   * one on the same database (PostgreSQL LISTEN/NOTIFY), at least once per change but possibly
   * late or coalesced: a waiter re-reads the row (get) rather than trusting the notification.
   * Returns the unsubscribe.
   */
  onChange(listener: (orderId: string) => void): () => void;
}
