import { DeliveryHandler, MessageBusPort, Subscription, SubscriptionOptions } from './ports/message-bus.port';

/** What a pipeline runs on its subscription: ProcessOrders (one object per order) or BatchedOrderSink. */
export interface OrderSink {
  readonly handle: DeliveryHandler;
  /** Shutdown began: stop retrying, and give back held messages so that the subscription can drain. */
  stop(): void;
  /** A rebalance is about to move the partitions: settle held messages (see SubscriptionOptions). */
  readonly onPartitionsRevoked?: () => void;
  /** A generation begins with these partitions, before its first delivery (see SubscriptionOptions). */
  readonly onPartitionsAssigned?: SubscriptionOptions['onPartitionsAssigned'];
}

export interface OrderPipelineOptions {
  readonly topic: string;
  readonly groupId: string;
  /** Delivered-but-unacked messages at most (or a function of the partitions assigned); bounds memory and concurrent archive writes. */
  readonly maxInFlight: SubscriptionOptions['maxInFlight'];
  /** Key and value bytes of delivered-but-unacked messages at most; absent: no byte bound. */
  readonly maxInFlightBytes?: number;
}

/**
 * Runs an order sink on a bus subscription. Further handlers (validation,
 * payment, shipment…) are further pipelines on the same bus, each with its own topic and group.
 */
export class OrderPipeline {
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: MessageBusPort,
    private readonly sink: OrderSink,
    private readonly options: OrderPipelineOptions,
  ) {}

  async start(): Promise<Subscription> {
    if (this.subscription !== undefined) throw new Error('The order pipeline is already running');
    this.subscription = await this.bus.subscribe({
      topic: this.options.topic,
      groupId: this.options.groupId,
      maxInFlight: this.options.maxInFlight,
      ...(this.options.maxInFlightBytes === undefined ? {} : { maxInFlightBytes: this.options.maxInFlightBytes }),
      handler: this.sink.handle,
      ...(this.sink.onPartitionsRevoked === undefined ? {} : { onPartitionsRevoked: this.sink.onPartitionsRevoked }),
      ...(this.sink.onPartitionsAssigned === undefined ? {} : { onPartitionsAssigned: this.sink.onPartitionsAssigned }),
    });
    return this.subscription;
  }

  /**
   * Drains in-flight work, commits and leaves the group. Writes that are failing stop retrying
   * at once: their messages stay uncommitted and are redelivered after the restart.
   */
  async stop(deadlineMs = 30_000): Promise<void> {
    const subscription = this.subscription;
    if (subscription === undefined) return;
    this.sink.stop();
    await subscription.stop({ deadlineMs });
  }
}
