import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka } from 'kafkajs';
import { ioTsLifecycleEventCodecs } from '../../../src/adapters/io-ts/lifecycle-event-codec';
import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { closePostgresPool, createPostgresPool, quoteIdentifier } from '../../../src/adapters/postgres/postgres-connection';
import { PostgresOrderView } from '../../../src/adapters/postgres/postgres-order-view';
import { OrderStatus } from '../../../src/domain/lifecycle/order-status';
import { LIFECYCLE_STAGE_NAMES, lifecycleTopics, ORDER_VIEW_STAGE_NAME } from '../../../src/application/stages/lifecycle-topics';
import { statusUpdateIdOf } from '../../../src/domain/lifecycle/event-id';
import { OrderStatusUpdated, SCHEMA_VERSION } from '../../../src/domain/lifecycle/events';
import { shippingCostOf } from '../../../src/domain/lifecycle/money';
import { AppConfig } from '../../../src/main/config';
import { eventually, lifecycleRunConfig } from '../../support/integration-config';
import { startRunInProcess } from '../../support/in-process-run';
import { finalStatusesOf, lifecycleLoad } from '../../support/lifecycle-load';
import { LoggerSpy } from '../../support/logger-spy';
import { readStackEnv } from '../../support/stack-env';

const ORDERS = 300;
const PAYMENT_LIMIT = 5_000;
const FRAUD_LIMIT = 10_000;
/** Long enough for a real order's events to wait for its placement while the view's eleven groups join; short enough for the test. */
const HOLD_MAX_AGE_MS = 15_000;
const MIX = {
  seedShaped: 40,
  totalMismatch: 10,
  invalidQuantity: 10,
  invalidUnitPrice: 10,
  spendCustomers: 2,
  spendOrdersEach: 4,
  spendAmount: 3_000,
  declined: 10,
  outOfStock: 10,
  scarceOrders: 12,
  scarceUnits: 6,
};

const configFor = (run: string, schema: string, stockFile: string): AppConfig =>
  lifecycleRunConfig(run, schema, {
    ORDERFLOW_PAYMENT_LIMIT: String(PAYMENT_LIMIT),
    ORDERFLOW_FRAUD_LIMIT: String(FRAUD_LIMIT),
    ORDERFLOW_STOCK_FILE: stockFile,
    ORDERFLOW_VIEW_HOLD_MAX_AGE_MS: String(HOLD_MAX_AGE_MS),
    ORDERFLOW_VIEW_HOLD_SWEEP_MS: '500',
  });

const statusUpdate = (orderId: string, status: OrderStatus, reason: string): OrderStatusUpdated => ({
  event_id: statusUpdateIdOf(orderId, status),
  event_type: 'status-updated',
  order_id: orderId,
  occurred_at: new Date(Date.now() - 60_000).toISOString(),
  schema_version: SCHEMA_VERSION,
  status,
  reason,
});

describe('the order view on Kafka and PostgreSQL', () => {
  const run = `it-${randomUUID().slice(0, 8)}`;
  const schema = `it_view_${run.slice(3)}`;
  const stack = readStackEnv();

  it(`keeps ${ORDERS} orders' rows to their final status with their history; a status update before its order applies; an unknown order's lands on orders.status.dlq`, async () => {
    const load = lifecycleLoad({ orders: ORDERS, runId: run, paymentLimit: PAYMENT_LIMIT, fraudLimit: FRAUD_LIMIT, mix: MIX });
    const stockFile = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-view-')), 'stock.json');
    writeFileSync(stockFile, JSON.stringify(load.stock));
    const config = configFor(run, schema, stockFile);
    const topics = lifecycleTopics({ ordersTopic: 'orders.v1', prefix: `${run}.` });
    const codecs = ioTsLifecycleEventCodecs();

    const service = await startRunInProcess(config, [...LIFECYCLE_STAGE_NAMES, ORDER_VIEW_STAGE_NAME]);
    const { alive, exitCode } = service;
    const problems = (): string => service.problems(10);

    const pool = createPostgresPool({ url: stack.databaseUrl, schema, maxConnections: 4 }, new LoggerSpy());
    const view = new PostgresOrderView(pool, { logger: new LoggerSpy() });
    const publisher = new KafkaMessageBus({ brokers: config.kafka!.brokers, clientId: `${run}-shop` });
    const dlqReader = new Kafka({ brokers: [...config.kafka!.brokers], clientId: `${run}-dlq`, logLevel: 0 }).consumer({ groupId: `${run}-dlq`, maxWaitTimeInMs: 200 });
    const deadLetters: { key: string | undefined; code: string | undefined; message: string | undefined }[] = [];
    try {
      // Straight to orders.status, before anything else: one for an order placed later, one for an order nobody places.
      const early = load.orders.find((order) => order.expected.kind === 'shipped')!;
      const ghost = `${run}-ghost`;
      for (const update of [statusUpdate(early.id, 'cancelled', 'The customer changed their mind'), statusUpdate(ghost, 'cancelled', 'Nobody ordered this')]) {
        const encoded = codecs.statusUpdated.encode(update);
        await publisher.publish(topics.ordersStatus, [{ key: encoded.key, value: encoded.value }]);
      }
      await eventually(async () => (alive(), (await pool.query('SELECT count(*)::int AS n FROM order_view_held')).rows[0].n === 2), problems, 60_000);

      const messages = load.orders.map((order) => ({ key: order.id, value: Buffer.from(JSON.stringify(order.wire)) }));
      await publisher.publish(config.ordersTopic, messages);
      const expected = new Map(load.orders.map((order) => [order.id, order]));
      const unfinished = async (): Promise<string[]> => {
        const rows = await pool.query<{ order_id: string; status: OrderStatus }>('SELECT order_id, status FROM order_view WHERE order_id = ANY($1)', [[...expected.keys()]]);
        const seen = new Map(rows.rows.map((row) => [row.order_id, row.status]));
        return [...expected.values()].filter((order) => {
          const status = seen.get(order.id);
          return status === undefined || (order.id === early.id ? status !== 'cancelled' : !finalStatusesOf(order.expected).includes(status));
        }).map((order) => `${order.id} (${order.expected.kind}: ${seen.get(order.id) ?? 'no row'})`);
      };
      await eventually(
        async () => (alive(), (await unfinished()).length === 0),
        async () => `every row at its final status; not yet: ${(await unfinished()).slice(0, 5).join(', ')}\n${problems()}`,
        90_000,
      );

      for (const order of load.orders) {
        const row = (await view.get(order.id))!;
        expect(row.customer).toBe(order.customer);
        expect(row.shippingCost).toBe(shippingCostOf(row.total));
        expect(row.history[0]).toMatchObject({ eventType: 'placed', status: 'placed' });
        expect(row.history[row.history.length - 1]!.status).toBe(row.status);
        expect(new Set(row.history.map((entry) => entry.eventId)).size).toBe(row.history.length);
        if (order.id === early.id) continue;
        if (row.status === 'shipped') {
          // Every step's event, in whatever order the view's consumers read them (a step's status may be a later one's).
          expect(row.history.map((entry) => entry.eventType)).toEqual(expect.arrayContaining(['placed', 'validated', 'payment-processed', 'inventory-reserved', 'shipment-created']));
          expect(row.paymentId).toBeDefined();
          expect(row.shipment).toEqual({ shipmentId: `sh-${order.id}`, shippingCost: row.shippingCost });
        } else {
          expect(row.reasons.length).toBeGreaterThan(0);
        }
      }
      // The early cancellation applied on arrival; what the stages did after it is history, not status.
      const cancelled = (await view.get(early.id))!;
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.reasons).toEqual([{ code: 'STATUS.CANCELLED', message: 'The customer changed their mind' }]);
      expect(cancelled.history.map((entry) => entry.eventType).slice(0, 2)).toEqual(['placed', 'status-updated']);

      // The ghost's update expires and is dead-lettered to orders.status.dlq, with its reason.
      await dlqReader.connect();
      await dlqReader.subscribe({ topic: `${topics.ordersStatus}.dlq`, fromBeginning: true });
      await dlqReader.run({
        eachMessage: async ({ message }) => {
          const header = (name: string) => message.headers?.[name]?.toString();
          deadLetters.push({ key: message.key?.toString(), code: header(DLQ_HEADERS.code), message: header(DLQ_HEADERS.exceptionMessage) });
        },
      });
      await eventually(async () => (alive(), deadLetters.length >= 1), () => `the ghost's dead letter\n${problems()}`, HOLD_MAX_AGE_MS + 30_000);
      expect(deadLetters).toEqual([{ key: ghost, code: 'VIEW.ORDER_UNKNOWN', message: expect.stringMatching(new RegExp(`^VIEW\\.ORDER_UNKNOWN: order ${ghost} did not arrive within ${HOLD_MAX_AGE_MS} ms`)) }]);
      expect((await pool.query('SELECT count(*)::int AS n FROM order_view_held WHERE expired IS NULL')).rows[0].n).toBe(0);

      service.terminate();
      await expect(exitCode).resolves.toBe(0);
    } finally {
      service.terminate();
      await exitCode.catch(() => undefined);
      await dlqReader.disconnect().catch(() => undefined);
      await publisher.close();
      await view.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch(() => undefined);
      await closePostgresPool(pool);
    }
  }, 240_000);
});
