import { ioTsLifecycleEventCodecs } from '../../../../src/adapters/io-ts/lifecycle-event-codec';
import { InMemoryOrderView } from '../../../../src/adapters/memory/in-memory-order-view';
import { eventCatalog, LIFECYCLE_STAGE_NAMES, lifecycleTopics, ORDER_VIEW_STAGE_NAME } from '../../../../src/application/stages/lifecycle-topics';
import { orderViewStage } from '../../../../src/application/stages/order-view.stage';
import { LoggerSpy } from '../../../support/logger-spy';
import { deadLetterTopicOf } from '../../../../src/application/stages/stage';
import {
  aCustomerNotification,
  anOrderStatusUpdated,
  anInventoryInsufficient,
  anInventoryReserved,
  anItemisedWireOrder,
  anOrderPlaced,
  anOrderRejected,
  anOrderValidated,
  aPaymentFailed,
  aPaymentProcessed,
  aPaymentRefunded,
  aPicklistCreated,
  aShipmentCreated,
} from '../../../support/builders';
import { lifecycleStages } from '../../../../src/application/stages/lifecycle/lifecycle-stages';
import { EventStage } from '../../../../src/application/stages/stage';
import { lifecycleFixture, TEST_TOPICS } from '../../../support/lifecycle-fixtures';

describe('the lifecycle topics', () => {
  it('are named by default as the issue’s table names them, ORDERS_TOPIC as configured', () => {
    expect(lifecycleTopics({ ordersTopic: 'orders.v1' })).toEqual({
      orders: 'orders.v1',
      ordersByCustomer: 'orders.by-customer',
      ordersValidated: 'orders.validated',
      ordersRejected: 'orders.rejected',
      paymentsProcessed: 'payments.processed',
      paymentsFailed: 'payments.failed',
      paymentsRefunded: 'payments.refunded',
      inventoryReserved: 'inventory.reserved',
      inventoryInsufficient: 'inventory.insufficient',
      picklistsCreated: 'picklists.created',
      shipmentsCreated: 'shipments.created',
      notificationsOutbound: 'notifications.outbound',
      ordersStatus: 'orders.status',
    });
  });

  it('all carry KAFKA_TOPIC_PREFIX, ORDERS_TOPIC included, and so do their dead-letter topics', () => {
    const topics = lifecycleTopics({ ordersTopic: 'shop.orders', prefix: 'ci-42.' });
    expect(Object.values(topics).every((topic) => topic.startsWith('ci-42.'))).toBe(true);
    expect(topics.orders).toBe('ci-42.shop.orders');
    expect(eventCatalog(topics).every((entry) => entry.topic.startsWith('ci-42.'))).toBe(true);
  });

  it.each([
    ['a prefix with a slash', { ordersTopic: 'orders.v1', prefix: 'a/b.' }, "Invalid KAFKA_TOPIC_PREFIX \"a/b.\": expected only letters, digits, '.', '_' and '-'"],
    ['an empty orders topic', { ordersTopic: '' }, 'Invalid topic name ""'],
    ['a name too long for its .dlq', { ordersTopic: 'o'.repeat(246) }, 'expected 1-245 letters'],
  ])('refuse %s, naming it', (_case, naming, message) => {
    expect(() => lifecycleTopics(naming)).toThrow(message);
  });
});

describe('the event catalog', () => {
  const catalog = eventCatalog(TEST_TOPICS);
  const events = catalog.filter((entry) => entry.kind === 'events');
  /** The lifecycle's five, then the order view. */
  let stages: EventStage[];
  const STAGE_NAMES: readonly string[] = [...LIFECYCLE_STAGE_NAMES, ORDER_VIEW_STAGE_NAME];
  beforeAll(async () => {
    const deps = await lifecycleFixture();
    const view = orderViewStage({ topics: deps.topics, codecs: deps.codecs, view: new InMemoryOrderView(), clock: { now: () => 0 }, logger: new LoggerSpy() });
    stages = [...Object.values(lifecycleStages(deps)), view];
  });

  it('is built from stages named as the catalog names them, in the lifecycle’s order', async () => {
    expect(Object.keys(lifecycleStages(await lifecycleFixture()))).toEqual([...LIFECYCLE_STAGE_NAMES]);
    expect(stages.map((stage) => stage.name)).toEqual(STAGE_NAMES);
  });

  it('lists every topic once, and a dead-letter topic for every topic a stage reads', () => {
    expect(events.map((entry) => entry.topic).sort()).toEqual(Object.values(TEST_TOPICS).sort());
    expect(new Set(catalog.map((entry) => entry.topic)).size).toBe(catalog.length);
    const read = [...new Set(stages.flatMap((stage) => stage.inputs.map((input) => input.topic)))];
    expect(catalog.filter((entry) => entry.kind === 'dead-letters').map((entry) => entry.topic).sort()).toEqual(read.map(deadLetterTopicOf).sort());
  });

  it('names, for every topic, exactly the stages that write and read it', () => {
    for (const entry of events) {
      const producers = stages.filter((stage) => Object.values(stage.outputs).some((output) => output.topic === entry.topic)).map((stage) => stage.name);
      const consumers = stages.filter((stage) => stage.inputs.some((input) => input.topic === entry.topic)).map((stage) => stage.name);
      // The orders and the status updates are written outside the stages.
      if (entry.role !== 'orders' && entry.role !== 'ordersStatus') expect({ topic: entry.topic, producers: [...entry.producers].sort() }).toEqual({ topic: entry.topic, producers: producers.sort() });
      const lifecycleConsumers = entry.consumers.filter((name) => STAGE_NAMES.includes(name));
      expect({ topic: entry.topic, consumers: lifecycleConsumers.sort() }).toEqual({ topic: entry.topic, consumers: consumers.sort() });
    }
    expect(events.find((entry) => entry.role === 'orders')!.consumers).toEqual(['archive', 'validation']);
    // The order view reads every event topic but the notifications (nothing in them it shows).
    expect(events.filter((entry) => !entry.consumers.includes(ORDER_VIEW_STAGE_NAME)).map((entry) => entry.role)).toEqual(['orders', 'notificationsOutbound']);
  });

  it('documents exactly the fields each event type has on the wire, the optional ones as optional', () => {
    const codecs = ioTsLifecycleEventCodecs();
    const complete = {
      placed: codecs.placed.encode(anOrderPlaced()),
      validated: codecs.validated.encode(anOrderValidated()),
      rejected: codecs.rejected.encode(anOrderRejected()),
      'payment-processed': codecs.paymentProcessed.encode(aPaymentProcessed()),
      'payment-failed': codecs.paymentFailed.encode(aPaymentFailed()),
      'payment-refunded': codecs.paymentRefunded.encode(aPaymentRefunded()),
      'inventory-reserved': codecs.inventoryReserved.encode(anInventoryReserved()),
      'inventory-insufficient': codecs.inventoryInsufficient.encode(anInventoryInsufficient()),
      'picklist-created': codecs.picklistCreated.encode(aPicklistCreated()),
      'shipment-created': codecs.shipmentCreated.encode(aShipmentCreated()),
      notification: codecs.notification.encode(aCustomerNotification()),
      'status-updated': codecs.statusUpdated.encode(anOrderStatusUpdated()),
      order: { value: Buffer.from(JSON.stringify(anItemisedWireOrder())), key: null },
    };
    for (const entry of events) {
      const sample = complete[entry.eventType as keyof typeof complete];
      const wire = Object.keys(JSON.parse(sample.value.toString('utf8')) as object);
      expect({ type: entry.eventType, fields: entry.fields.map((field) => field.name).sort() }).toEqual({ type: entry.eventType, fields: wire.sort() });
    }
    const optional = (type: string) => events.find((entry) => entry.eventType === type)!.fields.filter((field) => !field.required).map((field) => field.name);
    expect(optional('validated')).toEqual(['items', 'shipping_address']);
    expect(optional('order')).toEqual(['produced_at', 'items', 'currency', 'shipping_address']);
    expect(optional('picklist-created')).toEqual([]);
  });

  it('keys every topic by order id, but the repartition topic and the notifications by customer', () => {
    expect(events.filter((entry) => entry.key === 'customer').map((entry) => entry.topic)).toEqual(['orders.by-customer', 'notifications.outbound']);
    const codecs = ioTsLifecycleEventCodecs();
    expect(codecs.placed.encode(anOrderPlaced({ customer: 'C-5' })).key).toBe('C-5');
    expect(codecs.notification.encode(aCustomerNotification({ customer: 'C-5' })).key).toBe('C-5');
  });

  it('sizes every topic with the partitions it is given', () => {
    expect(new Set(eventCatalog(TEST_TOPICS, { partitions: 24 }).map((entry) => entry.partitions))).toEqual(new Set([24]));
    expect(new Set(catalog.map((entry) => entry.partitions))).toEqual(new Set([6]));
  });
});
