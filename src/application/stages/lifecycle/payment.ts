import { eventIdOf } from '../../../domain/lifecycle/event-id';
import { deliverableOf, factsOf, occurredAtOf, OrderValidated, SCHEMA_VERSION } from '../../../domain/lifecycle/events';
import { PaymentGatewayPort } from '../../ports/payment-gateway.port';
import { LifecycleTopics } from '../lifecycle-topics';
import { emit, EventStage, MessageContext, StageOutcome } from '../stage';
import { LifecycleEventCodecs } from './event-codecs';
import { outputsOf, typedOutput } from './stage-parts';

export interface PaymentStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
  /** Idempotent by order id: a redelivered order gets its first outcome and is not charged again. */
  readonly gateway: PaymentGatewayPort;
}

/**
 * Payment: charges a validated order its total. A decline is an answer (payments.failed, with the
 * gateway's code and reason); a gateway that times out or is down throws, which the runner holds
 * and retries (a transient failure, never a dead letter).
 */
export const paymentStage = ({ topics, codecs, gateway }: PaymentStageDeps): EventStage<OrderValidated> => {
  const processed = typedOutput('processed', topics.paymentsProcessed, codecs.paymentProcessed);
  const failed = typedOutput('failed', topics.paymentsFailed, codecs.paymentFailed);

  const handle = async (order: OrderValidated, context: MessageContext): Promise<StageOutcome> => {
    const outcome = await gateway.charge({ orderId: order.order_id, customer: order.customer, amount: order.total, currency: order.currency });
    const common = { order_id: order.order_id, occurred_at: occurredAtOf(order.occurred_at, context.timestamp), schema_version: SCHEMA_VERSION } as const;
    if (outcome.status === 'declined') {
      return emit(
        failed.emit({
          event_id: eventIdOf(order.order_id, 'payment-failed'),
          event_type: 'payment-failed',
          ...common,
          ...factsOf(order),
          code: outcome.code,
          reason: outcome.reason,
        }),
      );
    }
    return emit(
      processed.emit({
        event_id: eventIdOf(order.order_id, 'payment-processed'),
        event_type: 'payment-processed',
        ...common,
        ...factsOf(order),
        payment_id: outcome.paymentId,
        ...deliverableOf(order),
      }),
    );
  };

  return {
    kind: 'event',
    name: 'payment',
    inputs: [{ topic: topics.ordersValidated, codec: codecs.validated }],
    outputs: outputsOf(processed, failed),
    // Orders are independent and the gateway is idempotent by order id: nothing to keep in order.
    ordering: 'concurrent',
    exactlyOnce: true,
    handle,
  };
};
