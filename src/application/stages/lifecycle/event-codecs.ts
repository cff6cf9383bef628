import {
  CustomerNotification,
  InventoryInsufficient,
  InventoryReserved,
  LifecycleEvent,
  OrderPlaced,
  OrderRejected,
  OrderStatusUpdated,
  OrderValidated,
  PaymentFailed,
  PaymentProcessed,
  PaymentRefunded,
  PicklistCreated,
  ShipmentCreated,
} from '../../../domain/lifecycle/events';
import { EncodedEvent, InputCodec, OutputEncoder } from '../stage';

/** Both directions of one event type: the stage that writes it encodes, the stages that read it decode. */
export interface EventCodec<E> extends InputCodec<E>, OutputEncoder<E> {}

/**
 * The lifecycle's events on the wire, one codec per type, given to the stages by the composition
 * root (JSON through io-ts today; Avro with a schema registry is one more implementation). A
 * decode failure is a Rejection (a dead letter), never an exception. Records are keyed by order
 * id, except the repartition topic's and the notifications': by customer.
 */
export interface LifecycleEventCodecs {
  readonly placed: EventCodec<OrderPlaced>;
  readonly validated: EventCodec<OrderValidated>;
  readonly rejected: EventCodec<OrderRejected>;
  readonly paymentProcessed: EventCodec<PaymentProcessed>;
  readonly paymentFailed: EventCodec<PaymentFailed>;
  readonly paymentRefunded: EventCodec<PaymentRefunded>;
  readonly inventoryReserved: EventCodec<InventoryReserved>;
  readonly inventoryInsufficient: EventCodec<InventoryInsufficient>;
  readonly picklistCreated: EventCodec<PicklistCreated>;
  readonly shipmentCreated: EventCodec<ShipmentCreated>;
  readonly notification: EventCodec<CustomerNotification>;
  readonly statusUpdated: EventCodec<OrderStatusUpdated>;
}

/** Any lifecycle event as its type's codec writes it (the view re-encodes the held events it dead-letters). */
export const encodeLifecycleEvent = (codecs: LifecycleEventCodecs, event: LifecycleEvent): EncodedEvent => {
  switch (event.event_type) {
    case 'placed':
      return codecs.placed.encode(event);
    case 'validated':
      return codecs.validated.encode(event);
    case 'rejected':
      return codecs.rejected.encode(event);
    case 'payment-processed':
      return codecs.paymentProcessed.encode(event);
    case 'payment-failed':
      return codecs.paymentFailed.encode(event);
    case 'payment-refunded':
      return codecs.paymentRefunded.encode(event);
    case 'inventory-reserved':
      return codecs.inventoryReserved.encode(event);
    case 'inventory-insufficient':
      return codecs.inventoryInsufficient.encode(event);
    case 'picklist-created':
      return codecs.picklistCreated.encode(event);
    case 'shipment-created':
      return codecs.shipmentCreated.encode(event);
    case 'notification':
      return codecs.notification.encode(event);
    case 'status-updated':
      return codecs.statusUpdated.encode(event);
  }
};
