import { BatchSettled, subscriptionHandlerOf, TrackedDeliveryBatch } from '../src/application/delivery/tracked-delivery-batch';
import {
  ConsumedThrough,
  DeliveryBatch,
  InboundMessage,
  MessageBusPort,
  OutboundMessage,
  Subscription,
  SubscriptionOptions,
  TopicMessages,
} from '../src/application/ports/message-bus.port';
import { epochMs } from './ack-latency';
import { notifyParent } from './child';

/**
 * The bus as the service sees it, counting what passes: when the first message was delivered,
 * how many were acked and when the last was. An ack is what the sinks give once the archive
 * write (or, batched, the object) has succeeded, so it is the "archive ack" of the scenarios.
 * A batch handler's batches are wrapped whole (one TrackedDeliveryBatch each, which settles as
 * the bus's own do), so metering adds nothing per message but the count and `onAck`.
 */
export class MeteredMessageBus implements MessageBusPort {
  acked = 0;
  firstDeliveryAt: number | undefined;
  lastAckAt = 0;
  cpuAtFirstDelivery: NodeJS.CpuUsage | undefined;

  /**
   * `onAck` is called per acked message, with the epoch ms at which the bus handed it (or its
   * batch) to the service; absent, acks are only counted.
   */
  constructor(
    readonly inner: MessageBusPort,
    private readonly onAck: ((message: InboundMessage, deliveredAt: number) => void) | undefined,
  ) {}

  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    return this.inner.publish(topic, messages);
  }

  publishTransactionally(consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void> {
    return this.inner.publishTransactionally(consumed, outputs);
  }

  subscribe(options: SubscriptionOptions): Promise<Subscription> {
    const target = subscriptionHandlerOf(options);
    if (target.kind === 'batch') {
      const batchHandler = target.handler;
      return this.inner.subscribe({
        ...options,
        batchHandler: (batch) => {
          this.delivered();
          const deliveredAt = this.onAck === undefined ? 0 : epochMs();
          const settled: BatchSettled<DeliveryBatch> = (metered, first, last, nackReason) => this.batchSettled(metered, first, last, nackReason, deliveredAt);
          return batchHandler(new TrackedDeliveryBatch(batch.topic, batch.partition, batch.generation, batch.messages, batch, settled));
        },
      });
    }
    const handler = target.handler;
    return this.inner.subscribe({
      ...options,
      handler: (delivery) => {
        this.delivered();
        const deliveredAt = this.onAck === undefined ? 0 : epochMs();
        return handler({
          message: delivery.message,
          generation: delivery.generation,
          ack: () => {
            this.acked++;
            this.lastAckAt = performance.now();
            this.onAck?.(delivery.message, deliveredAt);
            delivery.ack();
          },
          nack: (reason) => delivery.nack(reason),
        });
      },
    });
  }

  private delivered(): void {
    if (this.firstDeliveryAt !== undefined) return;
    this.firstDeliveryAt = performance.now();
    this.cpuAtFirstDelivery = process.cpuUsage();
    notifyParent('first-delivery');
  }

  /** The handler settled part of a wrapped batch: meter the acked range, then pass the settlement on. */
  private batchSettled(metered: TrackedDeliveryBatch<DeliveryBatch>, first: number, last: number, nackReason: Error | undefined, deliveredAt: number): void {
    const inner = metered.context;
    if (nackReason !== undefined) return inner.nack(first, nackReason);
    this.acked += last - first + 1;
    this.lastAckAt = performance.now();
    if (this.onAck !== undefined) for (let index = first; index <= last; index++) this.onAck(metered.messages[index]!, deliveredAt);
    inner.ackThrough(last);
  }
}
