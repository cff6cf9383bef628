import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createPinoLogger, PinoLogger } from '../../../../src/adapters/pino/pino-logger';
import { statusUpdateIdOf } from '../../../../src/domain/lifecycle/event-id';
import { aPaymentProcessed, anOrderPlaced, anOrderValidated, aWireOrder, anOrderRejected } from '../../../support/builders';
import { anOrderApi, OrderApiFixture, TOPICS } from '../../../support/order-api';

const expectProblem = (res: LightMyRequestResponse, status: number, code: string): Record<string, unknown> => {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:orderflow:problem:/), title: expect.any(String), detail: expect.any(String) });
  return body;
};

const json = (payload: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

describe('FastifyOrderApi', () => {
  let f: OrderApiFixture;
  const inject = (options: InjectOptions) => f.api.app.inject(options);
  const place = async (orderId: string, total = 100) => {
    await f.view.apply(anOrderPlaced({ order_id: orderId, total, customer: 'C-1' }), TOPICS.ordersByCustomer);
  };

  beforeEach(async () => {
    f = await anOrderApi();
  });
  afterEach(async () => {
    await f.api.close();
  });

  describe('POST /orders', () => {
    it('answers 201 with Location once the broker acknowledged the order, and publishes it to the orders topic keyed by its id', async () => {
      const res = await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-201' })) });
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe('/orders/o-201');
      expect(res.json()).toEqual({ order_id: 'o-201', location: '/orders/o-201' });
      const records = f.memory.records(TOPICS.orders);
      expect(records).toHaveLength(1);
      expect(records[0]!.key?.toString()).toBe('o-201');
      expect(JSON.parse(records[0]!.value!.toString())).toMatchObject({ id: 'o-201', customer: 'C-9', total: 149.99, channel: 'web' });
    });

    it('generates the id when the body names none', async () => {
      const { id: _none, ...order } = aWireOrder();
      const res = await inject({ method: 'POST', url: '/orders', ...json(order) });
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe('/orders/gen-1');
    });

    it('answers 400 naming each invalid field, in the decoder words', async () => {
      const res = await inject({ method: 'POST', url: '/orders', ...json({ id: 'o-1', customer: 7, total: 'abc', channel: null }) });
      const problem = expectProblem(res, 400, 'ORDER_INVALID');
      expect((problem.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['channel', 'customer', 'total']);
      expect(problem.detail).toContain('Expecting number at total but instead got: "abc"');
      expect(f.memory.records(TOPICS.orders)).toHaveLength(0);
    });

    it('answers 400 for a body that is not JSON, as the consumer would dead-letter it', async () => {
      const res = await inject({ method: 'POST', url: '/orders', headers: { 'content-type': 'application/json' }, payload: '{"id":' });
      expect(expectProblem(res, 400, 'ORDER_INVALID').detail).toMatch(/^MESSAGE\.INVALID_JSON/);
    });

    it('answers 409 when the id is in the view, or already published', async () => {
      await place('o-in-view');
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-in-view' })) }), 409, 'ORDER_EXISTS');
      expect((await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-twice' })) })).statusCode).toBe(201);
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-twice' })) }), 409, 'ORDER_EXISTS');
      expect(f.memory.records(TOPICS.orders)).toHaveLength(1);
    });

    it('answers 409 to a second request while the first is in flight', async () => {
      f.bus.freeze();
      const first = inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-race' })) });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-race' })) }), 409, 'ORDER_EXISTS');
      f.bus.thaw();
      expect((await first).statusCode).toBe(201);
    });

    it('answers 413 over the body limit, and 415 for another media type', async () => {
      const small = await anOrderApi({ bodyLimit: 100 });
      try {
        expectProblem(await small.api.app.inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ customer: 'x'.repeat(200) })) }), 413, 'BODY_TOO_LARGE');
      } finally {
        await small.api.close();
      }
      expectProblem(await inject({ method: 'POST', url: '/orders', headers: { 'content-type': 'text/plain' }, payload: 'hello' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 503 with Retry-After when the broker does not acknowledge in time, and nothing is half-written', async () => {
      f.bus.freeze();
      const started = Date.now();
      const res = await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-frozen' })) });
      expect(Date.now() - started).toBeLessThan(2_000);
      expectProblem(res, 503, 'BROKER_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      // Not free (a different order would take an id the broker may still write) …
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-frozen', total: 1 })) }), 409, 'ORDER_EXISTS');
      // … and not published: the same body again, once the broker is back, is placed (a duplicate record, harmless).
      f.bus.thaw();
      const retry = await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-frozen' })) });
      expect(retry.statusCode).toBe(201);
      expect(f.memory.records(TOPICS.orders).map((r) => r.key?.toString())).toEqual(['o-frozen', 'o-frozen']);
    });

    it('answers 201 to the retry of a 503 once the view shows the order the broker appended late, without publishing it again', async () => {
      f.bus.freeze();
      const order = aWireOrder({ id: 'o-late', customer: 'C-1', total: 100 });
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(order) }), 503, 'BROKER_UNAVAILABLE');
      // The broker resumes and appends the record it held; the stages carry it to the view before the client retries.
      f.bus.thaw();
      await new Promise((resolve) => setImmediate(resolve));
      await place('o-late');
      const retry = await inject({ method: 'POST', url: '/orders', ...json(order) });
      expect(retry.statusCode).toBe(201);
      expect(retry.headers.location).toBe('/orders/o-late');
      expect(f.memory.records(TOPICS.orders)).toHaveLength(1);
      // Placed now: the same body again is a duplicate, another body someone else's.
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(order) }), 409, 'ORDER_EXISTS');
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json({ ...order, total: 5 }) }), 409, 'ORDER_EXISTS');
    });

    it('answers 503 when the broker refuses the record, with the id uncertain as after a timeout', async () => {
      f.bus.refuse = new Error('NOT_ENOUGH_REPLICAS');
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-refused' })) }), 503, 'BROKER_UNAVAILABLE');
      f.bus.refuse = undefined;
      expectProblem(await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-refused', total: 2 })) }), 409, 'ORDER_EXISTS');
      expect((await inject({ method: 'POST', url: '/orders', ...json(aWireOrder({ id: 'o-refused' })) })).statusCode).toBe(201);
    });
  });

  describe('Idempotency-Key', () => {
    const withKey = (key: string, payload: unknown) => ({ method: 'POST' as const, url: '/orders', headers: { 'content-type': 'application/json', 'idempotency-key': key }, payload: JSON.stringify(payload) });

    it('answers a retry with the same key and body with the first answer, and publishes once', async () => {
      const { id: _none, ...order } = aWireOrder();
      const first = await inject(withKey('k-1', order));
      const again = await inject(withKey('k-1', order));
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(again.headers.location).toBe(first.headers.location);
      expect(f.memory.records(TOPICS.orders)).toHaveLength(1);
    });

    it('answers a final 4xx again too', async () => {
      const bad = { id: 'o-k', customer: 'C', total: -1, channel: 'web' };
      expectProblem(await inject(withKey('k-bad', bad)), 400, 'ORDER_INVALID');
      expectProblem(await inject(withKey('k-bad', bad)), 400, 'ORDER_INVALID');
    });

    it('answers 422 IDEMPOTENCY_KEY_REUSED for a different body under the same key', async () => {
      await inject(withKey('k-2', aWireOrder({ id: 'o-a' })));
      expectProblem(await inject(withKey('k-2', aWireOrder({ id: 'o-b' }))), 422, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('never replays a 503: the retry after the broker is back is placed', async () => {
      f.bus.freeze();
      const order = aWireOrder({ id: 'o-k503' });
      expectProblem(await inject(withKey('k-3', order)), 503, 'BROKER_UNAVAILABLE');
      f.bus.thaw();
      const retry = await inject(withKey('k-3', order));
      expect(retry.statusCode).toBe(201);
      expect((await inject(withKey('k-3', order))).statusCode).toBe(201);
    });

    it('answers the retry of a 503 with 201 when the view shows the order by then, and replays that', async () => {
      f.bus.freeze();
      const order = aWireOrder({ id: 'o-k-late' });
      expectProblem(await inject(withKey('k-late', order)), 503, 'BROKER_UNAVAILABLE');
      f.bus.thaw();
      await new Promise((resolve) => setImmediate(resolve));
      await place('o-k-late');
      expect((await inject(withKey('k-late', order))).statusCode).toBe(201);
      expect((await inject(withKey('k-late', order))).headers.location).toBe('/orders/o-k-late');
      expect(f.memory.records(TOPICS.orders)).toHaveLength(1);
    });

    it('answers 409 IDEMPOTENCY_KEY_IN_PROGRESS while the first request with the key runs', async () => {
      f.bus.freeze();
      const first = inject(withKey('k-4', aWireOrder({ id: 'o-k4' })));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await inject(withKey('k-4', aWireOrder({ id: 'o-k4' })));
      expectProblem(second, 409, 'IDEMPOTENCY_KEY_IN_PROGRESS');
      expect(second.headers['retry-after']).toBe('1');
      f.bus.thaw();
      expect((await first).statusCode).toBe(201);
    });
  });

  describe('PUT /orders/{id}/status', () => {
    it('answers 202 and publishes OrderStatusUpdated with its deterministic id to orders.status', async () => {
      await place('o-cancel');
      const res = await inject({ method: 'PUT', url: '/orders/o-cancel/status', ...json({ status: 'cancelled', reason: 'changed my mind' }) });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ order_id: 'o-cancel', status: 'cancelled', event_id: statusUpdateIdOf('o-cancel', 'cancelled') });
      const [record] = f.memory.records(TOPICS.ordersStatus);
      expect(JSON.parse(record!.value!.toString())).toMatchObject({ event_type: 'status-updated', order_id: 'o-cancel', status: 'cancelled', reason: 'changed my mind' });
    });

    it('answers 404 for an unknown order, 409 for a move the status machine forbids', async () => {
      expectProblem(await inject({ method: 'PUT', url: '/orders/o-none/status', ...json({ status: 'cancelled' }) }), 404, 'ORDER_NOT_FOUND');
      await place('o-placed');
      const problem = expectProblem(await inject({ method: 'PUT', url: '/orders/o-placed/status', ...json({ status: 'delivered' }) }), 409, 'STATUS_TRANSITION_FORBIDDEN');
      expect(problem.detail).toBe('Order o-placed is placed: it cannot move to delivered');
      expect(f.memory.records(TOPICS.ordersStatus)).toHaveLength(0);
    });

    it('answers 400 naming an unknown status, and for a body that is not JSON', async () => {
      await place('o-bad');
      const problem = expectProblem(await inject({ method: 'PUT', url: '/orders/o-bad/status', ...json({ status: 'confirmed' }) }), 400, 'REQUEST_INVALID');
      expect(problem.errors).toEqual([expect.objectContaining({ field: 'body.status' })]);
      expectProblem(await inject({ method: 'PUT', url: '/orders/o-bad/status', headers: { 'content-type': 'application/json' }, payload: '{' }), 400, 'BODY_INVALID_JSON');
    });

    it('answers 503 with Retry-After when the broker does not acknowledge in time', async () => {
      await place('o-slow');
      f.bus.freeze();
      const res = await inject({ method: 'PUT', url: '/orders/o-slow/status', ...json({ status: 'cancelled' }) });
      expectProblem(res, 503, 'BROKER_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      f.bus.thaw();
    });
  });

  describe('GET /orders/{id}', () => {
    it('answers 200 with the row and shipping_cost (2 % of the total), or 404', async () => {
      await place('o-get', 250);
      const res = await inject({ method: 'GET', url: '/orders/o-get' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ order_id: 'o-get', status: 'placed', total: 250, shipping_cost: 5, customer: 'C-1', history: [expect.objectContaining({ status: 'placed' })] });
      expectProblem(await inject({ method: 'GET', url: '/orders/o-none' }), 404, 'ORDER_NOT_FOUND');
      expectProblem(await inject({ method: 'GET', url: '/orders/a..b' }), 400, 'REQUEST_INVALID');
    });

    it('?wait= answers once the order reaches the status, also when the order arrives after the request', async () => {
      const waiting = inject({ method: 'GET', url: '/orders/o-wait?wait=paid&timeout=5000' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(f.waiters.size).toBe(1);
      await place('o-wait');
      await f.view.apply(anOrderValidated({ order_id: 'o-wait' }), TOPICS.ordersValidated);
      await f.view.apply(aPaymentProcessed({ order_id: 'o-wait' }), TOPICS.paymentsProcessed);
      const res = await waiting;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ order_id: 'o-wait', status: 'paid' });
      expect(f.waiters.size).toBe(0);
    });

    it('?wait= answers at once for a terminal status, whichever was asked', async () => {
      await place('o-rejected');
      await f.view.apply(anOrderRejected({ order_id: 'o-rejected' }), TOPICS.ordersRejected);
      const res = await inject({ method: 'GET', url: '/orders/o-rejected?wait=delivered&timeout=5000' });
      expect(res.json()).toMatchObject({ status: 'rejected' });
    });

    it('?wait= answers 504 after the timeout (404 when the order never appeared), and frees the waiter', async () => {
      await place('o-stuck');
      const problem = expectProblem(await inject({ method: 'GET', url: '/orders/o-stuck?wait=delivered&timeout=50' }), 504, 'WAIT_TIMEOUT');
      expect(problem.detail).toBe('Order o-stuck is placed after 50 ms, not delivered');
      expectProblem(await inject({ method: 'GET', url: '/orders/o-never?wait=delivered&timeout=50' }), 404, 'ORDER_NOT_FOUND');
      expect(f.waiters.size).toBe(0);
    });

    it('answers 503 WAITERS_FULL past ORDERFLOW_API_MAX_WAITERS, and takes waiters again once one is freed', async () => {
      const small = await anOrderApi({ maxWaiters: 2 });
      try {
        const waiting = [1, 2].map(() => small.api.app.inject({ method: 'GET', url: '/orders/o-x?wait=paid&timeout=150' }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const full = await small.api.app.inject({ method: 'GET', url: '/orders/o-x?wait=paid&timeout=150' });
        expectProblem(full, 503, 'WAITERS_FULL');
        expect(full.headers['retry-after']).toBe('1');
        await Promise.all(waiting);
        expect(small.waiters.size).toBe(0);
        expectProblem(await small.api.app.inject({ method: 'GET', url: '/orders/o-x?wait=paid&timeout=10' }), 404, 'ORDER_NOT_FOUND');
      } finally {
        await small.api.close();
      }
    });

    it('frees a waiter when its client disconnects', async () => {
      const { port } = await f.api.listen(0, '127.0.0.1');
      const req = httpRequest({ host: '127.0.0.1', port, path: '/orders/o-gone?wait=delivered&timeout=60000' });
      req.on('error', () => undefined);
      req.end();
      await waitFor(() => f.waiters.size === 1);
      req.destroy();
      await waitFor(() => f.waiters.size === 0);
      expect(f.waiters.size).toBe(0);
    });

    it('answers waiters 503 SHUTTING_DOWN on close', async () => {
      const waiting = inject({ method: 'GET', url: '/orders/o-down?wait=delivered&timeout=60000' });
      await waitFor(() => f.waiters.size === 1);
      f.waiters.close();
      expectProblem(await waiting, 503, 'SHUTTING_DOWN');
    });
  });

  describe('GET /orders', () => {
    it('pages through the orders with a cursor, filtered by status and customer', async () => {
      for (const id of ['l-1', 'l-2', 'l-3']) await place(id);
      await f.view.apply(anOrderPlaced({ order_id: 'l-other', customer: 'C-2' }), TOPICS.ordersByCustomer);
      const first = await inject({ method: 'GET', url: '/orders?customer=C-1&limit=2' });
      expect(first.statusCode).toBe(200);
      const page = first.json<{ orders: { order_id: string }[]; next_cursor: string }>();
      expect(page.orders.map((o) => o.order_id)).toEqual(['l-1', 'l-2']);
      const second = (await inject({ method: 'GET', url: `/orders?customer=C-1&limit=2&cursor=${encodeURIComponent(page.next_cursor)}` })).json<{ orders: { order_id: string }[]; next_cursor?: string }>();
      expect(second.orders.map((o) => o.order_id)).toEqual(['l-3']);
      expect(second.next_cursor).toBeUndefined();
      expect((await inject({ method: 'GET', url: '/orders?status=placed' })).json<{ orders: unknown[] }>().orders).toHaveLength(4);
    });

    it('answers 400 for a limit over 500, an unknown status, or a cursor it did not make', async () => {
      expect(expectProblem(await inject({ method: 'GET', url: '/orders?limit=501' }), 400, 'REQUEST_INVALID').errors).toEqual([expect.objectContaining({ field: 'querystring.limit' })]);
      expectProblem(await inject({ method: 'GET', url: '/orders?status=lost' }), 400, 'REQUEST_INVALID');
      expectProblem(await inject({ method: 'GET', url: '/orders?cursor=nonsense' }), 400, 'CURSOR_INVALID');
    });
  });

  describe('the cart and order services routes (aliases)', () => {
    it('POST /create-order places an order and answers in the cart service words', async () => {
      const res = await inject({ method: 'POST', url: '/create-order', ...json(aWireOrder({ id: 'ORD-123' })) });
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe('/orders/ORD-123');
      expect(res.json()).toEqual({ message: 'order created and published successfully', orderId: 'ORD-123' });
      expectProblem(await inject({ method: 'POST', url: '/create-order', ...json(aWireOrder({ id: 'ORD-123' })) }), 409, 'ORDER_EXISTS');
    });

    it('PUT /update-order sets a status', async () => {
      await place('ORD-7');
      const res = await inject({ method: 'PUT', url: '/update-order', ...json({ order_id: 'ORD-7', status: 'cancelled' }) });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ message: 'order status updated and published successfully', orderId: 'ORD-7' });
      expectProblem(await inject({ method: 'PUT', url: '/update-order', ...json({ order_id: 'ORD-8', status: 'cancelled' }) }), 404, 'ORDER_NOT_FOUND');
      expectProblem(await inject({ method: 'PUT', url: '/update-order', ...json({ status: 'cancelled' }) }), 400, 'REQUEST_INVALID');
    });

    it('GET /order-details answers the order with its shippingCost', async () => {
      await place('ORD-9', 150);
      const res = await inject({ method: 'GET', url: '/order-details?orderId=ORD-9' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ order: { orderId: 'ORD-9', customerId: 'C-1', totalAmount: 150, currency: 'EUR', status: 'placed' }, shippingCost: 3 });
      expectProblem(await inject({ method: 'GET', url: '/order-details?orderId=ORD-0' }), 404, 'ORDER_NOT_FOUND');
      expectProblem(await inject({ method: 'GET', url: '/order-details' }), 400, 'REQUEST_INVALID');
    });

    it('GET /getAllOrderIdsFromTopic lists every order id of the orders topic', async () => {
      for (const id of ['a-1', 'a-2']) await place(id);
      const res = await inject({ method: 'GET', url: `/getAllOrderIdsFromTopic?topicName=${TOPICS.orders}` });
      expect(res.json()).toEqual({ topicName: TOPICS.orders, orderIds: ['a-1', 'a-2'] });
      expectProblem(await inject({ method: 'GET', url: '/getAllOrderIdsFromTopic?topicName=orders.events' }), 404, 'TOPIC_UNKNOWN');
    });
  });

  describe('operations', () => {
    it('serves /healthz, /readyz (503 when a check fails) and /metrics with requests by route and status', async () => {
      expect((await inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      expect((await inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const failing = await anOrderApi({ readinessChecks: [{ name: 'kafka', check: async () => Promise.reject(new Error('broker unreachable')) }] });
      try {
        const res = await failing.api.app.inject({ method: 'GET', url: '/readyz' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ status: 'not ready', checks: [{ name: 'kafka', ready: false, error: 'broker unreachable' }] });
      } finally {
        await failing.api.close();
      }
      await inject({ method: 'GET', url: '/orders/o-none' });
      const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('orderflow_http_requests_total{route="/orders/:id",method="GET",status="404"} 1');
      expect(metrics).toContain('orderflow_http_request_duration_seconds_bucket');
    });

    it('answers an unknown route with a 404 problem', async () => {
      expectProblem(await inject({ method: 'GET', url: '/nowhere?x=1' }), 404, 'ROUTE_NOT_FOUND');
      expectProblem(await inject({ method: 'DELETE', url: '/orders/o-1' }), 404, 'ROUTE_NOT_FOUND');
    });

    it('answers 500 when a use case throws, and keeps the cause in the log only', async () => {
      const broken = await anOrderApi();
      jest.spyOn(broken.view, 'get').mockRejectedValue(new Error('connection to 10.0.0.5 refused'));
      try {
        const problem = expectProblem(await broken.api.app.inject({ method: 'GET', url: '/orders/o-1' }), 500, 'INTERNAL');
        expect(JSON.stringify(problem)).not.toContain('10.0.0.5');
        expect(JSON.stringify(broken.logger.lines)).toContain('10.0.0.5');
      } finally {
        await broken.api.close();
      }
    });
  });

  describe('auth', () => {
    const TOKEN = 'tok-s3cr3t-value';
    let secured: OrderApiFixture;
    let logged: string;

    beforeEach(async () => {
      logged = '';
      const sink = new Writable({ write: (chunk, _encoding, done) => ((logged += String(chunk)), done()) });
      secured = await anOrderApi({ tokens: ['other-token', TOKEN], logger: new PinoLogger(createPinoLogger('debug', sink)) });
    });
    afterEach(async () => {
      await secured.api.close();
    });

    it('answers 401 with WWW-Authenticate without a token or with a wrong one', async () => {
      const none = await secured.api.app.inject({ method: 'GET', url: '/orders' });
      expectProblem(none, 401, 'UNAUTHORIZED');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="orderflow"');
      const wrong = await secured.api.app.inject({ method: 'POST', url: '/orders', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, payload: '{}' });
      expectProblem(wrong, 401, 'UNAUTHORIZED');
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="orderflow", error="invalid_token"');
      expectProblem(await secured.api.app.inject({ method: 'GET', url: '/metrics' }), 401, 'UNAUTHORIZED');
      expect(secured.memory.records(TOPICS.orders)).toHaveLength(0);
    });

    it('lets every token of the list in, and health, readiness and the docs without one', async () => {
      for (const token of ['other-token', TOKEN]) {
        expect((await secured.api.app.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      }
      for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/']) expect((await secured.api.app.inject({ method: 'GET', url })).statusCode).toBe(200);
    });

    it('never logs a token, accepted or refused', async () => {
      await secured.api.app.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${TOKEN}` } });
      await secured.api.app.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${TOKEN}x` } });
      await secured.api.app.inject({ method: 'GET', url: `/orders?cursor=${TOKEN}`, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(logged).toContain('"status":401');
      expect(logged).not.toContain(TOKEN);
      // And the logger itself redacts an authorization header, should one ever be handed to it.
      new PinoLogger(createPinoLogger('info', new Writable({ write: (chunk, _e, done) => ((logged += String(chunk)), done()) }))).info(
        { req: { headers: { authorization: `Bearer ${TOKEN}` } }, headers: { authorization: TOKEN } },
        'a request',
      );
      expect(logged).toContain('[redacted]');
      expect(logged).not.toContain(TOKEN);
    });
  });
});

const waitFor = async (condition: () => boolean, timeoutMs = 2_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
