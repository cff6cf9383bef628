import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ioTsLifecycleEventCodecs } from '../../../src/adapters/io-ts/lifecycle-event-codec';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { closePostgresPool, createPostgresPool, quoteIdentifier } from '../../../src/adapters/postgres/postgres-connection';
import { LIFECYCLE_STAGE_NAMES, lifecycleTopics, ORDER_VIEW_STAGE_NAME } from '../../../src/application/stages/lifecycle-topics';
import { statusUpdateIdOf } from '../../../src/domain/lifecycle/event-id';
import { SCHEMA_VERSION } from '../../../src/domain/lifecycle/events';
import { shippingCostOf } from '../../../src/domain/lifecycle/money';
import { OrderStatus } from '../../../src/domain/lifecycle/order-status';
import { OrderApiHandle, startOrderApi } from '../../../src/main/commands/api';
import { AppConfig } from '../../../src/main/config';
import { TOKENS } from '../../../src/main/di-tokens';
import { aWireOrder } from '../../support/builders';
import { eventually, lifecycleRunConfig } from '../../support/integration-config';
import { ExpectedOutcome, finalStatusesOf, lifecycleLoad, PlannedOrder } from '../../support/lifecycle-load';
import { LoggerSpy } from '../../support/logger-spy';
import { readStackEnv, StackEnv } from '../../support/stack-env';

const ORDERS = 1_000;
/** Clients placing at once: enough to keep the producer's batches full, few enough for 2 loaded cores. */
const CONCURRENCY = 32;
/**
 * The frozen-broker instance's ORDERFLOW_API_SEND_TIMEOUT_MS. Short, because the whole freeze (two
 * rounds of 503s and the checks between) must stay well under the stack's broker.session.timeout.ms
 * (5 s, scripts/stack/stack.sh): a longer SIGSTOP gets the single KRaft broker fenced by its own
 * controller on resume, every partition and group coordinator re-elected, which is a broker restart
 * (the fault suite's F2), not the stall this test is about.
 */
const FROZEN_SEND_TIMEOUT_MS = 1_000;
/** The stack's broker.session.timeout.ms: a freeze this long is no longer a stall (above). */
const BROKER_SESSION_TIMEOUT_MS = 5_000;
/** What a 503 may take beyond the send timeout: the claim's two writes and the answer, on a loaded machine. */
const MARGIN_503_MS = 1_500;
const WAIT_MS = 90_000;
const PAYMENT_LIMIT = 5_000;
const FRAUD_LIMIT = 10_000;
/** The lifecycle-load mix scaled to 1,000 orders; the rest are itemised orders that ship. */
const MIX = {
  seedShaped: 120,
  totalMismatch: 30,
  invalidQuantity: 30,
  invalidUnitPrice: 30,
  spendCustomers: 5,
  spendOrdersEach: 4,
  spendAmount: 3_000,
  declined: 30,
  outOfStock: 30,
  scarceOrders: 40,
  scarceUnits: 20,
};

/** The run's configuration on the stack (lifecycleRunConfig); the archive is not among the stages this test runs. */
const configFor = (run: string, schema: string, stockFile: string, env: Record<string, string> = {}): AppConfig =>
  lifecycleRunConfig(
    run,
    schema,
    { ORDERFLOW_PAYMENT_LIMIT: String(PAYMENT_LIMIT), ORDERFLOW_FRAUD_LIMIT: String(FRAUD_LIMIT), ORDERFLOW_STOCK_FILE: stockFile },
    { LOG_LEVEL: 'silent', ...env },
  );

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

const call = async (url: string, init: RequestInit = {}): Promise<Answer> => {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), ms: performance.now() - started };
};

const postOrder = (base: string, body: unknown, idempotencyKey?: string): Promise<Answer> =>
  call(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) },
    body: JSON.stringify(body),
  });

const waitFor = (base: string, id: string, status: OrderStatus, timeoutMs = WAIT_MS): Promise<Answer> =>
  call(`${base}/orders/${encodeURIComponent(id)}?wait=${status}&timeout=${timeoutMs}`);

/** Runs `work` on every item, `concurrency` at a time, as that many clients would. */
const pool = async <T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
};

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const report = (line: string): void => void process.stderr.write(`[order-api] ${line}\n`);

/**
 * The broker's pid, to freeze it. Only the native stack (scripts/stack/stack.sh) says where its
 * broker runs; on servers the environment provides (or testcontainers) this process cannot reach
 * it, and the test fails rather than pretend the freeze was tested.
 */
const brokerPid = (stack: StackEnv): number => {
  if (!stack.stackScript || stack.stackDir === undefined) {
    throw new Error(
      `The frozen-broker test needs the native stack (scripts/stack/stack.sh) to SIGSTOP its broker; this run's stack is '${stack.source}' (KAFKA_BROKERS=${stack.kafkaBrokers}), whose broker process is not ours to signal. Unset KAFKA_BROKERS/COS_ENDPOINT (and ORDERFLOW_NO_DOCKER=1) to run on the native stack.`,
    );
  }
  const file = path.join(stack.stackDir, 'kafka.pid');
  if (!existsSync(file)) throw new Error(`No broker pid at ${file}: is the native stack's Kafka running (scripts/stack/stack.sh status)?`);
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${file} holds no pid: ${JSON.stringify(readFileSync(file, 'utf8'))}`);
  process.kill(pid, 0);
  return pid;
};

/**
 * `orderflow api` on the real stack (issue 11). One API runs every lifecycle stage and the order
 * view in its process, as `orderflow api --stages …` would: one supervisor, one close, and the
 * view's LISTEN/NOTIFY path all the same, since the stages write the rows in PostgreSQL and the
 * waiters hear of them from there. The frozen-broker test talks to a second API instance without
 * stages on the same database (claims and Idempotency-Keys are shared there, as between scaled-out
 * instances), so that its short send timeout does not apply to the 1,000 orders of the load, and
 * a broker-side stall there is not mistaken for the freeze.
 */
describe('orderflow api on Kafka and PostgreSQL', () => {
  const run = `it-${randomUUID().slice(0, 8)}`;
  const schema = `it_api_${run.slice(3)}`;
  const stack = readStackEnv();
  const load = lifecycleLoad({ orders: ORDERS, runId: run, paymentLimit: PAYMENT_LIMIT, fraudLimit: FRAUD_LIMIT, mix: MIX });
  const topics = lifecycleTopics({ ordersTopic: 'orders.v1', prefix: `${run}.` });
  const logger = new LoggerSpy();
  const frozenLogger = new LoggerSpy();
  let api: OrderApiHandle;
  let frozenApi: OrderApiHandle;
  let base: string;
  const database = createPostgresPool({ url: stack.databaseUrl, schema, maxConnections: 2 }, new LoggerSpy());
  const finals = new Map<string, Record<string, unknown>>();

  const problems = (spy: LoggerSpy = logger): string =>
    spy.lines
      .filter((line) => line.level === 'warn' || line.level === 'error')
      .slice(-10)
      .map((line) => `${line.level} ${line.message} ${JSON.stringify(line.fields).slice(0, 300)}`)
      .join('\n');

  beforeAll(async () => {
    const started = performance.now();
    const stockFile = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-api-it-')), 'stock.json');
    writeFileSync(stockFile, JSON.stringify(load.stock));
    api = await startOrderApi(configFor(run, schema, stockFile), [...LIFECYCLE_STAGE_NAMES, ORDER_VIEW_STAGE_NAME], {
      exit: () => undefined,
      overrides: (c) => void c.rebindSync(TOKENS.Logger).toConstantValue(logger),
    });
    base = api.address.url;
    frozenApi = await startOrderApi(configFor(run, schema, stockFile, { KAFKA_CLIENT_ID: `orderflow-${run}-frozen`, ORDERFLOW_API_SEND_TIMEOUT_MS: String(FROZEN_SEND_TIMEOUT_MS) }), [], {
      exit: () => undefined,
      overrides: (c) => void c.rebindSync(TOKENS.Logger).toConstantValue(frozenLogger),
    });
    await eventually(async () => (await call(`${base}/readyz`)).status === 200, async () => `the API to be ready: ${JSON.stringify((await call(`${base}/readyz`)).body)}`, 90_000);
    report(`both APIs listening and ready in ${Math.round(performance.now() - started)} ms`);
  }, 150_000);

  afterAll(async () => {
    const codes = await Promise.all([frozenApi?.close(), api?.close()]);
    await database.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`).catch(() => undefined);
    await closePostgresPool(database);
    expect(codes).toEqual([0, 0]);
  }, 60_000);

  it(`places ${ORDERS} orders over HTTP (201 with Location once acknowledged), each of which reaches its final status through GET ?wait=`, async () => {
    const started = performance.now();
    const placed = await pool(load.orders, CONCURRENCY, (order) => postOrder(base, order.wire));
    const placing = performance.now() - started;
    const refused = placed.map((answer, i) => ({ answer, order: load.orders[i]! })).filter(({ answer }) => answer.status !== 201);
    expect(refused.map(({ order, answer }) => `${order.id} (${order.expected.kind}): ${answer.status} ${JSON.stringify(answer.body)}`).slice(0, 5)).toEqual([]);
    placed.forEach((answer, i) => {
      const id = load.orders[i]!.id;
      expect(answer.headers.get('location')).toBe(`/orders/${id}`);
      expect(answer.body).toEqual({ order_id: id, location: `/orders/${id}` });
    });
    const postMs = placed.map((answer) => answer.ms);
    report(`POST ${ORDERS} orders, ${CONCURRENCY} at a time: ${Math.round(placing)} ms (${Math.round((ORDERS / placing) * 1000)}/s), p50 ${Math.round(percentile(postMs, 50))} ms, p99 ${Math.round(percentile(postMs, 99))} ms`);

    // `wait=shipped`: the ones that end otherwise (rejected, payment_failed, out_of_stock) are terminal and answer at once.
    const answers = await pool(load.orders, 50, (order) => waitFor(base, order.id, 'shipped'));
    report(`every order at its final status ${Math.round(performance.now() - started)} ms after the first POST`);
    const wrong = answers
      .map((answer, i) => ({ answer, order: load.orders[i]! }))
      .filter(({ answer, order }) => answer.status !== 200 || !finalStatusesOf(order.expected).includes(answer.body.status as OrderStatus))
      .map(({ answer, order }) => `${order.id} (${order.expected.kind}): ${answer.status} ${String(answer.body.status ?? answer.body.detail)}`);
    expect(wrong.slice(0, 5).join('\n') + (wrong.length === 0 ? '' : `\n${problems()}`)).toBe('');

    const byStatus = new Map<string, number>();
    answers.forEach((answer, i) => {
      const order: PlannedOrder = load.orders[i]!;
      const row = answer.body;
      finals.set(order.id, row);
      byStatus.set(row.status as string, (byStatus.get(row.status as string) ?? 0) + 1);
      expect(row).toMatchObject({ order_id: order.id, customer: order.customer, total: order.total, shipping_cost: shippingCostOf(order.total) });
      const history = row.history as { status: string; event_type: string }[];
      expect(history[0]).toMatchObject({ event_type: 'placed', status: 'placed' });
      expect(history[history.length - 1]!.status).toBe(row.status);
      if (row.status === 'shipped') expect(row.shipment).toEqual({ shipment_id: `sh-${order.id}`, shipping_cost: row.shipping_cost });
      else expect((row.reasons as unknown[]).length).toBeGreaterThan(0);
    });
    report(`final statuses: ${JSON.stringify(Object.fromEntries(byStatus))}`);
    // The groups decided by a race still split by their deterministic counts.
    const shippedOf = (kind: ExpectedOutcome['kind']) => load.orders.filter((o) => o.expected.kind === kind && finals.get(o.id)!.status === 'shipped').length;
    expect(shippedOf('scarce-group')).toBe(MIX.scarceUnits);
    expect(shippedOf('spend-group')).toBe(MIX.spendCustomers * Math.floor(FRAUD_LIMIT / MIX.spendAmount));
  }, 200_000);

  it('answers 409 ORDER_EXISTS (problem+json) to a duplicate POST of a placed order, with the same body or another', async () => {
    const order = load.orders.find((o) => o.expected.kind === 'shipped')!;
    for (const body of [order.wire, { ...order.wire, customer: `${run}-someone-else` }]) {
      const again = await postOrder(base, body);
      expect(again.status).toBe(409);
      expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(again.body).toMatchObject({ status: 409, code: 'ORDER_EXISTS', detail: expect.stringContaining(order.id) });
    }
    // Nothing changed: the view still has the first body's row.
    expect((await call(`${base}/orders/${order.id}`)).body).toMatchObject({ customer: order.customer, status: 'shipped' });
  });

  it('applies a status update published to orders.status before its order, once the order arrives over POST', async () => {
    const id = `${run}-early`;
    const update = ioTsLifecycleEventCodecs().statusUpdated.encode({
      event_id: statusUpdateIdOf(id, 'cancelled'),
      event_type: 'status-updated',
      order_id: id,
      occurred_at: new Date().toISOString(),
      schema_version: SCHEMA_VERSION,
      status: 'cancelled',
      reason: 'The customer changed their mind',
    });
    const publisher = new KafkaMessageBus({ brokers: stack.kafkaBrokers.split(','), clientId: `${run}-cart` });
    try {
      await publisher.publish(topics.ordersStatus, [{ key: update.key, value: update.value }]);
    } finally {
      await publisher.close();
    }
    // Held by the view, in the database, while the order is unknown.
    const held = async () => (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM order_view_held WHERE order_id = $1 AND expired IS NULL', [id])).rows[0]!.n;
    await eventually(async () => (await held()) === 1, () => `the early update to be held\n${problems()}`, 60_000);
    expect((await call(`${base}/orders/${id}`)).status).toBe(404);

    const placed = await postOrder(base, aWireOrder({ id, customer: `${run}-early-customer`, total: 42 }));
    expect(placed.status).toBe(201);
    const answer = await waitFor(base, id, 'cancelled', 60_000);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'cancelled', reasons: [{ code: 'STATUS.CANCELLED', message: 'The customer changed their mind' }] });
    expect((answer.body.history as { event_type: string }[]).map((entry) => entry.event_type).slice(0, 2)).toEqual(['placed', 'status-updated']);
    expect(await held()).toBe(0);
  });

  it(`with the broker frozen (SIGSTOP), POST answers 503 with Retry-After within the send timeout, nothing half-written; once it resumes, the same requests succeed`, async () => {
    const pid = brokerPid(stack);
    const frozenBase = frozenApi.address.url;
    // The instance's producer connected and the topic's metadata known: the freeze is the only thing that can stall it.
    const warm = aWireOrder({ id: `${run}-warm`, customer: `${run}-warm-customer`, total: 10 });
    expect((await postOrder(frozenBase, warm)).status).toBe(201);
    expect((await waitFor(frozenBase, warm.id as string, 'shipped', 60_000)).body.status).toBe('shipped');

    const requests = Array.from({ length: 4 }, (_, i) => ({
      body: aWireOrder({ id: `${run}-frozen-${i}`, customer: `${run}-frozen-customer-${i}`, total: 20 + i }),
      key: i === 0 ? `${run}-key-0` : undefined,
    }));
    const idOf = (request: (typeof requests)[number]) => request.body.id as string;
    const expect503 = (answer: Answer, what: string) => {
      expect({ what, status: answer.status, code: answer.body.code }).toEqual({ what, status: 503, code: 'BROKER_UNAVAILABLE' });
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(answer.ms).toBeLessThanOrEqual(FROZEN_SEND_TIMEOUT_MS + MARGIN_503_MS);
    };

    let frozenMs: number;
    const frozenAt = performance.now();
    process.kill(pid, 'SIGSTOP');
    try {
      const first = await Promise.all(requests.map((r) => postOrder(frozenBase, r.body, r.key)));
      first.forEach((answer, i) => expect503(answer, `first POST of ${idOf(requests[i]!)}`));
      report(`503s while frozen: ${first.map((a) => Math.round(a.ms)).join(', ')} ms (send timeout ${FROZEN_SEND_TIMEOUT_MS} ms)`);

      // Nothing half-written: no order in the view, and the id is neither free for another body …
      for (const r of requests) expect((await call(`${frozenBase}/orders/${idOf(r)}`)).status).toBe(404);
      const other = await postOrder(frozenBase, { ...requests[1]!.body, total: 99 });
      expect({ status: other.status, code: other.body.code }).toEqual({ status: 409, code: 'ORDER_EXISTS' });
      // … nor does its claim (or the unrecorded 503 under the key) block a retry of the same request: another 503, not a 409.
      const retried = await Promise.all([requests[0]!, requests[2]!].map((r) => postOrder(frozenBase, r.body, r.key)));
      retried.forEach((answer, i) => expect503(answer, `retry of ${idOf([requests[0]!, requests[2]!][i]!)} while frozen`));
    } finally {
      process.kill(pid, 'SIGCONT');
      frozenMs = performance.now() - frozenAt;
    }
    report(`broker frozen for ${Math.round(frozenMs)} ms`);
    // What this test proves is a stall the broker survives as it is; a longer one would be a restart (above).
    expect(frozenMs).toBeLessThan(BROKER_SESSION_TIMEOUT_MS - 1_000);

    const resumedAt = performance.now();
    await eventually(async () => (await call(`${frozenBase}/readyz`)).status === 200, async () => `the API to be ready again: ${JSON.stringify((await call(`${frozenBase}/readyz`)).body)}`, 60_000);
    const readyMs = performance.now() - resumedAt;
    // The same requests, as a client would send them again: after Retry-After while still 503 (bounded).
    // Two at once; two (one with the key) only once the view shows the order: the resumed broker
    // appended what sat in its socket, so the retry finds its own order there, and must hear 201.
    const late = new Set([requests[0]!, requests[3]!]);
    const attempts: number[] = [];
    const again = await Promise.all(
      requests.map(async (r) => {
        if (late.has(r)) await eventually(async () => (await call(`${frozenBase}/orders/${idOf(r)}`)).status === 200, () => `the broker's late append of ${idOf(r)} to reach the view`, 60_000);
        for (let attempt = 1; ; attempt++) {
          const answer = await postOrder(frozenBase, r.body, r.key);
          if (answer.status !== 503 || attempt === 10) return (attempts.push(attempt), answer);
          await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after') ?? '1') * 1000));
        }
      }),
    );
    const placedMs = performance.now() - resumedAt;
    again.forEach((answer, i) => {
      const id = idOf(requests[i]!);
      expect({ id, status: answer.status, body: answer.body }).toEqual({ id, status: 201, body: { order_id: id, location: `/orders/${id}` } });
      expect(answer.headers.get('location')).toBe(`/orders/${id}`);
    });
    // The key now has its final answer: the same request again gets it, not a new placement.
    const replayed = await postOrder(frozenBase, requests[0]!.body, requests[0]!.key);
    expect({ status: replayed.status, body: replayed.body }).toEqual({ status: 201, body: { order_id: idOf(requests[0]!), location: `/orders/${idOf(requests[0]!)}` } });

    for (const r of requests) {
      const final = await waitFor(frozenBase, idOf(r), 'shipped', 60_000);
      expect({ id: idOf(r), status: final.status, order: final.body.status }).toEqual({ id: idOf(r), status: 200, order: 'shipped' });
      // One placement in the history, however many records of the order the broker kept.
      expect((final.body.history as { event_type: string }[]).filter((entry) => entry.event_type === 'placed')).toHaveLength(1);
    }
    report(
      `after SIGCONT: /readyz 200 in ${Math.round(readyMs)} ms, the same requests 201 in ${Math.round(placedMs)} ms (attempts ${attempts.join(', ')}), shipped ${Math.round(performance.now() - resumedAt)} ms after resuming`,
    );
  }, 150_000);

  it('PUT /orders/{id}/status: delivered on a shipped order is 202 and GET ?wait=delivered answers delivered; a forbidden move is 409', async () => {
    const shipped = load.orders.find((o) => finals.get(o.id)?.status === 'shipped')!;
    const put = (id: string, status: OrderStatus) =>
      call(`${base}/orders/${encodeURIComponent(id)}/status`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
    const accepted = await put(shipped.id, 'delivered');
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ order_id: shipped.id, status: 'delivered', event_id: statusUpdateIdOf(shipped.id, 'delivered') });
    const delivered = await waitFor(base, shipped.id, 'delivered', 30_000);
    expect(delivered.body).toMatchObject({ status: 'delivered' });
    expect((delivered.body.history as { status: string }[]).at(-1)!.status).toBe('delivered');

    const rejected = load.orders.find((o) => finals.get(o.id)?.status === 'rejected')!;
    const forbidden = await put(rejected.id, 'delivered');
    expect(forbidden.status).toBe(409);
    expect(forbidden.body).toMatchObject({ code: 'STATUS_TRANSITION_FORBIDDEN', detail: `Order ${rejected.id} is rejected: it cannot move to delivered` });
  });
});
