import { ioTsLifecycleEventCodecs } from '../../../../src/adapters/io-ts/lifecycle-event-codec';
import { DLQ_HEADERS, KafkaDeadLetterSink } from '../../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryMetrics } from '../../../../src/adapters/memory/in-memory-metrics';
import { InMemoryOrderView } from '../../../../src/adapters/memory/in-memory-order-view';
import { headerText } from '../../../../src/application/ports/message-bus.port';
import { HeldEventBounds } from '../../../../src/application/ports/order-view.port';
import { encodeLifecycleEvent } from '../../../../src/application/stages/lifecycle/event-codecs';
import { orderViewStage } from '../../../../src/application/stages/order-view.stage';
import { stageGroupId, StageRunner } from '../../../../src/application/stages/stage-runner';
import { statusUpdateIdOf } from '../../../../src/domain/lifecycle/event-id';
import { LifecycleEvent } from '../../../../src/domain/lifecycle/events';
import { anOrderPlaced, anOrderStatusUpdated, anOrderValidated, aPaymentProcessed, aShipmentCreated } from '../../../support/builders';
import { TEST_TOPICS } from '../../../support/lifecycle-fixtures';
import { LoggerSpy } from '../../../support/logger-spy';

const codecs = ioTsLifecycleEventCodecs();

/** The order view stage on the in-memory bus, its clock the test's, sweeping every 10 ms. */
const harness = (bounds: HeldEventBounds = { maxEvents: 100, maxAgeMs: 60_000 }) => {
  const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
  const clock = { ms: Date.parse('2026-11-22T10:00:00.000Z'), now: () => clock.ms };
  const view = new InMemoryOrderView({ bounds, clock });
  const metrics = new InMemoryMetrics();
  const logger = new LoggerSpy();
  const stage = orderViewStage({ topics: TEST_TOPICS, codecs, view, clock, logger, sweepMs: 10 });
  const runner = new StageRunner({ bus, deadLetters: (topic) => new KafkaDeadLetterSink(bus, `${topic}.dlq`), metrics, logger, clock });
  const groupOf = (topic: string) => stageGroupId('', stage.name, topic, stage.inputs.length);
  const run = () => runner.run(stage, { groupId: groupOf, maxInFlight: 64, backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
  const write = (topic: string, ...events: LifecycleEvent[]) =>
    bus.publish(
      topic,
      events.map((event) => {
        const encoded = encodeLifecycleEvent(codecs, event);
        return { key: encoded.key, value: encoded.value };
      }),
    );
  const caughtUp = (topic: string) => bus.caughtUp(groupOf(topic), topic);
  return { bus, clock, view, metrics, logger, stage, run, write, caughtUp };
};

const until = async (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

const delivered = (orderId: string) =>
  anOrderStatusUpdated({ order_id: orderId, event_id: statusUpdateIdOf(orderId, 'delivered'), status: 'delivered', occurred_at: '2026-11-22T10:00:09.000Z' });

describe('the order-view stage', () => {
  it('reads every lifecycle topic but the notifications, and orders.status; emits nothing; ordered, not exactly-once', () => {
    const { stage } = harness();
    expect(stage.inputs.map((input) => input.topic).sort()).toEqual(
      Object.entries(TEST_TOPICS)
        .filter(([role]) => role !== 'orders' && role !== 'notificationsOutbound')
        .map(([, topic]) => topic)
        .sort(),
    );
    expect(stage).toMatchObject({ name: 'order-view', outputs: {}, ordering: 'ordered', exactlyOnce: false });
  });

  it('applies a status update written before its order once the order arrives, and duplicates change nothing', async () => {
    const h = harness();
    const running = await h.run();
    try {
      await h.write(TEST_TOPICS.ordersStatus, delivered('o-1'));
      await h.write(TEST_TOPICS.shipmentsCreated, aShipmentCreated({ order_id: 'o-1', occurred_at: '2026-11-22T10:00:05.000Z' }));
      await h.caughtUp(TEST_TOPICS.ordersStatus);
      await h.caughtUp(TEST_TOPICS.shipmentsCreated);
      expect(await h.view.get('o-1')).toBeUndefined();
      expect(h.view.heldCount).toBe(2);

      await h.write(TEST_TOPICS.ordersByCustomer, anOrderPlaced({ order_id: 'o-1', occurred_at: '2026-11-22T10:00:00.000Z' }));
      await until(async () => (await h.view.get('o-1'))?.status === 'delivered', 'the order delivered');
      expect(h.view.heldCount).toBe(0);
      // Redeliveries, of the held ones and of the others, change nothing.
      await h.write(TEST_TOPICS.ordersValidated, anOrderValidated({ order_id: 'o-1' }));
      await h.caughtUp(TEST_TOPICS.ordersValidated);
      const before = await h.view.get('o-1');
      await h.write(TEST_TOPICS.ordersStatus, delivered('o-1'));
      await h.write(TEST_TOPICS.ordersValidated, anOrderValidated({ order_id: 'o-1' }));
      await h.write(TEST_TOPICS.ordersByCustomer, anOrderPlaced({ order_id: 'o-1' }));
      for (const topic of [TEST_TOPICS.ordersStatus, TEST_TOPICS.ordersValidated, TEST_TOPICS.ordersByCustomer]) await h.caughtUp(topic);
      expect(await h.view.get('o-1')).toEqual(before);
      expect(before?.history.map((entry) => [entry.eventType, entry.status])).toEqual([
        ['placed', 'placed'],
        ['shipment-created', 'shipped'],
        ['status-updated', 'delivered'],
        ['validated', 'delivered'],
      ]);
      expect(h.bus.records(`${TEST_TOPICS.ordersStatus}.dlq`)).toEqual([]);
    } finally {
      await running.stop();
    }
  });

  it('dead-letters an unknown order’s event to <its topic>.dlq with VIEW.ORDER_UNKNOWN and its reason once it expires, once', async () => {
    const h = harness({ maxEvents: 100, maxAgeMs: 1_000 });
    const running = await h.run();
    try {
      const update = delivered('o-ghost');
      await h.write(TEST_TOPICS.ordersStatus, update);
      await h.write(TEST_TOPICS.paymentsProcessed, aPaymentProcessed({ order_id: 'o-ghost' }));
      await h.caughtUp(TEST_TOPICS.ordersStatus);
      await h.caughtUp(TEST_TOPICS.paymentsProcessed);
      // Held, not expired: several sweeps find nothing.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(h.bus.records(`${TEST_TOPICS.ordersStatus}.dlq`)).toEqual([]);

      h.clock.ms += 1_000;
      await until(() => h.bus.records(`${TEST_TOPICS.ordersStatus}.dlq`).length === 1 && h.bus.records(`${TEST_TOPICS.paymentsProcessed}.dlq`).length === 1, 'the dead letters');
      const [dead] = h.bus.records(`${TEST_TOPICS.ordersStatus}.dlq`);
      expect(JSON.parse(dead!.value!.toString('utf8'))).toEqual(update);
      expect(dead!.key?.toString()).toBe('o-ghost');
      expect(headerText(dead!.headers, DLQ_HEADERS.code)).toBe('VIEW.ORDER_UNKNOWN');
      expect(headerText(dead!.headers, DLQ_HEADERS.exceptionMessage)).toMatch(/^VIEW\.ORDER_UNKNOWN: order o-ghost did not arrive within 1000 ms/);
      expect(headerText(dead!.headers, DLQ_HEADERS.stageName)).toBe('order-view');
      expect(h.metrics.stages.get('order-view')).toMatchObject({ deadLettered: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(h.bus.records(`${TEST_TOPICS.ordersStatus}.dlq`)).toHaveLength(1);
      // Its order arriving later starts from its placement alone.
      await h.write(TEST_TOPICS.ordersByCustomer, anOrderPlaced({ order_id: 'o-ghost' }));
      await until(async () => (await h.view.get('o-ghost'))?.status === 'placed', 'the late order');
    } finally {
      await running.stop();
    }
  });

  it('at the count bound, makes the topics that run ahead wait for the placements, and dead-letters nothing', async () => {
    const h = harness({ maxEvents: 2, maxAgeMs: 60_000 });
    const running = await h.run();
    try {
      const ids = ['o-1', 'o-2', 'o-3', 'o-4', 'o-5'];
      await h.write(TEST_TOPICS.paymentsProcessed, ...ids.map((id) => aPaymentProcessed({ order_id: id })));
      await until(() => h.view.heldCount === 2, 'two events held');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(h.view.heldCount).toBe(2);
      expect(h.logger.hasLogged(/holds as many events as it may/)).toBe(true);

      await h.write(TEST_TOPICS.ordersByCustomer, ...ids.map((id) => anOrderPlaced({ order_id: id })));
      await until(async () => (await Promise.all(ids.map((id) => h.view.get(id)))).every((row) => row?.status === 'paid'), 'every order paid');
      expect(h.view.heldCount).toBe(0);
      expect(h.bus.records(`${TEST_TOPICS.paymentsProcessed}.dlq`)).toEqual([]);
    } finally {
      await running.stop();
    }
  });

  it('ends a wait for room at shutdown, leaving the event unacked', async () => {
    const h = harness({ maxEvents: 1, maxAgeMs: 60_000 });
    const running = await h.run();
    await h.write(TEST_TOPICS.paymentsProcessed, aPaymentProcessed({ order_id: 'o-1' }), aPaymentProcessed({ order_id: 'o-2' }));
    await until(() => h.logger.hasLogged(/holds as many events as it may/), 'the wait for room');
    await running.stop();
    await expect(running.done).resolves.toBeUndefined();
    expect(h.bus.records(`${TEST_TOPICS.paymentsProcessed}.dlq`)).toEqual([]);
    // Of the two events, only what was held is committed: the waiting one is delivered again after a restart.
    expect(h.bus.committed(stageGroupId('', 'order-view', TEST_TOPICS.paymentsProcessed, h.stage.inputs.length), TEST_TOPICS.paymentsProcessed).reduce((a, b) => a + b, 0)).toBeLessThan(2);
  });

  it('stops its sweep with the stage', async () => {
    const h = harness();
    const running = await h.run();
    await running.stop();
    await expect(running.done).resolves.toBeUndefined();
  });
});

