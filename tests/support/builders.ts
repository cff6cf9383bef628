import { Headers, InboundMessage } from '../../src/application/ports/message-bus.port';
import { SpendCandidate } from '../../src/application/ports/spend-limit.port';
import { MessageContext } from '../../src/application/stages/stage';
import { eventIdOf, notificationIdOf, statusUpdateIdOf } from '../../src/domain/lifecycle/event-id';
import {
  CustomerNotification,
  EventEnvelope,
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
} from '../../src/domain/lifecycle/events';
import { createOrder, Order, OrderFields } from '../../src/domain/order';

let sequence = 0;
const nextId = (): string => `o-test-${++sequence}`;

/** A valid domain Order; override only what the test is about. */
export const anOrder = (overrides: Partial<OrderFields> = {}): Order => {
  const result = createOrder({
    id: nextId(),
    customer: 'C-9',
    total: 149.99,
    channel: 'web',
    producedAt: Date.parse('2026-11-22T10:00:00.000Z'),
    ...overrides,
  });
  if (!result.ok) throw new Error(`anOrder built an invalid order: ${result.error.message}`);
  return result.value;
};

/** The seed's wire JSON, as a producer would send it; fields can be overridden with anything, valid or not. */
export const aWireOrder = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: nextId(),
  customer: 'C-9',
  total: 149.99,
  channel: 'web',
  produced_at: '2026-11-22T10:00:00.000Z',
  ...overrides,
});

export const wireBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** The seed's three sample orders, with their expected risk scores. */
export const SEED_SAMPLES = [
  { order: { id: 'o-1001', customer: 'C-9', total: 149.99, channel: 'web' }, risk: 0.15 },
  { order: { id: 'o-1002', customer: 'C-9', total: 879.0, channel: 'partner' }, risk: 0.3 },
  { order: { id: 'o-1003', customer: 'C-9', total: 42.5, channel: 'mobile' }, risk: 0.5 },
] as const;

export const anInboundMessage = (overrides: Partial<InboundMessage> = {}): InboundMessage => ({
  topic: 'orders.v1',
  partition: 0,
  offset: '0',
  key: null,
  value: wireBytes(aWireOrder()),
  headers: [],
  timestamp: Date.parse('2026-11-22T10:00:00.050Z'),
  ...overrides,
});

/** Headers as name → text (the last of a repeated name), for assertions on the headers this application writes. */
export const headersAsText = (headers: Headers): Record<string, string> =>
  Object.fromEntries(headers.map(({ key, value }) => [key, value.toString('utf8')]));

/** An order as the spend limit judges it: 100.00 by C-9 at the seed's sample time. */
export const aSpendCandidate = (overrides: Partial<SpendCandidate> = {}): SpendCandidate => ({
  customer: 'C-9',
  orderId: nextId(),
  eventTimeMs: Date.parse('2026-11-22T10:00:00.000Z'),
  amount: 100,
  ...overrides,
});

// ---------------------------------------------------------------------------------------------
// The order lifecycle (issue 10)

/** One order line as the wire carries it. */
export const aWireLine = (overrides: Partial<{ sku: string; quantity: number; unit_price: number }> = {}) => ({
  sku: 'APPLE',
  quantity: 2,
  unit_price: 1.5,
  ...overrides,
});

/** An itemised wire order whose lines add up to its total: APPLE 2 × 1.50 + MILK 1 × 4.00 = 7.00. */
export const anItemisedWireOrder = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  aWireOrder({
    total: 7,
    items: [aWireLine(), aWireLine({ sku: 'MILK', quantity: 1, unit_price: 4 })],
    currency: 'EUR',
    shipping_address: { name: 'A. Customer', street: 'Main St 1', city: 'Springfield', postcode: '12345', country: 'US' },
    ...overrides,
  });

/** The lines of anItemisedWireOrder, as events carry them. */
export const ITEMISED_LINES = [
  { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
  { sku: 'MILK', quantity: 1, unit_price: 4 },
] as const;

/** The origin of a message as a stage sees it; the timestamp is what occurred_at is chosen from. */
export const aMessageContext = (overrides: Partial<MessageContext> = {}): MessageContext => ({
  topic: 'orders.v1',
  partition: 0,
  offset: '0',
  timestamp: Date.parse('2026-11-22T10:00:01.000Z'),
  headers: [],
  key: null,
  ...overrides,
});

const PLACED_AT = '2026-11-22T10:00:00.000Z';

const envelope = <T extends EventType>(type: T, orderId: string) => ({
  // A notification's default is about a shipment (aCustomerNotification), a status update's sets 'cancelled' (anOrderStatusUpdated).
  event_id:
    type === 'notification'
      ? notificationIdOf(orderId, 'shipment-created')
      : type === 'status-updated'
        ? statusUpdateIdOf(orderId, 'cancelled')
        : eventIdOf(orderId, type as Exclude<EventType, 'notification' | 'status-updated'>),
  event_type: type,
  order_id: orderId,
  occurred_at: PLACED_AT,
  schema_version: SCHEMA_VERSION,
});

type Overrides<E> = Partial<Omit<E, 'event_type' | 'event_id'>> & { readonly event_id?: string };

/** An event of the given type for one order; the event id follows the order id unless overridden. */
const anEvent =
  <E extends LifecycleEvent>(type: E['event_type'], defaults: (orderId: string) => Omit<E, keyof EventEnvelope<string>>) =>
  (overrides: Overrides<E> = {}): E => {
    const orderId = overrides.order_id ?? nextId();
    return { ...envelope(type, orderId), ...defaults(orderId), ...overrides } as E;
  };

const facts = { customer: 'C-9', total: 7, currency: 'EUR' } as const;
const assessed = { channel: 'web', risk_score: 0.007, high_risk: false } as const;
const deliverable = { items: ITEMISED_LINES.map((line) => ({ ...line })), shipping_address: { street: 'Main St 1', city: 'Springfield' } };

export const anOrderPlaced = anEvent<OrderPlaced>('placed', () => ({ ...facts, ...assessed, ...deliverable }));
export const anOrderValidated = anEvent<OrderValidated>('validated', () => ({ ...facts, ...assessed, ...deliverable }));
export const anOrderRejected = anEvent<OrderRejected>('rejected', () => ({
  ...facts,
  reasons: [{ code: 'ORDER.TOTAL_MISMATCH', message: 'The lines add up to 7.00, but the total is 8.00' }],
}));
export const aPaymentProcessed = anEvent<PaymentProcessed>('payment-processed', (orderId) => ({ ...facts, payment_id: `pay_${orderId}`, ...deliverable }));
export const aPaymentFailed = anEvent<PaymentFailed>('payment-failed', () => ({ ...facts, code: 'PAYMENT.LIMIT_EXCEEDED', reason: 'amount 7 EUR is above the limit of 5' }));
export const aPaymentRefunded = anEvent<PaymentRefunded>('payment-refunded', (orderId) => ({ ...facts, refund_id: `ref_${orderId}`, amount: 7 }));
export const anInventoryReserved = anEvent<InventoryReserved>('inventory-reserved', (orderId) => ({
  ...facts,
  payment_id: `pay_${orderId}`,
  reserved: [
    { sku: 'APPLE', quantity: 2 },
    { sku: 'MILK', quantity: 1 },
  ],
  ...deliverable,
}));
export const anInventoryInsufficient = anEvent<InventoryInsufficient>('inventory-insufficient', () => ({
  ...facts,
  shortages: [{ sku: 'MILK', requested: 1, available: 0 }],
  refunded: true,
}));
export const aPicklistCreated = anEvent<PicklistCreated>('picklist-created', (orderId) => ({
  picklist_id: `pl-${orderId}`,
  items: [
    { sku: 'APPLE', quantity: 2 },
    { sku: 'MILK', quantity: 1 },
  ],
  assigned_picker: 'picker-1',
}));
export const aShipmentCreated = anEvent<ShipmentCreated>('shipment-created', (orderId) => ({
  ...facts,
  shipment_id: `sh-${orderId}`,
  shipping_cost: 0.14,
  shipping_address: { street: 'Main St 1', city: 'Springfield' },
}));
export const aCustomerNotification = anEvent<CustomerNotification>('notification', (orderId) => ({
  customer: 'C-9',
  about: 'shipment-created',
  about_event_id: `${orderId}:shipment-created`,
  message: `Your order ${orderId} is on its way: shipment sh-${orderId}, shipping 0.14 EUR.`,
}));
/** A cancellation by default; give `status` and the matching `event_id` (statusUpdateIdOf) for another. */
export const anOrderStatusUpdated = anEvent<OrderStatusUpdated>('status-updated', () => ({ status: 'cancelled', reason: 'The customer cancelled' }));
