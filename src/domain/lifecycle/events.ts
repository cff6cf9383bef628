import { isRecordTimestamp } from '../event-time';
import { ShippingAddress } from '../order';
import { LifecycleEventType } from './event-id';
import { OrderStatus } from './order-status';
import { OrderLine } from './order-lines';

/**
 * The events of an order's lifecycle, as they travel: JSON in snake case, one type per topic (see
 * the event catalog, docs/events.md). Each carries what the stage that consumes it needs (the
 * customer, the total, the currency, the lines, the address…), so that no stage looks anything
 * up: a stage is a function of its input and its own side effects.
 */

/**
 * Bumped only for a change a version-1 reader would misread (a field removed, renamed or given
 * another meaning); adding a field is not one, and readers ignore fields they do not know.
 */
export const SCHEMA_VERSION = 1;

/** What every event carries. */
export interface EventEnvelope<T extends string> {
  /** Derived from the event's cause (eventIdOf, notificationIdOf): a redelivery repeats it, so consumers drop duplicates by it. */
  readonly event_id: string;
  readonly event_type: T;
  readonly order_id: string;
  /** ISO-8601, UTC; see occurredAtOf for how it is chosen. */
  readonly occurred_at: string;
  readonly schema_version: typeof SCHEMA_VERSION;
}

/** An order line as events carry it (the wire's names). */
export interface EventLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unit_price: number;
}

/** A quantity of one SKU: what was reserved, or is to be picked. */
export interface SkuQuantity {
  readonly sku: string;
  readonly quantity: number;
}

/** Who pays how much in what: every event of a placed order but the picklist carries it. */
export interface OrderFacts {
  readonly customer: string;
  readonly total: number;
  /** Always set (the order's, or DEFAULT_CURRENCY), so no consumer needs to know the default. */
  readonly currency: string;
}

/** What the warehouse and the carrier need, carried from the order to the shipment. */
export interface Deliverable {
  /** Absent for a seed-shaped order (adr/0014): nothing to reserve or pick. */
  readonly items?: readonly EventLine[];
  readonly shipping_address?: ShippingAddress;
}

/** The order's assessment at placement. */
export interface Assessed {
  readonly channel: string;
  /** The channel's RiskScorer score, in [0, 1], as the archive records it. */
  readonly risk_score: number;
  readonly high_risk: boolean;
}

/**
 * A placed order on the validation stage's repartition topic, keyed by customer. Its occurred_at
 * is the order's event time (produced_at, else the record's timestamp): the instant the spend
 * window judges it at.
 */
export type OrderPlaced = EventEnvelope<'placed'> & OrderFacts & Deliverable & Assessed;

export type OrderValidated = EventEnvelope<'validated'> & OrderFacts & Deliverable & Assessed;

/** A business-rule failure, as rejections carry it. */
export interface EventReason {
  readonly code: string;
  readonly message: string;
}

/** Every reason at once, so the shop fixes an order in one go. */
export type OrderRejected = EventEnvelope<'rejected'> & OrderFacts & { readonly reasons: readonly EventReason[] };

export type PaymentProcessed = EventEnvelope<'payment-processed'> & OrderFacts & Deliverable & { readonly payment_id: string };

export type PaymentFailed = EventEnvelope<'payment-failed'> &
  OrderFacts & {
    /** The gateway's decline code (PAYMENT.LIMIT_EXCEEDED…). */
    readonly code: string;
    readonly reason: string;
  };

export type InventoryReserved = EventEnvelope<'inventory-reserved'> &
  OrderFacts &
  Deliverable & {
    readonly payment_id: string;
    /** What was taken from stock, one row per SKU; empty for a seed-shaped order. */
    readonly reserved: readonly SkuQuantity[];
  };

export interface Shortage {
  readonly sku: string;
  readonly requested: number;
  readonly available: number;
}

export type InventoryInsufficient = EventEnvelope<'inventory-insufficient'> &
  OrderFacts & {
    /** Every SKU that was short; nothing was reserved. */
    readonly shortages: readonly Shortage[];
    /** Whether the payment was given back (a payments.refunded event says how). */
    readonly refunded: boolean;
  };

export type PaymentRefunded = EventEnvelope<'payment-refunded'> &
  OrderFacts & {
    readonly refund_id: string;
    /** What was given back: the charge, whole. */
    readonly amount: number;
  };

export type PicklistCreated = EventEnvelope<'picklist-created'> & {
  readonly picklist_id: string;
  readonly items: readonly SkuQuantity[];
  readonly assigned_picker: string;
};

export type ShipmentCreated = EventEnvelope<'shipment-created'> &
  OrderFacts & {
    readonly shipment_id: string;
    /** 2 % of the total, to the cent (shippingCostOf). */
    readonly shipping_cost: number;
    readonly shipping_address?: ShippingAddress;
  };

/** The events a customer is told about. */
export type NotifiedEvent = OrderRejected | PaymentFailed | InventoryInsufficient | ShipmentCreated;

export type CustomerNotification = EventEnvelope<'notification'> & {
  readonly customer: string;
  /** The event the message tells about, and its id. */
  readonly about: NotifiedEvent['event_type'];
  readonly about_event_id: string;
  /** Plain text, rendered (notifications.ts). */
  readonly message: string;
};

/**
 * A status set from outside the stages, on orders.status: the shop cancelling an order
 * (PUT /orders/{id}/status), the carrier reporting a delivery. Each status happens at most once
 * to an order (statusUpdateIdOf), so a retried update repeats its id and changes nothing. The
 * order view applies it through the status machine (canMove).
 */
export type OrderStatusUpdated = EventEnvelope<'status-updated'> & {
  readonly status: OrderStatus;
  /** Why, in words, when the writer said so. */
  readonly reason?: string;
};

export type LifecycleEvent =
  | OrderStatusUpdated
  | OrderPlaced
  | OrderValidated
  | OrderRejected
  | PaymentProcessed
  | PaymentFailed
  | InventoryReserved
  | InventoryInsufficient
  | PaymentRefunded
  | PicklistCreated
  | ShipmentCreated
  | CustomerNotification;

export type EventType = LifecycleEvent['event_type'];

// Every lifecycle event type but the notification's (notificationIdOf) and the status update's
// (statusUpdateIdOf) is one of event-id.ts's.
type Covered = Exclude<EventType, 'notification' | 'status-updated'> extends LifecycleEventType ? true : never;
const covered: Covered = true;
void covered;

/**
 * When an event happened, chosen without a clock so that a redelivered input yields the same
 * event byte for byte: the timestamp of the input record that caused it (when its cause was
 * written, which a redelivery repeats), but never earlier than the cause's own occurred_at (a
 * producer's clock may run ahead; the events of an order must not go back in time). A record
 * timestamp that is not a time (-1, microseconds) is ignored.
 */
export const occurredAtOf = (causeOccurredAt: string, recordTimestampMs: number): string => {
  const causeMs = Date.parse(causeOccurredAt);
  return new Date(isRecordTimestamp(recordTimestampMs) && recordTimestampMs > causeMs ? recordTimestampMs : causeMs).toISOString();
};

export const eventLinesOf = (lines: readonly OrderLine[]): EventLine[] =>
  lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price: line.unitPrice }));

export const orderLinesOf = (lines: readonly EventLine[]): OrderLine[] =>
  lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unit_price }));

/** The facts every event of the order repeats, copied field by field (never a spread of a decoded input). */
export const factsOf = (event: OrderFacts): OrderFacts => ({ customer: event.customer, total: event.total, currency: event.currency });

export const deliverableOf = (event: Deliverable): Deliverable => ({
  ...(event.items === undefined ? {} : { items: event.items.map((line) => ({ sku: line.sku, quantity: line.quantity, unit_price: line.unit_price })) }),
  ...(event.shipping_address === undefined ? {} : { shipping_address: event.shipping_address }),
});
