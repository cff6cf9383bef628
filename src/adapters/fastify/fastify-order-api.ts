import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import type swagger from '@fastify/swagger';
import type swaggerUi from '@fastify/swagger-ui';
import type Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OrderWaiters } from '../../application/api/order-waiters';
import { PlaceOrder } from '../../application/api/place-order';
import { SetOrderStatus } from '../../application/api/set-order-status';
import { MAX_LIST_LIMIT } from '../../application/order-view';
import { HttpMetricsPort } from '../../application/ports/http-metrics.port';
import { ReadinessCheck } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { OrderView, OrderViewQueries } from '../../application/ports/order-view.port';
import { ReadinessRounds } from '../../application/readiness-rounds';
import { OrderStatus } from '../../domain/lifecycle/order-status';
import { MetricsSource } from '../http/http-status-server';
import { ORDER_BODY, ORDER_ID, ORDER_RESOURCE, PROBLEM, STATUS, STATUS_BODY, UPDATE_ORDER_BODY } from './order-api-schemas';

export interface FastifyOrderApiDeps {
  readonly placeOrder: Pick<PlaceOrder, 'execute'>;
  readonly setOrderStatus: Pick<SetOrderStatus, 'execute'>;
  readonly view: Pick<OrderViewQueries, 'get' | 'list'>;
  readonly waiters: OrderWaiters;
  readonly readiness: readonly ReadinessCheck[];
  readonly metrics: MetricsSource & HttpMetricsPort;
  readonly logger: LoggerPort;
  /** ORDERS_TOPIC: the one topic GET /getAllOrderIdsFromTopic knows. */
  readonly ordersTopic: string;
}

export interface FastifyOrderApiOptions {
  /** ORDERFLOW_API_TOKENS: when any, every route but health and docs needs `Authorization: Bearer <one of them>`. */
  readonly tokens?: readonly string[];
  /** Largest request body; ORDERFLOW_MAX_MESSAGE_BYTES, as an order on the topic may be no larger. */
  readonly bodyLimit?: number;
  /** GET ?wait= without timeout waits this long; default 30 000 ms. */
  readonly defaultWaitMs?: number;
  /** The longest `timeout` a waiter may ask for; default 300 000 ms. */
  readonly maxWaitMs?: number;
  /** Seconds a 503 asks the client to wait (Retry-After); default 1. */
  readonly retryAfterSeconds?: number;
  // Bounds of the server, as the status server has them (adr/0015).
  readonly maxConnections?: number;
  readonly maxRequestsPerSocket?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly connectionsCheckingIntervalMs?: number;
  readonly readinessTimeoutMs?: number;
  readonly readinessCacheMs?: number;
}

/** Routes anyone may call, tokens or not: probes and the documentation. */
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/openapi.json']);
const isPublic = (url: string | undefined): boolean => url !== undefined && (PUBLIC_ROUTES.has(url) || url === '/docs' || url.startsWith('/docs/'));

/** Every stable code an answer of the API carries, with its title. */
const PROBLEMS = {
  ORDER_INVALID: 'The order is invalid',
  REQUEST_INVALID: 'The request is invalid',
  BODY_INVALID_JSON: 'The body is not valid JSON',
  BODY_TOO_LARGE: 'The body is too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  ORDER_EXISTS: 'An order with this id exists',
  ORDER_NOT_FOUND: 'No such order',
  STATUS_TRANSITION_FORBIDDEN: 'The status machine forbids this move',
  CURSOR_INVALID: 'The cursor is invalid',
  TOPIC_UNKNOWN: 'No such topic',
  IDEMPOTENCY_KEY_REUSED: 'The Idempotency-Key was used for another request',
  IDEMPOTENCY_KEY_IN_PROGRESS: 'The first request with this Idempotency-Key is still being answered',
  BROKER_UNAVAILABLE: 'The broker did not acknowledge in time',
  WAITERS_FULL: 'Too many requests are waiting',
  WAIT_TIMEOUT: 'The order did not reach the status in time',
  SHUTTING_DOWN: 'The server is shutting down',
  UNAUTHORIZED: 'Authentication required',
  ROUTE_NOT_FOUND: 'No such route',
  INTERNAL: 'Internal server error',
} as const;
export type ProblemCode = keyof typeof PROBLEMS;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

interface Problem {
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
}

const sendProblem = (reply: FastifyReply, { status, code, detail, errors }: Problem): FastifyReply =>
  reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `urn:orderflow:problem:${code.toLowerCase().replace(/_/g, '-')}`, title: PROBLEMS[code], status, detail, code, ...(errors === undefined ? {} : { errors }) });

/** Every error answer's schema, by status: what the OpenAPI document lists for a route. */
const problems = (...statuses: number[]): Record<number, unknown> =>
  Object.fromEntries(statuses.map((status) => [status, { description: 'Problem details', content: { 'application/problem+json': { schema: PROBLEM } } }]));

const json = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });

const AUTH_PROBLEMS = [401];
const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The order API over fastify (adr/0019): routes, JSON Schemas (validation and /openapi.json),
 * problem+json errors with stable codes, bearer tokens, and the bounds of the status server. The
 * use cases do the work; a route translates a request into their params and their result into an
 * answer, and nothing else.
 *
 * Built with `build()` for fastify's inject (the route tests), or `listen()` for a real port.
 */
export class FastifyOrderApi {
  readonly app: FastifyInstance;
  private readonly readiness: ReadinessRounds;
  private readonly tokenHashes: readonly Buffer[];
  private readonly defaultWaitMs: number;
  private readonly maxWaitMs: number;
  private readonly retryAfter: string;
  private ready: Promise<void> | undefined;
  private readonly routes: { method: string; url: string; documented: boolean }[] = [];

  constructor(
    private readonly deps: FastifyOrderApiDeps,
    options: FastifyOrderApiOptions = {},
  ) {
    // ReadinessRounds defaults what is undefined.
    this.readiness = new ReadinessRounds(deps.readiness, { timeoutMs: options.readinessTimeoutMs, cacheMs: options.readinessCacheMs });
    this.tokenHashes = (options.tokens ?? []).map(sha256);
    this.defaultWaitMs = options.defaultWaitMs ?? 30_000;
    this.maxWaitMs = options.maxWaitMs ?? 300_000;
    this.retryAfter = String(options.retryAfterSeconds ?? 1);
    // fastify and its plugins are loaded when an API is made, not at import: the composition root
    // imports this adapter in every command, and only `orderflow api` serves it (adr/0023).
    const fastify = require('fastify') as typeof Fastify;
    this.app = fastify({
      logger: false,
      bodyLimit: options.bodyLimit ?? 1024 * 1024,
      // The routes are documented as they are: no implicit HEAD twins that /openapi.json would not list.
      exposeHeadRoutes: false,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      // The bounds of the status server (adr/0015), on the server fastify is given.
      serverFactory: (handler) => {
        const server: Server = createServer(
          {
            headersTimeout: options.headersTimeoutMs ?? 10_000,
            requestTimeout: options.requestTimeoutMs ?? 15_000,
            keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
            connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 1_000,
          },
          handler,
        );
        server.maxConnections = options.maxConnections ?? 1_024;
        server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 1_000;
        return server;
      },
    });
  }

  /** Every route registered, and whether /openapi.json documents it (the docs' own routes are hidden): the OpenAPI test's list. */
  get registeredRoutes(): readonly { readonly method: string; readonly url: string; readonly documented: boolean }[] {
    return this.routes;
  }

  /** Registers everything; idempotent. inject() and listen() call it. */
  build(): Promise<void> {
    this.ready ??= this.register();
    return this.ready;
  }

  /** Starts listening; resolves with the bound address (`http://host:port`), the port being the useful part when `port` is 0. */
  async listen(port: number, host = '0.0.0.0'): Promise<{ readonly url: string; readonly port: number }> {
    await this.build();
    await this.app.listen({ port, host });
    const address = this.app.server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { url: `http://${shown}:${address.port}`, port: address.port };
  }

  /** Answers every waiter (503 SHUTTING_DOWN), refuses new requests (503), lets the others finish, closes. */
  async close(): Promise<void> {
    this.deps.waiters.close();
    await this.app.close();
  }

  private async register(): Promise<void> {
    const { app } = this;
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) this.routes.push({ method, url: route.url, documented: (route.schema as { hide?: boolean } | undefined)?.hide !== true });
    });
    await app.register(require('@fastify/swagger') as typeof swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'orderflow order API', version: '1', description: 'Place orders, set their status, read and list them, and wait for a status (adr/0019).' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        ...(this.tokenHashes.length > 0 ? { security: [{ bearer: [] }] } : {}),
      },
    });
    await app.register(require('@fastify/swagger-ui') as typeof swaggerUi, { routePrefix: '/docs' });

    // The response schemas document; answers are serialised as they are, so a schema that lags the
    // code can never silently drop a field (the route tests check answers against the schemas).
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));
    app.setErrorHandler((error: FastifyError, request, reply) => this.failed(error, request, reply));
    app.setNotFoundHandler((request, reply) => sendProblem(reply, { status: 404, code: 'ROUTE_NOT_FOUND', detail: `No route ${request.method} ${pathOf(request.url)}` }));
    app.addHook('onRequest', async (request, reply) => {
      if (this.tokenHashes.length === 0 || isPublic(request.routeOptions.url)) return;
      const given = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
      // Every token is compared, whichever matches: the time taken says nothing about which, or how close.
      const presented = sha256(given ?? '');
      const known = this.tokenHashes.reduce((match, hash) => timingSafeEqual(hash, presented) || match, false);
      if (given !== undefined && known) return;
      reply.header('WWW-Authenticate', given === undefined ? 'Bearer realm="orderflow"' : 'Bearer realm="orderflow", error="invalid_token"');
      return sendProblem(reply, { status: 401, code: 'UNAUTHORIZED', detail: given === undefined ? 'Send Authorization: Bearer <token>' : 'The bearer token is not valid' });
    });
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.deps.metrics.httpRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
      // Never the headers (the token) nor the query: the route template, the method, the status.
      const fields = { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
      if (reply.statusCode >= 500) this.deps.logger.warn(fields, 'HTTP request failed');
      else this.deps.logger.debug(fields, 'HTTP request');
    });

    this.registerProbes();
    await app.register(async (orders) => this.registerPlacing(orders));
    this.registerStatus();
    this.registerReads();
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await app.ready();
  }

  private registerProbes(): void {
    const { app } = this;
    const tags = ['operations'];
    // Liveness answers without consulting anything (as the status server's).
    app.get('/healthz', { schema: { tags, summary: 'Liveness', response: { 200: json('Alive', { type: 'object', properties: { status: { type: 'string' } } }) } } }, async (_request, reply) =>
      reply.header('Cache-Control', 'no-store').send({ status: 'ok' }),
    );
    app.get('/readyz', { schema: { tags, summary: 'Readiness: every unit runs and every resource answers', response: { 200: json('Ready', { type: 'object' }), 503: json('Not ready', { type: 'object' }) } } }, async (_request, reply) => {
      const { ready, checks } = await this.readiness.report();
      return reply.code(ready ? 200 : 503).header('Cache-Control', 'no-store').send({ status: ready ? 'ready' : 'not ready', checks });
    });
    app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problems(...AUTH_PROBLEMS) } } }, async (_request, reply) =>
      reply.header('Cache-Control', 'no-store').type(this.deps.metrics.contentType).send(await this.deps.metrics.metrics()),
    );
  }

  /**
   * The two routes that take an order, in a scope of their own where a JSON body stays bytes:
   * the consumer's decoder parses it (strict UTF-8, JSON, an object, the schema), so the API
   * accepts exactly what the stages would. The body schema documents; it does not validate.
   */
  private registerPlacing(orders: FastifyInstance): void {
    // JSON only: fastify's text/plain parser would hand the decoder a string it was never meant to see.
    orders.removeAllContentTypeParsers();
    orders.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    const headers = {
      type: 'object',
      properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, description: 'Makes a retried POST return the first final answer (kept 24 h)' } },
    };
    const documentedOnly = { validatorCompiler: () => () => true };
    const errorsOfPlacing = problems(400, 409, 413, 415, 422, 503, ...AUTH_PROBLEMS);
    orders.post(
      '/orders',
      {
        ...documentedOnly,
        schema: {
          tags: ['orders'],
          summary: 'Place an order: 201 once the broker acknowledged it (acks=all)',
          headers,
          body: ORDER_BODY,
          response: { 201: json('Placed; Location: /orders/{id}', { type: 'object', required: ['order_id'], properties: { order_id: { type: 'string' }, location: { type: 'string' } } }), ...errorsOfPlacing },
        },
      },
      async (request, reply) => {
        const result = await this.place(request);
        if (result.kind !== 'placed') return this.notPlaced(reply, result);
        const location = `/orders/${encodeURIComponent(result.orderId)}`;
        return reply.code(201).header('Location', location).send({ order_id: result.orderId, location });
      },
    );
    orders.post(
      '/create-order',
      {
        ...documentedOnly,
        schema: {
          tags: ['aliases'],
          summary: "The cart service's POST /create-order (seed 002): POST /orders, answered in the cart service's words",
          headers,
          body: ORDER_BODY,
          response: {
            201: json('Placed', { type: 'object', required: ['message', 'orderId'], properties: { message: { type: 'string' }, orderId: { type: 'string' } } }),
            ...errorsOfPlacing,
          },
        },
      },
      async (request, reply) => {
        const result = await this.place(request);
        if (result.kind !== 'placed') return this.notPlaced(reply, result);
        return reply
          .code(201)
          .header('Location', `/orders/${encodeURIComponent(result.orderId)}`)
          .send({ message: 'order created and published successfully', orderId: result.orderId });
      },
    );
  }

  private place(request: FastifyRequest): Promise<PlaceOrder.Result> {
    const key = request.headers['idempotency-key'];
    const idempotencyKey = typeof key === 'string' ? key : undefined;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return this.deps.placeOrder.execute({ body, scope: this.scopeOf(request), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
  }

  private notPlaced(reply: FastifyReply, result: Exclude<PlaceOrder.Result, { kind: 'placed' }>): FastifyReply {
    switch (result.kind) {
      case 'invalid':
        return sendProblem(reply, { status: 400, code: 'ORDER_INVALID', detail: `${result.code}: ${result.message}`, errors: result.fields });
      case 'exists':
        return sendProblem(reply, { status: 409, code: 'ORDER_EXISTS', detail: `Order ${result.orderId} exists, or another request is placing it` });
      case 'unavailable':
        reply.header('Retry-After', this.retryAfter);
        return sendProblem(reply, { status: 503, code: 'BROKER_UNAVAILABLE', detail: `Order ${result.orderId} was not placed: ${result.reason}; retry the same request` });
      case 'key-reused':
        return sendProblem(reply, { status: 422, code: 'IDEMPOTENCY_KEY_REUSED', detail: 'This Idempotency-Key was sent with a different request; use a new key for a new order' });
      case 'key-in-progress':
        reply.header('Retry-After', this.retryAfter);
        return sendProblem(reply, { status: 409, code: 'IDEMPOTENCY_KEY_IN_PROGRESS', detail: 'The first request with this Idempotency-Key is still being answered; retry shortly' });
    }
  }

  private registerStatus(): void {
    const { app } = this;
    const errorsOfUpdating = problems(400, 404, 409, 415, 503, ...AUTH_PROBLEMS);
    app.put<{ Params: { id: string }; Body: { status: OrderStatus; reason?: string } }>(
      '/orders/:id/status',
      {
        schema: {
          tags: ['orders'],
          summary: "Set an order's status: published to orders.status, applied by the order view",
          params: { type: 'object', required: ['id'], properties: { id: ORDER_ID } },
          body: STATUS_BODY,
          response: {
            202: json('Published', { type: 'object', properties: { order_id: { type: 'string' }, status: STATUS, event_id: { type: 'string' } } }),
            ...errorsOfUpdating,
          },
        },
      },
      async (request, reply) => {
        const result = await this.setStatus(request.params.id, request.body.status, request.body.reason);
        if (result.kind !== 'accepted') return this.notAccepted(reply, result);
        return reply.code(202).send({ order_id: result.orderId, status: result.status, event_id: result.eventId });
      },
    );
    app.put<{ Body: { order_id: string; status: OrderStatus; reason?: string } }>(
      '/update-order',
      {
        schema: {
          tags: ['aliases'],
          summary: "The cart service's PUT /update-order (seed 002): PUT /orders/{id}/status",
          body: UPDATE_ORDER_BODY,
          response: {
            202: json('Published', { type: 'object', properties: { message: { type: 'string' }, orderId: { type: 'string' } } }),
            ...errorsOfUpdating,
          },
        },
      },
      async (request, reply) => {
        const result = await this.setStatus(request.body.order_id, request.body.status, request.body.reason);
        if (result.kind !== 'accepted') return this.notAccepted(reply, result);
        return reply.code(202).send({ message: 'order status updated and published successfully', orderId: result.orderId });
      },
    );
  }

  private setStatus(orderId: string, status: OrderStatus, reason: string | undefined): Promise<SetOrderStatus.Result> {
    return this.deps.setOrderStatus.execute({ orderId, status, ...(reason === undefined ? {} : { reason }) });
  }

  private notAccepted(reply: FastifyReply, result: Exclude<SetOrderStatus.Result, { kind: 'accepted' }>): FastifyReply {
    switch (result.kind) {
      case 'not-found':
        return sendProblem(reply, { status: 404, code: 'ORDER_NOT_FOUND', detail: `No order ${result.orderId} in the order view` });
      case 'forbidden':
        return sendProblem(reply, { status: 409, code: 'STATUS_TRANSITION_FORBIDDEN', detail: `Order ${result.orderId} is ${result.from}: it cannot move to ${result.to}` });
      case 'unavailable':
        reply.header('Retry-After', this.retryAfter);
        return sendProblem(reply, { status: 503, code: 'BROKER_UNAVAILABLE', detail: `The status of ${result.orderId} was not published: ${result.reason}; retry the same request` });
    }
  }

  private registerReads(): void {
    const { app } = this;
    const { view } = this.deps;
    app.get<{ Params: { id: string }; Querystring: { wait?: OrderStatus; timeout?: number } }>(
      '/orders/:id',
      {
        schema: {
          tags: ['orders'],
          summary: 'An order from the view, with its shipping cost; ?wait=<status> long-polls until it reaches that status or a terminal one',
          params: { type: 'object', required: ['id'], properties: { id: ORDER_ID } },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              wait: { ...STATUS, description: 'Answer once the order has reached this status (or a terminal one)' },
              timeout: { type: 'integer', minimum: 1, maximum: this.maxWaitMs, description: `How long to wait, ms (default ${this.defaultWaitMs})` },
            },
          },
          response: { 200: json('The order', ORDER_RESOURCE), ...problems(400, 404, 503, 504, ...AUTH_PROBLEMS) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { wait, timeout } = request.query;
        if (wait === undefined) {
          const found = await view.get(id);
          if (found === undefined) return sendProblem(reply, { status: 404, code: 'ORDER_NOT_FOUND', detail: `No order ${id} in the order view` });
          return reply.send(orderResource(found));
        }
        const timeoutMs = timeout ?? this.defaultWaitMs;
        // The client going away frees the waiter: the response closes before it was written.
        const gone = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableEnded) gone.abort();
        });
        const outcome = await this.deps.waiters.wait({ orderId: id, until: wait, timeoutMs, signal: gone.signal });
        switch (outcome.kind) {
          case 'reached':
            return reply.send(orderResource(outcome.view));
          case 'full':
            reply.header('Retry-After', this.retryAfter);
            return sendProblem(reply, { status: 503, code: 'WAITERS_FULL', detail: 'Too many requests are waiting for orders; retry shortly' });
          case 'aborted':
            // The client left (nothing to answer), or the server is shutting down.
            if (gone.signal.aborted) return reply;
            reply.header('Retry-After', this.retryAfter);
            return sendProblem(reply, { status: 503, code: 'SHUTTING_DOWN', detail: 'The server is shutting down; retry on another instance' });
          case 'timed-out':
            if (outcome.view === undefined) return sendProblem(reply, { status: 404, code: 'ORDER_NOT_FOUND', detail: `No order ${id} in the order view after waiting ${timeoutMs} ms` });
            return sendProblem(reply, { status: 504, code: 'WAIT_TIMEOUT', detail: `Order ${id} is ${outcome.view.status} after ${timeoutMs} ms, not ${wait}` });
        }
      },
    );
    app.get<{ Querystring: { status?: OrderStatus; customer?: string; limit?: number; cursor?: string } }>(
      '/orders',
      {
        schema: {
          tags: ['orders'],
          summary: 'A page of orders, in placement order, with the cursor of the next',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: STATUS,
              customer: { type: 'string', minLength: 1 },
              limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 50 },
              cursor: { type: 'string', minLength: 1, description: 'next_cursor of the previous page' },
            },
          },
          response: {
            200: json('A page', { type: 'object', required: ['orders'], properties: { orders: { type: 'array', items: ORDER_RESOURCE }, next_cursor: { type: 'string' } } }),
            ...problems(400, ...AUTH_PROBLEMS),
          },
        },
      },
      async (request, reply) => {
        const { status, customer, limit = 50, cursor } = request.query;
        let page;
        try {
          page = await view.list({ limit, ...(status === undefined ? {} : { status }), ...(customer === undefined ? {} : { customer }), ...(cursor === undefined ? {} : { cursor }) });
        } catch (error) {
          if (error instanceof RangeError && /cursor/i.test(error.message)) return sendProblem(reply, { status: 400, code: 'CURSOR_INVALID', detail: error.message });
          throw error;
        }
        return reply.send({ orders: page.orders.map(orderResource), ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }) });
      },
    );
    app.get<{ Querystring: { orderId: string } }>(
      '/order-details',
      {
        schema: {
          tags: ['aliases'],
          summary: "The order service's GET /order-details (seed 002): the order and its shippingCost",
          querystring: { type: 'object', required: ['orderId'], properties: { orderId: ORDER_ID } },
          response: {
            200: json('The order, in the order service\'s words', {
              type: 'object',
              properties: {
                order: {
                  type: 'object',
                  properties: {
                    orderId: { type: 'string' },
                    customerId: { type: 'string' },
                    orderDate: { type: 'string', format: 'date-time' },
                    items: { type: 'array', items: { type: 'object' } },
                    totalAmount: { type: 'number' },
                    currency: { type: 'string' },
                    status: STATUS,
                  },
                },
                shippingCost: { type: 'number' },
              },
            }),
            ...problems(400, 404, ...AUTH_PROBLEMS),
          },
        },
      },
      async (request, reply) => {
        const found = await view.get(request.query.orderId);
        if (found === undefined) return sendProblem(reply, { status: 404, code: 'ORDER_NOT_FOUND', detail: `No order ${request.query.orderId} in the order view` });
        return reply.send({
          order: {
            orderId: found.orderId,
            customerId: found.customer,
            orderDate: found.placedAt,
            items: (found.items ?? []).map(lineResource),
            totalAmount: found.total,
            currency: found.currency,
            status: found.status,
          },
          shippingCost: found.shippingCost,
        });
      },
    );
    app.get<{ Querystring: { topicName: string } }>(
      '/getAllOrderIdsFromTopic',
      {
        schema: {
          tags: ['aliases'],
          summary: "The order service's GET /getAllOrderIdsFromTopic (seed 002): every order id the view has seen from ORDERS_TOPIC",
          querystring: { type: 'object', required: ['topicName'], properties: { topicName: { type: 'string', minLength: 1 } } },
          response: {
            200: json('The ids, in placement order', { type: 'object', properties: { topicName: { type: 'string' }, orderIds: { type: 'array', items: { type: 'string' } } } }),
            ...problems(400, 404, ...AUTH_PROBLEMS),
          },
        },
      },
      async (request, reply) => {
        const { topicName } = request.query;
        if (topicName !== this.deps.ordersTopic) {
          return sendProblem(reply, { status: 404, code: 'TOPIC_UNKNOWN', detail: `The order view reads orders from ${this.deps.ordersTopic}, not ${topicName}` });
        }
        const orderIds: string[] = [];
        for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
          const page = await view.list({ limit: MAX_LIST_LIMIT, ...(cursor === undefined ? {} : { cursor }) });
          orderIds.push(...page.orders.map((order) => order.orderId));
          cursor = page.nextCursor;
        }
        return reply.send({ topicName, orderIds });
      },
    );
  }

  /** Who asks, for scoping Idempotency-Keys: a digest of the token, never the token. */
  private scopeOf(request: FastifyRequest): string {
    const given = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    return given === undefined || this.tokenHashes.length === 0 ? 'anonymous' : sha256(given).toString('hex').slice(0, 16);
  }

  /** fastify's own errors (validation, body parsing, limits) and anything a route threw, as problems. */
  private failed(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (error.validation !== undefined) {
      const errors = error.validation.map((issue) => {
        const missing = (issue.params as { missingProperty?: string } | undefined)?.missingProperty;
        const where = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const field = [error.validationContext, where, missing].filter((part) => part !== undefined && part !== '').join('.');
        return { field, message: issue.message ?? 'is invalid' };
      });
      return sendProblem(reply, { status: 400, code: 'REQUEST_INVALID', detail: errors.map((e) => `${e.field} ${e.message}`).join('; '), errors });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, { status: 413, code: 'BODY_TOO_LARGE', detail: `The body is larger than ${request.routeOptions.bodyLimit} bytes` });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: `Send the body as application/json, not ${request.headers['content-type'] ?? 'without a Content-Type'}` });
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, { status: 400, code: 'BODY_INVALID_JSON', detail: error.message });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      const code = error.statusCode === 413 ? 'BODY_TOO_LARGE' : error.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'REQUEST_INVALID';
      return sendProblem(reply, { status: error.statusCode === 413 || error.statusCode === 415 ? error.statusCode : 400, code, detail: error.message });
    }
    // The exception's text stays in the log: it may describe internals the caller has no business seeing.
    this.deps.logger.error({ method: request.method, route: request.routeOptions.url, err: `${error.name}: ${error.message}` }, 'HTTP request failed');
    return sendProblem(reply, { status: 500, code: 'INTERNAL', detail: 'The request failed; the server log has the cause' });
  }
}

const pathOf = (url: string): string => url.split('?', 1)[0] as string;

const lineResource = (line: { sku: string; quantity: number; unitPrice?: number }) => ({
  sku: line.sku,
  quantity: line.quantity,
  ...(line.unitPrice === undefined ? {} : { unit_price: line.unitPrice }),
});

/** The view's row in the wire's snake case, as ORDER_RESOURCE documents it. */
export const orderResource = (view: OrderView): Record<string, unknown> => ({
  order_id: view.orderId,
  status: view.status,
  customer: view.customer,
  channel: view.channel,
  total: view.total,
  currency: view.currency,
  risk_score: view.riskScore,
  high_risk: view.highRisk,
  shipping_cost: view.shippingCost,
  ...(view.items === undefined ? {} : { items: view.items.map(lineResource) }),
  ...(view.paymentId === undefined ? {} : { payment_id: view.paymentId }),
  ...(view.refundId === undefined ? {} : { refund_id: view.refundId }),
  ...(view.picklist === undefined
    ? {}
    : { picklist: { picklist_id: view.picklist.picklistId, items: view.picklist.items.map(lineResource), assigned_picker: view.picklist.assignedPicker } }),
  ...(view.shipment === undefined ? {} : { shipment: { shipment_id: view.shipment.shipmentId, shipping_cost: view.shipment.shippingCost } }),
  reasons: view.reasons.map((reason) => ({ code: reason.code, message: reason.message })),
  history: view.history.map((entry) => ({ event_id: entry.eventId, event_type: entry.eventType, status: entry.status, at: entry.at })),
  placed_at: view.placedAt,
  updated_at: view.updatedAt,
  version: view.version,
});
