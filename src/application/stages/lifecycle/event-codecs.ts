import {
  CustomerNotification,
  InventoryInsufficient,
  InventoryReserved,
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
import { InputCodec, OutputEncoder } from '../stage';

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
