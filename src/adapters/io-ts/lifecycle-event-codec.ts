import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import { EventCodec, LifecycleEventCodecs } from '../../application/stages/lifecycle/event-codecs';
import { EncodedEvent } from '../../application/stages/stage';
import { InboundMessage } from '../../application/ports/message-bus.port';
import { parseIsoInstant } from '../../domain/event-time';
import {
  CustomerNotification,
  EventType,
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
  SCHEMA_VERSION,
  ShipmentCreated,
} from '../../domain/lifecycle/events';
import { isOrderId, SHIPPING_ADDRESS_FIELDS } from '../../domain/order';
import { ORDER_STATUSES, OrderStatus } from '../../domain/lifecycle/order-status';
import { rejection, Rejection } from '../../domain/rejection';
import { err, ok, Result } from '../../domain/result';
import { clip, explain, parseJsonObject } from './io-ts-json';

// The lifecycle's events as JSON (adr/0014, docs/events.md). Decoding is strict about what a
// version-1 event must hold and lenient about the rest: fields a reader does not know are dropped
// (t.exact), so a producer may add fields without a version bump.

/** A type that is its wire value, narrowed by a predicate; named for the messages (`Expecting Amount at total`). */
const refined = <A>(name: string, is: (u: unknown) => u is A) =>
  new t.Type<A, A, unknown>(name, is, (u, context) => (is(u) ? t.success(u) : t.failure(u, context)), t.identity);

const NonEmptyString = refined('NonEmptyString', (u): u is string => typeof u === 'string' && u.length > 0);
/** Kept as the text it was (the event's bytes stay as written), but only if it is a real instant. */
const IsoText = refined('ISO8601', (u): u is string => typeof u === 'string' && parseIsoInstant(u) !== undefined);
/** The domain's order id rule (isOrderId); unbranded, as events carry ids as plain strings. */
const EventOrderId = refined('OrderId', (u): u is string => typeof u === 'string' && isOrderId(u));
/** A finite amount >= 0 in the major unit. */
const Amount = refined('Amount', (u): u is number => typeof u === 'number' && Number.isFinite(u) && u >= 0);
const Status = t.keyof(Object.fromEntries(ORDER_STATUSES.map((status) => [status, null])) as Record<OrderStatus, null>, 'OrderStatus');
const Currency = refined('CurrencyCode', (u): u is string => typeof u === 'string' && /^[A-Z]{3}$/.test(u));

/**
 * Quantities are typed, not ranged: a line quantity out of range reaching the inventory stage has
 * its own code there (EVENT.INVALID_QUANTITY), which says more than a schema violation.
 */
const Line = t.exact(t.type({ sku: NonEmptyString, quantity: t.number, unit_price: t.number }), 'EventLine');
const SkuQuantity = t.exact(t.type({ sku: NonEmptyString, quantity: t.number }), 'SkuQuantity');
const Shortage = t.exact(t.type({ sku: NonEmptyString, requested: t.number, available: t.number }), 'Shortage');
const Reason = t.exact(t.type({ code: NonEmptyString, message: t.string }), 'Reason');
const Address = t.exact(
  t.partial(Object.fromEntries(SHIPPING_ADDRESS_FIELDS.map((name) => [name, t.string])) as Record<(typeof SHIPPING_ADDRESS_FIELDS)[number], t.StringC>),
  'ShippingAddress',
);

const envelope = <T extends EventType>(type: T) => ({
  event_id: NonEmptyString,
  event_type: t.literal(type),
  order_id: EventOrderId,
  occurred_at: IsoText,
  schema_version: t.literal(SCHEMA_VERSION),
});
const facts = { customer: NonEmptyString, total: Amount, currency: Currency };
const deliverable = { items: t.readonlyArray(Line), shipping_address: Address };
const assessed = { channel: NonEmptyString, risk_score: t.number, high_risk: t.boolean };

const event = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  t.intersection([t.exact(t.type(required)), t.exact(t.partial(optional))], name);

/** The schemas, one per event type; each must be its domain type exactly (checked where the codecs are built). */
const SCHEMAS = {
  placed: event('OrderPlaced', { ...envelope('placed'), ...facts, ...assessed }, deliverable),
  validated: event('OrderValidated', { ...envelope('validated'), ...facts, ...assessed }, deliverable),
  rejected: event('OrderRejected', { ...envelope('rejected'), ...facts, reasons: t.readonlyArray(Reason) }, {}),
  paymentProcessed: event('PaymentProcessed', { ...envelope('payment-processed'), ...facts, payment_id: NonEmptyString }, deliverable),
  paymentFailed: event('PaymentFailed', { ...envelope('payment-failed'), ...facts, code: NonEmptyString, reason: t.string }, {}),
  paymentRefunded: event('PaymentRefunded', { ...envelope('payment-refunded'), ...facts, refund_id: NonEmptyString, amount: Amount }, {}),
  inventoryReserved: event(
    'InventoryReserved',
    { ...envelope('inventory-reserved'), ...facts, payment_id: NonEmptyString, reserved: t.readonlyArray(SkuQuantity) },
    deliverable,
  ),
  inventoryInsufficient: event(
    'InventoryInsufficient',
    { ...envelope('inventory-insufficient'), ...facts, shortages: t.readonlyArray(Shortage), refunded: t.boolean },
    {},
  ),
  picklistCreated: event(
    'PicklistCreated',
    { ...envelope('picklist-created'), picklist_id: NonEmptyString, items: t.readonlyArray(SkuQuantity), assigned_picker: NonEmptyString },
    {},
  ),
  shipmentCreated: event(
    'ShipmentCreated',
    { ...envelope('shipment-created'), ...facts, shipment_id: NonEmptyString, shipping_cost: Amount },
    { shipping_address: Address },
  ),
  notification: event(
    'CustomerNotification',
    {
      ...envelope('notification'),
      customer: NonEmptyString,
      about: t.keyof({ rejected: null, 'payment-failed': null, 'inventory-insufficient': null, 'shipment-created': null }),
      about_event_id: NonEmptyString,
      message: t.string,
    },
    {},
  ),
  statusUpdated: event('OrderStatusUpdated', { ...envelope('status-updated'), status: Status }, { reason: t.string }),
};

const STAGE = 'decode';

/**
 * One event type's JSON: bytes → (MESSAGE.* for bytes that are not a JSON object) → the version
 * and the type, each with its own code, so that a newer producer or a wrong topic is told apart
 * from a malformed event → the schema (EVENT.SCHEMA_VIOLATION, in io-ts words).
 */
export class IoTsEventCodec<E extends LifecycleEvent> implements EventCodec<E> {
  constructor(
    private readonly type: E['event_type'],
    /** Decodes to exactly E and encodes every E: a schema that drifts from the domain type does not compile. */
    private readonly schema: t.Type<E, unknown, unknown>,
    private readonly keyOf: (event: E) => string,
  ) {}

  decode(message: InboundMessage): Result<Rejection, E> {
    const { value } = message;
    if (value === null || value.length === 0) return err(rejection('MESSAGE.EMPTY', STAGE, `Empty message: expected a ${this.type} event as JSON`));
    const json = parseJsonObject(value, STAGE);
    if (!json.ok) return json;
    const { schema_version: version, event_type: type } = json.value;
    if (typeof version === 'number' && version !== SCHEMA_VERSION) {
      return err(rejection('EVENT.UNSUPPORTED_VERSION', STAGE, `schema_version ${version} of a ${this.type} event is not one this reader knows: expected ${SCHEMA_VERSION}`));
    }
    if (typeof type === 'string' && type !== this.type) {
      return err(rejection('EVENT.UNEXPECTED_TYPE', STAGE, clip(`event_type ${JSON.stringify(type)} on ${message.topic}: expected ${JSON.stringify(this.type)}`)));
    }
    const decoded = this.schema.decode(json.value);
    if (isLeft(decoded)) return err(rejection('EVENT.SCHEMA_VIOLATION', STAGE, explain(decoded).join('; ')));
    return ok(decoded.right);
  }

  /** Only the schema's fields reach the wire, in the order the event was built in: a redelivery encodes byte for byte the same. */
  encode(event: E): EncodedEvent {
    return { key: this.keyOf(event), value: Buffer.from(JSON.stringify(this.schema.encode(event))) };
  }
}

const byOrder = (event: { readonly order_id: string }): string => event.order_id;
const byCustomer = (event: { readonly customer: string }): string => event.customer;

/** Every event type's JSON codec; records keyed by order id, but the repartition topic's and the notifications' by customer. */
export const ioTsLifecycleEventCodecs = (): LifecycleEventCodecs => ({
  placed: new IoTsEventCodec<OrderPlaced>('placed', SCHEMAS.placed, byCustomer),
  validated: new IoTsEventCodec<OrderValidated>('validated', SCHEMAS.validated, byOrder),
  rejected: new IoTsEventCodec<OrderRejected>('rejected', SCHEMAS.rejected, byOrder),
  paymentProcessed: new IoTsEventCodec<PaymentProcessed>('payment-processed', SCHEMAS.paymentProcessed, byOrder),
  paymentFailed: new IoTsEventCodec<PaymentFailed>('payment-failed', SCHEMAS.paymentFailed, byOrder),
  paymentRefunded: new IoTsEventCodec<PaymentRefunded>('payment-refunded', SCHEMAS.paymentRefunded, byOrder),
  inventoryReserved: new IoTsEventCodec<InventoryReserved>('inventory-reserved', SCHEMAS.inventoryReserved, byOrder),
  inventoryInsufficient: new IoTsEventCodec<InventoryInsufficient>('inventory-insufficient', SCHEMAS.inventoryInsufficient, byOrder),
  picklistCreated: new IoTsEventCodec<PicklistCreated>('picklist-created', SCHEMAS.picklistCreated, byOrder),
  shipmentCreated: new IoTsEventCodec<ShipmentCreated>('shipment-created', SCHEMAS.shipmentCreated, byOrder),
  notification: new IoTsEventCodec<CustomerNotification>('notification', SCHEMAS.notification, byCustomer),
  statusUpdated: new IoTsEventCodec<OrderStatusUpdated>('status-updated', SCHEMAS.statusUpdated, byOrder),
});
