import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Consumer, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { CosOrderArchive } from '../../../src/adapters/cos/cos-order-archive';
import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { closePostgresPool, quoteIdentifier } from '../../../src/adapters/postgres/postgres-connection';
import { OutboundMessage } from '../../../src/application/ports/message-bus.port';
import { LIFECYCLE_STAGE_NAMES, LifecycleTopics, lifecycleTopics } from '../../../src/application/stages/lifecycle-topics';
import { ARCHIVE_STAGE } from '../../../src/application/stages/archive-deps';
import { quantitiesBySku } from '../../../src/domain/lifecycle/order-lines';
import { shippingCostOf } from '../../../src/domain/lifecycle/money';
import { AppConfig } from '../../../src/main/config';
import { eventually, lifecycleRunConfig } from '../../support/integration-config';
import { startRunInProcess } from '../../support/in-process-run';
import { lifecycleLoad, PlannedOrder } from '../../support/lifecycle-load';
import { readStackEnv } from '../../support/stack-env';

const ORDERS = 3_000;
const PAYMENT_LIMIT = 5_000;
const FRAUD_LIMIT = 10_000;
/** Every final event must be there by then; it took 34-75 s on a 2-core machine shared with other test runs. */
const FINAL_EVENTS_TIMEOUT_MS = 150_000;

type Json = Record<string, unknown>;

interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/**
 * The test's own eyes on the topics: one kafkajs consumer, read_committed (records of aborted or
 * open transactions are never seen), from the beginning, keeping each record once by its offset.
 * A record seen twice at the same offset is the reader's own redelivery; the same event id at two
 * offsets is a duplicate the stages wrote.
 */
class CommittedReader {
  private readonly consumer: Consumer;
  private readonly byTopic = new Map<string, Map<string, ReadRecord>>();

  constructor(brokers: readonly string[], run: string) {
    this.consumer = new Kafka({ brokers: [...brokers], clientId: `${run}-reader`, logLevel: 0 }).consumer({
      groupId: `${run}-reader`,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
    });
  }

  async start(topics: readonly string[]): Promise<void> {
    for (const topic of topics) this.byTopic.set(topic, new Map());
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const records = this.byTopic.get(batch.topic)!;
        for (const message of batch.messages) {
          records.set(`${batch.partition}:${message.offset}`, {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
        }
      },
    });
  }

  records(topic: string): ReadRecord[] {
    return [...(this.byTopic.get(topic)?.values() ?? [])];
  }

  events(topic: string): Json[] {
    return this.records(topic).map((record) => JSON.parse(record.value!.toString('utf8')) as Json);
  }

  count(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/**
 * `orderflow run` with every stage as its environment configures it (KAFKA_TOPIC_PREFIX, the
 * lifecycle's variables), in this process; the stack's PostgreSQL in a schema of this run's own.
 */
const configFor = (run: string, schema: string, stockFile: string): AppConfig =>
  lifecycleRunConfig(run, schema, {
    ORDERFLOW_PAYMENT_LIMIT: String(PAYMENT_LIMIT),
    ORDERFLOW_FRAUD_LIMIT: String(FRAUD_LIMIT),
    // About 150 of the charges and refunds time out once (some more than once): each is held and retried, never dead-lettered.
    ORDERFLOW_PAYMENT_TRANSIENT_FAILURE_RATE: '0.05',
    ORDERFLOW_STOCK_FILE: stockFile,
  });

/** The topic each kind of final event is on; every order ends on exactly one of them. */
const finalTopics = (topics: LifecycleTopics) => [topics.shipmentsCreated, topics.ordersRejected, topics.paymentsFailed, topics.inventoryInsufficient];

describe('the order lifecycle on Kafka, PostgreSQL and MinIO', () => {
  const run = `it-${randomUUID().slice(0, 8)}`;
  const schema = `it_lifecycle_${run.slice(3)}`;
  const stack = readStackEnv();
  let pool: Pool;

  beforeAll(() => {
    pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch(() => undefined);
    await closePostgresPool(pool);
  });

  it(`takes ${ORDERS.toLocaleString('en')} orders of every kind to their final states, each event exactly once, stock and payments exact`, async () => {
    const load = lifecycleLoad({ orders: ORDERS, runId: run, paymentLimit: PAYMENT_LIMIT, fraudLimit: FRAUD_LIMIT });
    const stockFile = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-lifecycle-')), 'stock.json');
    writeFileSync(stockFile, JSON.stringify(load.stock));
    const config = configFor(run, schema, stockFile);
    const topics = lifecycleTopics({ ordersTopic: 'orders.v1', prefix: `${run}.` });
    expect(config.ordersTopic).toBe(topics.orders);
    expect(config.dlqTopic).toBe(`${run}.orders.v1.dlq`);

    // The lifecycle and the archive, which this test checks; the order view has suites of its own
    // (order-view, order-api): beside these stages on 2 cores it only slows them down.
    const service = await startRunInProcess(config, [...LIFECYCLE_STAGE_NAMES, ARCHIVE_STAGE]);
    const { alive, exitCode, port } = service;
    const problems = (): string => service.problems();

    const reader = new CommittedReader(config.kafka!.brokers, run);
    // What the stages write: every topic but the inputs from outside (the orders, the status updates).
    const outputTopics = Object.values(topics).filter((topic) => topic !== topics.orders && topic !== topics.ordersStatus);
    await reader.start([...outputTopics, config.dlqTopic]);
    const publisher = new KafkaMessageBus({ brokers: config.kafka!.brokers, clientId: `${run}-shop` });
    const archive = new CosOrderArchive({ endpoint: config.cos!.endpoint, bucket: config.cos!.bucket, credentials: config.cos!.credentials });
    try {
      // The poison in the middle of the stream: every partition must move past it.
      const messages: OutboundMessage[] = load.orders.map((order) => ({ key: order.id, value: Buffer.from(JSON.stringify(order.wire)) }));
      messages.splice(ORDERS / 2, 0, ...load.poison);
      const started = Date.now();
      for (let i = 0; i < messages.length; i += 500) await publisher.publish(config.ordersTopic, messages.slice(i, i + 500));
      const published = Date.now();

      const finals = finalTopics(topics);
      const finished = (): number => finals.reduce((sum, topic) => sum + reader.count(topic), 0);
      const missing = (): string => {
        const ended = new Set(finals.flatMap((topic) => reader.events(topic).map((event) => event.order_id as string)));
        const open = load.orders.filter((order) => !ended.has(order.id));
        const counts = outputTopics.map((topic) => `${topic.slice(run.length + 1)}=${reader.count(topic)}`).join(' ');
        return `every order's final event; ${open.length} missing, e.g. ${open
          .slice(0, 5)
          .map((order) => `${order.id} (${order.expected.kind})`)
          .join(', ')}; topics: ${counts}\n${problems()}`;
      };
      await eventually(async () => (alive(), finished() >= ORDERS), missing, FINAL_EVENTS_TIMEOUT_MS);
      const done = Date.now();
      // The last of the outputs that end no order: notifications of the final events, the archive, the dead letters.
      const archived = async (): Promise<number> => (await archive.list(`${config.archivePrefix}/`)).length;
      await eventually(
        async () => (alive(), reader.count(topics.notificationsOutbound) >= ORDERS && reader.count(config.dlqTopic) >= 2 * load.poison.length && (await archived()) >= ORDERS),
        async () =>
          `notifications ${reader.count(topics.notificationsOutbound)}/${ORDERS}, dead letters ${reader.count(config.dlqTopic)}/${2 * load.poison.length}, archived ${await archived()}/${ORDERS}\n${problems()}`,
        30_000,
      );
      const seconds = (done - started) / 1000;
      process.stderr.write(
        `[lifecycle] ${ORDERS} orders published in ${((published - started) / 1000).toFixed(1)} s, all final after ${seconds.toFixed(1)} s: ${(ORDERS / seconds).toFixed(0)} orders/s through six stages\n`,
      );

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
      expect(readyz.status).toBe(200);

      service.terminate();
      await expect(exitCode).resolves.toBe(0);
      // Nothing written after the drain: give the reader a moment to see anything late.
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      assertEventsExactlyOnce(reader, outputTopics);
      assertFinalStates(reader, topics, load.orders);
      assertNotifications(reader, topics, load.orders);
      assertDeadLetters(reader, config, load.poison);
      await assertArchive(archive, config, load.orders);
      await assertStockAndPayments(pool, schema, reader, topics, load);
      // The simulated gateway failed about 5 % of its calls: held and retried, so nothing above is missing.
      const retries = (stage: string): number => Number(new RegExp(`orderflow_stage_retries_total\\{stage="${stage}",target="handle"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      process.stderr.write(`[lifecycle] retries of the gateway's transient failures: payment ${retries('payment')}, inventory (refunds) ${retries('inventory')}\n`);
      expect(retries('payment')).toBeGreaterThan(0);
    } finally {
      // A no-op after a clean stop; after a failure above, the stages are drained all the same.
      service.terminate();
      await exitCode.catch(() => undefined);
      await reader.stop();
      await publisher.close();
      await archive.close();
    }
  }, 240_000);
});

/** No event id twice on any topic, under read_committed: the transactions' promise, not deduplication. */
const assertEventsExactlyOnce = (reader: CommittedReader, topics: readonly string[]): void => {
  const duplicates: string[] = [];
  for (const topic of topics) {
    const seen = new Map<string, number>();
    for (const event of reader.events(topic)) seen.set(event.event_id as string, (seen.get(event.event_id as string) ?? 0) + 1);
    for (const [id, times] of seen) if (times > 1) duplicates.push(`${topic}: ${id} ×${times}`);
  }
  expect(duplicates).toEqual([]);
};

const byOrder = (reader: CommittedReader, topic: string): Map<string, Json> => new Map(reader.events(topic).map((event) => [event.order_id as string, event]));

const assertFinalStates = (reader: CommittedReader, topics: LifecycleTopics, orders: readonly PlannedOrder[]): void => {
  const shipped = byOrder(reader, topics.shipmentsCreated);
  const rejected = byOrder(reader, topics.ordersRejected);
  const failed = byOrder(reader, topics.paymentsFailed);
  const insufficient = byOrder(reader, topics.inventoryInsufficient);
  const picklists = byOrder(reader, topics.picklistsCreated);
  const refunded = byOrder(reader, topics.paymentsRefunded);
  const finalOf = (id: string): string[] =>
    [shipped.has(id) && 'shipped', rejected.has(id) && 'rejected', failed.has(id) && 'declined', insufficient.has(id) && 'insufficient'].filter((s): s is string => s !== false);

  const wrong: string[] = [];
  const groups = new Map<string, { admitted: number; expected: number }>();
  for (const order of orders) {
    const finals = finalOf(order.id);
    const expected = order.expected;
    const is = (state: string, ok = true): void => {
      if (finals.length !== 1 || finals[0] !== state || !ok) wrong.push(`${order.id}: expected ${state} (${expected.kind}), got ${finals.join('+') || 'nothing'}`);
    };
    switch (expected.kind) {
      case 'shipped': {
        const picklist = picklists.get(order.id);
        is('shipped', picklist !== undefined && JSON.stringify(picklist.items) === JSON.stringify(quantitiesBySku(expected.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unit_price })))));
        break;
      }
      case 'shipped-seed':
        is('shipped', !picklists.has(order.id));
        break;
      case 'rejected': {
        const codes = ((rejected.get(order.id)?.reasons ?? []) as Json[]).map((reason) => reason.code);
        is('rejected', JSON.stringify(codes) === JSON.stringify(expected.codes));
        break;
      }
      case 'declined':
        is('declined', failed.get(order.id)?.code === 'PAYMENT.LIMIT_EXCEEDED');
        break;
      case 'insufficient':
        is('insufficient', insufficient.get(order.id)?.refunded === true && refunded.has(order.id));
        break;
      case 'spend-group':
      case 'scarce-group': {
        // Which of the group ship is a race; how many is not. The others end as the group's rule says.
        const [group, allowed] = expected.kind === 'spend-group' ? [expected.customer, expected.admitted] : [expected.sku, expected.units];
        const tally = groups.get(group) ?? { admitted: 0, expected: allowed };
        groups.set(group, tally);
        if (finals.length === 1 && finals[0] === 'shipped') tally.admitted++;
        else if (expected.kind === 'spend-group') is('rejected', JSON.stringify(((rejected.get(order.id)?.reasons ?? []) as Json[]).map((r) => r.code)) === '["ORDER.SPEND_LIMIT_EXCEEDED"]');
        else is('insufficient', insufficient.get(order.id)?.refunded === true && refunded.has(order.id));
        break;
      }
    }
  }
  for (const [group, tally] of groups) if (tally.admitted !== tally.expected) wrong.push(`${group}: ${tally.admitted} shipped, expected ${tally.expected}`);
  expect(wrong.slice(0, 20)).toEqual([]);

  // Every decodable order repartitioned by customer; every validated one charged or declined, once.
  const placed = reader.records(topics.ordersByCustomer).map((record) => [record.key, JSON.parse(record.value!.toString()) as Json] as const);
  expect(placed.map(([, event]) => event.order_id as string).sort()).toEqual(orders.map((order) => order.id).sort());
  const customers = new Map(orders.map((order) => [order.id, order.customer]));
  expect(placed.filter(([key, event]) => key !== customers.get(event.order_id as string)).length).toBe(0);
  const validated = reader.events(topics.ordersValidated).map((event) => event.order_id as string).sort();
  const paidOrDeclined = [...reader.events(topics.paymentsProcessed), ...reader.events(topics.paymentsFailed)].map((event) => event.order_id as string).sort();
  expect(paidOrDeclined).toEqual(validated);

  // Nothing beyond the orders placed, and the shipments priced as the rule says.
  const ids = new Set(orders.map((order) => order.id));
  expect([...shipped.keys(), ...rejected.keys(), ...failed.keys(), ...insufficient.keys()].filter((id) => !ids.has(id))).toEqual([]);
  for (const order of orders.filter((_, i) => i % 50 === 0)) {
    const shipment = shipped.get(order.id);
    if (shipment !== undefined) expect(shipment.shipping_cost).toBe(shippingCostOf(order.total));
  }
};

/** One notification per final event, to the order's customer, keyed by the customer. */
const assertNotifications = (reader: CommittedReader, topics: LifecycleTopics, orders: readonly PlannedOrder[]): void => {
  const finalIds = finalTopics(topics).flatMap((topic) => reader.events(topic).map((event) => event.event_id as string));
  const notifications = reader.records(topics.notificationsOutbound);
  const about = notifications.map((record) => JSON.parse(record.value!.toString()).about_event_id as string);
  expect(about.sort()).toEqual(finalIds.sort());
  const customers = new Map(orders.map((order) => [order.id, order.customer]));
  const misaddressed = notifications.filter((record) => {
    const event = JSON.parse(record.value!.toString()) as Json;
    return event.customer !== customers.get(event.order_id as string) || record.key !== event.customer;
  });
  expect(misaddressed.length).toBe(0);
};

/** Each poison message twice on the orders DLQ: once from validation, once from the archive, with its code. */
const assertDeadLetters = (reader: CommittedReader, config: AppConfig, poison: readonly { key: string; value: Buffer | null; code: string }[]): void => {
  const dead = reader.records(config.dlqTopic);
  const seen = dead.map((record) => `${record.key} ${record.headers[DLQ_HEADERS.stageName]} ${record.headers[DLQ_HEADERS.code]}`).sort();
  const expected = poison.flatMap((p) => ['archive', 'validation'].map((stage) => `${p.key} ${stage} ${p.code}`)).sort();
  expect(seen).toEqual(expected);
  for (const record of dead) {
    expect(record.headers[DLQ_HEADERS.topic]).toBe(config.ordersTopic);
    expect(record.value?.equals(poison.find((p) => p.key === record.key)!.value!)).toBe(true);
  }
};

/** The archive stage ran beside the lifecycle: one object per decodable order, under its Hive key. */
const assertArchive = async (archive: CosOrderArchive, config: AppConfig, orders: readonly PlannedOrder[]): Promise<void> => {
  const keys = await archive.list(`${config.archivePrefix}/`);
  const expected = orders.map((order) => `${config.archivePrefix}/dt=${String(order.wire.produced_at).slice(0, 10)}/orderId=${order.id}.json`);
  expect(keys.sort()).toEqual(expected.sort());
};

const assertStockAndPayments = async (
  pool: Pool,
  schema: string,
  reader: CommittedReader,
  topics: LifecycleTopics,
  load: ReturnType<typeof lifecycleLoad>,
): Promise<void> => {
  const table = (name: string): string => `${quoteIdentifier(schema)}.${name}`;
  // Stock: what the file gave, less what was reserved, and never below zero (the CHECK would have refused it anyway).
  const stock = Object.fromEntries(
    (await pool.query<{ sku: string; available: number }>(`SELECT sku, available FROM ${table('stock')}`)).rows.map((row) => [row.sku, row.available]),
  );
  expect(stock).toEqual(load.finalStock);
  const reservedRows = (await pool.query<{ order_id: string; outcome: string; lines: { sku: string; quantity: number }[] }>(`SELECT order_id, outcome, lines FROM ${table('reservations')}`)).rows;
  const taken = new Map<string, number>();
  for (const row of reservedRows) for (const line of row.lines) taken.set(line.sku, (taken.get(line.sku) ?? 0) + line.quantity);
  for (const [sku, initial] of Object.entries(load.stock)) expect(`${sku} ${stock[sku]}`).toBe(`${sku} ${initial - (taken.get(sku) ?? 0)}`);
  // The events tell the same story as the table.
  const reservedEvents = reader.events(topics.inventoryReserved);
  expect(reservedRows.filter((row) => row.outcome === 'reserved').map((row) => row.order_id).sort()).toEqual(reservedEvents.map((event) => event.order_id as string).sort());

  // Payments: one row per order charged, one per order declined, a refund for each order that could not be reserved.
  const payments = (await pool.query<{ order_id: string; outcome: string; amount: string }>(`SELECT order_id, outcome, amount FROM ${table('payments')}`)).rows;
  const charged = payments.filter((row) => row.outcome === 'charged').map((row) => row.order_id).sort();
  const declined = payments.filter((row) => row.outcome === 'declined').map((row) => row.order_id).sort();
  expect(new Set(payments.map((row) => row.order_id)).size).toBe(payments.length);
  expect(charged).toEqual(reader.events(topics.paymentsProcessed).map((event) => event.order_id as string).sort());
  expect(declined).toEqual(reader.events(topics.paymentsFailed).map((event) => event.order_id as string).sort());
  const totals = new Map(load.orders.map((order) => [order.id, order.total]));
  expect(payments.filter((row) => Number(row.amount) !== totals.get(row.order_id)).map((row) => row.order_id)).toEqual([]);
  const refunds = (await pool.query<{ order_id: string }>(`SELECT order_id FROM ${table('refunds')}`)).rows.map((row) => row.order_id).sort();
  expect(refunds).toEqual(reader.events(topics.inventoryInsufficient).map((event) => event.order_id as string).sort());
  expect(refunds).toEqual(reader.events(topics.paymentsRefunded).map((event) => event.order_id as string).sort());
};
