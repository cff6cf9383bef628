/**
 * Where an order is in its lifecycle. The happy path runs placed → validated → paid → reserved
 * → shipped → delivered; rejected, payment_failed, out_of_stock and cancelled end it early.
 */
export type OrderStatus =
  | 'placed'
  | 'validated'
  | 'paid'
  | 'reserved'
  | 'shipped'
  | 'delivered'
  | 'rejected'
  | 'payment_failed'
  | 'out_of_stock'
  | 'cancelled';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'placed',
  'validated',
  'paid',
  'reserved',
  'shipped',
  'delivered',
  'rejected',
  'payment_failed',
  'out_of_stock',
  'cancelled',
];

/** Statuses an order never leaves. */
export const isTerminal = (status: OrderStatus): boolean =>
  status === 'delivered' || status === 'rejected' || status === 'payment_failed' || status === 'out_of_stock' || status === 'cancelled';

const NEXT: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  placed: ['validated', 'rejected', 'cancelled'],
  validated: ['paid', 'payment_failed', 'cancelled'],
  paid: ['reserved', 'out_of_stock', 'cancelled'],
  // Once the warehouse has the picklist, cancelling is a return, not a state change here.
  reserved: ['shipped'],
  shipped: ['delivered'],
  delivered: [],
  rejected: [],
  payment_failed: [],
  out_of_stock: [],
  cancelled: [],
};

/** Whether an order in `from` may move to `to`; staying where it is counts as no move (false). */
export const canMove = (from: OrderStatus, to: OrderStatus): boolean => NEXT[from].includes(to);
