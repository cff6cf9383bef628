import { FastifyOrderApi, FastifyOrderApiOptions } from '../../src/adapters/fastify/fastify-order-api';
import { ioTsLifecycleEventCodecs } from '../../src/adapters/io-ts/lifecycle-event-codec';
import { IoTsOrderCodec } from '../../src/adapters/io-ts/io-ts-order-codec';
import { InMemoryIdempotencyRecords, InMemoryOrderIdClaims } from '../../src/adapters/memory/in-memory-api-requests';
import { InMemoryMessageBus } from '../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderView } from '../../src/adapters/memory/in-memory-order-view';
import { PrometheusMetrics } from '../../src/adapters/prometheus/prometheus-metrics';
import { OrderWaiters } from '../../src/application/api/order-waiters';
import { PlaceOrder } from '../../src/application/api/place-order';
import { SetOrderStatus } from '../../src/application/api/set-order-status';
import { ReadinessCheck } from '../../src/application/ports/lifecycle.port';
import { LoggerPort } from '../../src/application/ports/logger.port';
import { MessageBusPort, OutboundMessage, SubscriptionOptions } from '../../src/application/ports/message-bus.port';
import { lifecycleTopics } from '../../src/application/stages/lifecycle-topics';
import { LoggerSpy } from './logger-spy';

/**
 * The in-memory bus, with a switch that freezes publishing as a SIGSTOPped broker does: a publish
 * made while frozen settles only when thawed (and is appended then, as a frozen broker still
 * appends what sits in its socket), or fails when `refuse` is set.
 */
export class FreezableBus implements MessageBusPort {
  private frozen: Array<() => void> | undefined;
  refuse: Error | undefined;

  constructor(readonly inner: InMemoryMessageBus) {}

  freeze(): void {
    this.frozen ??= [];
  }

  thaw(): void {
    const waiting = this.frozen ?? [];
    this.frozen = undefined;
    for (const release of waiting) release();
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (this.refuse !== undefined) throw this.refuse;
    if (this.frozen !== undefined) await new Promise<void>((resolve) => this.frozen!.push(resolve));
    await this.inner.publish(topic, messages);
  }

  subscribe(options: SubscriptionOptions) {
    return this.inner.subscribe(options);
  }

  publishTransactionally(...args: Parameters<MessageBusPort['publishTransactionally']>) {
    return this.inner.publishTransactionally(...args);
  }
}

export const TOPICS = lifecycleTopics({ ordersTopic: 'orders.v1' });

export interface OrderApiFixture {
  readonly api: FastifyOrderApi;
  readonly bus: FreezableBus;
  readonly memory: InMemoryMessageBus;
  readonly view: InMemoryOrderView;
  readonly waiters: OrderWaiters;
  readonly logger: LoggerSpy;
  readonly metrics: PrometheusMetrics;
  readonly claims: InMemoryOrderIdClaims;
}

export interface OrderApiFixtureOptions extends FastifyOrderApiOptions {
  readonly sendTimeoutMs?: number;
  readonly maxWaiters?: number;
  readonly readinessChecks?: readonly ReadinessCheck[];
  readonly logger?: LoggerPort;
  readonly newId?: () => string;
}

/** The whole API on the in-memory adapters, as `orderflow api` wires it on the embedded default. */
export const anOrderApi = async (options: OrderApiFixtureOptions = {}): Promise<OrderApiFixture> => {
  const spy = new LoggerSpy();
  const logger = options.logger ?? spy;
  const memory = new InMemoryMessageBus();
  const bus = new FreezableBus(memory);
  const view = new InMemoryOrderView();
  const codec = new IoTsOrderCodec();
  const clock = { now: () => Date.now() };
  const claims = new InMemoryOrderIdClaims();
  const metrics = new PrometheusMetrics({ logger, throughput: () => 0 });
  const sendTimeoutMs = options.sendTimeoutMs ?? 200;
  let ids = 0;
  const placeOrder = new PlaceOrder(
    { decoder: codec, encoder: codec, bus, view, claims, idempotency: new InMemoryIdempotencyRecords(), clock, logger, newId: options.newId ?? (() => `gen-${++ids}`) },
    { ordersTopic: TOPICS.orders, sendTimeoutMs },
  );
  const setOrderStatus = new SetOrderStatus({ bus, view, encoder: ioTsLifecycleEventCodecs().statusUpdated, clock }, { statusTopic: TOPICS.ordersStatus, sendTimeoutMs });
  const waiters = new OrderWaiters(view, options.maxWaiters ?? 1000);
  const api = new FastifyOrderApi(
    { placeOrder, setOrderStatus, view, waiters, readiness: options.readinessChecks ?? [], metrics, logger, ordersTopic: TOPICS.orders },
    options,
  );
  await api.build();
  return { api, bus, memory, view, waiters, logger: spy, metrics, claims };
};
