import { OrderStatus } from './order-status';

/**
 * What happened to an order, as the lifecycle's events name it. Each happens at most once per
 * order, which is what makes an event's id deterministic.
 */
export type LifecycleEventType =
  /** The placed order, re-keyed by customer for the validation stage's spend window. */
  | 'placed'
  | 'validated'
  | 'rejected'
  | 'payment-processed'
  | 'payment-failed'
  | 'inventory-reserved'
  | 'inventory-insufficient'
  | 'payment-refunded'
  | 'picklist-created'
  | 'shipment-created';

/**
 * The id of an event, derived from its cause alone: `<order id>:<event type>`. A redelivered
 * input yields the same id, so a consumer that saw it drops it (style.md #17). Event types hold
 * no `:`, so the last `:` splits an id, and two causes never share one.
 */
export const eventIdOf = (orderId: string, type: LifecycleEventType): string => `${orderId}:${type}`;

/** A customer notification is caused by one event, and is told once: `<that event's id>:notification`. */
export const notificationIdOf = (orderId: string, about: LifecycleEventType): string => `${eventIdOf(orderId, about)}:notification`;

/**
 * A status set from outside (orders.status) happens at most once to an order, since the status
 * machine never goes back: `<order id>:status-updated:<status>`. A retried update repeats it.
 */
export const statusUpdateIdOf = (orderId: string, status: OrderStatus): string => `${orderId}:status-updated:${status}`;
