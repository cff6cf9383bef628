import { LifecycleEvent, OrderPlaced } from './events';
import { shippingCostOf } from './money';
import { canMove, isTerminal, OrderStatus } from './order-status';

/**
 * The order view's row and how one event changes it (issue 11): pure, so that the in-memory and
 * the PostgreSQL adapters apply exactly the same rules (the PostgreSQL one reads the row, applies
 * this, and writes it back under a row lock).
 *
 * Two kinds of event move the status, by two rules:
 * - a lifecycle event is a fact a stage established. It moves the status forward along the
 *   order's path (placed → validated → paid → reserved → shipped → delivered, or off it to
 *   rejected, payment_failed, out_of_stock), skipping the steps whose events the view has not
 *   seen yet: the topics are read by independent consumers, so a payment may arrive before its
 *   validation. It never moves the status back or out of a terminal one. Its data (payment id,
 *   picklist, shipment, reasons) is recorded whatever its status did, since facts are facts: the
 *   final row does not depend on the order the facts arrived in.
 * - a status update (orders.status) is a request from outside, and obeys the status machine
 *   strictly (canMove): cancelling a reserved order is refused, not approximated.
 * Either way the event enters the history, so a refused one is visible, and its id makes a
 * redelivery a duplicate.
 */

/** One step of an order's history, in the order the view applied them. */
export interface OrderHistoryEntry {
  /** The event's id (event_id): what a duplicate is recognised by. */
  readonly eventId: string;
  readonly eventType: LifecycleEvent['event_type'];
  /** The order's status after the event. An event that changes no status repeats the one before. */
  readonly status: OrderStatus;
  /** The event's occurred_at, ISO-8601. */
  readonly at: string;
}

export interface OrderViewReason {
  readonly code: string;
  readonly message: string;
}

export interface OrderViewLine {
  readonly sku: string;
  readonly quantity: number;
  /** Absent on a picklist's lines. */
  readonly unitPrice?: number;
}

export interface OrderView {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly customer: string;
  readonly channel: string;
  readonly total: number;
  readonly currency: string;
  readonly riskScore: number;
  readonly highRisk: boolean;
  /** 2 % of the total (shippingCostOf), whether or not the order has shipped yet. */
  readonly shippingCost: number;
  /** Absent for a seed-shaped order (adr/0014). */
  readonly items?: readonly OrderViewLine[];
  readonly paymentId?: string;
  readonly refundId?: string;
  readonly picklist?: { readonly picklistId: string; readonly items: readonly OrderViewLine[]; readonly assignedPicker: string };
  readonly shipment?: { readonly shipmentId: string; readonly shippingCost: number };
  /** Why it was rejected, declined or short: every reason the events gave. Empty otherwise. */
  readonly reasons: readonly OrderViewReason[];
  readonly history: readonly OrderHistoryEntry[];
  /** The placed event's occurred_at. */
  readonly placedAt: string;
  /**
   * The occurred_at of the last event applied — the latest one, so that it does not depend on
   * the order events arrived in.
   */
  readonly updatedAt: string;
  /** Grows by one with every applied event: a cheap "has it changed" for waiters and caches. */
  readonly version: number;
}

/** What one event did to a row. */
export type ViewStep =
  /** The row changed: a status move, data, or at least a history entry. */
  | { readonly kind: 'applied'; readonly view: OrderView }
  /** The event id is in the history already: the row is as it was. */
  | { readonly kind: 'duplicate' }
  /** The status did not move (backwards, out of a terminal status, or a move canMove forbids); the history has it. */
  | { readonly kind: 'ignored'; readonly reason: string; readonly view: OrderView };

/** Shortages become reasons under this code, one per SKU. */
export const SHORTAGE_REASON_CODE = 'INVENTORY.INSUFFICIENT';
/** A cancellation's reason (orders.status, with a reason) becomes one under this code. */
export const CANCELLED_REASON_CODE = 'STATUS.CANCELLED';

/** ISO-8601 of an instant the events carry; the codecs have checked it parses. */
const isoOf = (text: string): string => new Date(Date.parse(text)).toISOString();

/** The row a placed event starts. */
export const createView = (placed: OrderPlaced): OrderView => {
  const at = isoOf(placed.occurred_at);
  return {
    orderId: placed.order_id,
    status: 'placed',
    customer: placed.customer,
    channel: placed.channel,
    total: placed.total,
    currency: placed.currency,
    riskScore: placed.risk_score,
    highRisk: placed.high_risk,
    shippingCost: shippingCostOf(placed.total),
    ...(placed.items === undefined ? {} : { items: placed.items.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unit_price })) }),
    reasons: [],
    history: [{ eventId: placed.event_id, eventType: 'placed', status: 'placed', at }],
    placedAt: at,
    updatedAt: at,
    version: 1,
  };
};

/**
 * The statuses an order passes through to reach each status, in order: a lifecycle fact may move
 * the view from any status on its target's path (and before it) to the target.
 */
const PATH: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  placed: ['placed'],
  validated: ['placed', 'validated'],
  rejected: ['placed', 'rejected'],
  paid: ['placed', 'validated', 'paid'],
  payment_failed: ['placed', 'validated', 'payment_failed'],
  reserved: ['placed', 'validated', 'paid', 'reserved'],
  out_of_stock: ['placed', 'validated', 'paid', 'out_of_stock'],
  shipped: ['placed', 'validated', 'paid', 'reserved', 'shipped'],
  delivered: ['placed', 'validated', 'paid', 'reserved', 'shipped', 'delivered'],
  cancelled: ['placed', 'cancelled'],
};

/** Whether a lifecycle fact that implies `to` may move an order that is `from` (steps between skipped). */
export const canAdvance = (from: OrderStatus, to: OrderStatus): boolean => from !== to && !isTerminal(from) && PATH[to].includes(from);

/** The status a lifecycle fact implies; undefined for one that implies none (a refund). */
const impliedStatus = (event: LifecycleEvent): OrderStatus | undefined => {
  switch (event.event_type) {
    case 'placed':
      return 'placed';
    case 'validated':
      return 'validated';
    case 'rejected':
      return 'rejected';
    case 'payment-processed':
      return 'paid';
    case 'payment-failed':
      return 'payment_failed';
    case 'inventory-reserved':
    case 'picklist-created':
      return 'reserved';
    case 'inventory-insufficient':
      return 'out_of_stock';
    case 'shipment-created':
      return 'shipped';
    case 'status-updated':
      return event.status;
    case 'payment-refunded':
    case 'notification':
      return undefined;
  }
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the event records beside the status; applied whether or not the status moves. */
const recordData = (row: Mutable<OrderView>, event: LifecycleEvent, moved: boolean): void => {
  switch (event.event_type) {
    case 'rejected':
      row.reasons = [...row.reasons, ...event.reasons.map((reason) => ({ code: reason.code, message: reason.message }))];
      return;
    case 'payment-failed':
      row.reasons = [...row.reasons, { code: event.code, message: event.reason }];
      return;
    case 'inventory-insufficient':
      row.reasons = [
        ...row.reasons,
        ...event.shortages.map((s) => ({ code: SHORTAGE_REASON_CODE, message: `${s.sku}: ${s.requested} requested, ${s.available} available` })),
      ];
      return;
    case 'payment-processed':
    case 'inventory-reserved':
      row.paymentId = event.payment_id;
      return;
    case 'payment-refunded':
      row.refundId = event.refund_id;
      return;
    case 'picklist-created':
      row.picklist = {
        picklistId: event.picklist_id,
        items: event.items.map((line) => ({ sku: line.sku, quantity: line.quantity })),
        assignedPicker: event.assigned_picker,
      };
      return;
    case 'shipment-created':
      row.shipment = { shipmentId: event.shipment_id, shippingCost: event.shipping_cost };
      return;
    case 'status-updated':
      // Why it was cancelled is a reason of the order's, as a rejection's is; a delivery's words
      // are not, nor are those of an update the machine refused.
      if (moved && event.status === 'cancelled' && event.reason !== undefined) row.reasons = [...row.reasons, { code: CANCELLED_REASON_CODE, message: event.reason }];
      return;
    case 'placed':
    case 'validated':
    case 'notification':
      return;
  }
};

/** Why the status stayed: for the 'ignored' outcome and the logs. */
const refusal = (event: LifecycleEvent, from: OrderStatus, to: OrderStatus): string => {
  if (event.event_type === 'status-updated') {
    return isTerminal(from) ? `status ${to} refused: the order is ${from}, which is final` : `status ${to} refused: an order that is ${from} cannot become ${to}`;
  }
  if (isTerminal(from)) return `${event.event_type} changes no status: the order is ${from}, which is final`;
  return PATH[from].includes(to)
    ? `${event.event_type} changes no status: the order is ${from}, past ${to}`
    : `${event.event_type} changes no status: the order is ${from}, and ${to} is not ahead of it`;
};

/**
 * Applies one event to the row of its order. A placed event for a row that exists is a duplicate
 * (its id is `<order id>:placed`); creating the row is createView's.
 */
export const applyToView = (view: OrderView, event: LifecycleEvent): ViewStep => {
  if (event.order_id !== view.orderId) throw new Error(`Event ${event.event_id} is about order ${event.order_id}, not ${view.orderId}`);
  if (view.history.some((entry) => entry.eventId === event.event_id) || event.event_type === 'placed') return { kind: 'duplicate' };
  const target = impliedStatus(event);
  const from = view.status;
  const moves =
    target !== undefined && target !== from && (event.event_type === 'status-updated' ? canMove(from, target) : canAdvance(from, target));
  // A fact that implies the status the order already has is no news for the status (a picklist
  // after its reservation): applied, for its data. Any other event that does not move it is
  // ignored: it would go back (a validation after the payment), out of a final status, or where
  // the machine forbids.
  const ignored = target !== undefined && !moves && (target !== from || event.event_type === 'status-updated');
  const at = isoOf(event.occurred_at);
  const row: Mutable<OrderView> = { ...view };
  if (moves && target !== undefined) row.status = target;
  recordData(row, event, moves);
  row.history = [...view.history, { eventId: event.event_id, eventType: event.event_type, status: row.status, at }];
  row.updatedAt = at > view.updatedAt ? at : view.updatedAt;
  row.version = view.version + 1;
  return ignored && target !== undefined ? { kind: 'ignored', reason: refusal(event, from, target), view: row } : { kind: 'applied', view: row };
};

/** The events of one order in the order they happened (occurred_at), those of one instant by id: how held events are applied. */
export const byOccurrence = <E extends { readonly event: LifecycleEvent }>(a: E, b: E): number =>
  Date.parse(a.event.occurred_at) - Date.parse(b.event.occurred_at) || (a.event.event_id < b.event.event_id ? -1 : a.event.event_id > b.event.event_id ? 1 : 0);
