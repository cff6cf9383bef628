import { notificationIdOf } from '../../../domain/lifecycle/event-id';
import { NotifiedEvent, occurredAtOf, SCHEMA_VERSION } from '../../../domain/lifecycle/events';
import { Notifiable, render } from '../../../domain/lifecycle/notifications';
import { LifecycleTopics } from '../lifecycle-topics';
import { emit, EventStage, MessageContext, StageOutcome } from '../stage';
import { LifecycleEventCodecs } from './event-codecs';
import { outputsOf, typedOutput } from './stage-parts';

export interface NotificationStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
}

/** What the message needs of each event the customer hears about. */
const notifiableOf = (event: NotifiedEvent): Notifiable => {
  const about = { customer: event.customer, orderId: event.order_id };
  switch (event.event_type) {
    case 'rejected':
      return { kind: 'rejected', ...about, reasons: event.reasons };
    case 'payment-failed':
      return { kind: 'payment-failed', ...about, reason: event.reason };
    case 'inventory-insufficient':
      return { kind: 'inventory-insufficient', ...about, skus: event.shortages.map((shortage) => shortage.sku), refunded: event.refunded };
    case 'shipment-created':
      return { kind: 'shipment-created', ...about, shipmentId: event.shipment_id, shippingCost: event.shipping_cost, currency: event.currency };
  }
};

/**
 * Notification: one rendered message per event a customer hears about (a rejection, a declined
 * payment, a shortage, a shipment), keyed by customer so that a customer's messages stay in the
 * order they were sent. Its id is the told event's id + `:notification`, so a redelivery is
 * recognised downstream (the gateway that sends mail drops an id it has sent).
 */
export const notificationStage = ({ topics, codecs }: NotificationStageDeps): EventStage<NotifiedEvent> => {
  const outbound = typedOutput('outbound', topics.notificationsOutbound, codecs.notification);

  const handle = (event: NotifiedEvent, context: MessageContext): StageOutcome => {
    const { customer, message } = render(notifiableOf(event));
    return emit(
      outbound.emit({
        event_id: notificationIdOf(event.order_id, event.event_type),
        event_type: 'notification',
        order_id: event.order_id,
        occurred_at: occurredAtOf(event.occurred_at, context.timestamp),
        schema_version: SCHEMA_VERSION,
        customer,
        about: event.event_type,
        about_event_id: event.event_id,
        message,
      }),
    );
  };

  return {
    kind: 'event',
    name: 'notification',
    inputs: [
      { topic: topics.ordersRejected, codec: codecs.rejected },
      { topic: topics.paymentsFailed, codec: codecs.paymentFailed },
      { topic: topics.inventoryInsufficient, codec: codecs.inventoryInsufficient },
      { topic: topics.shipmentsCreated, codec: codecs.shipmentCreated },
    ],
    outputs: outputsOf(outbound),
    ordering: 'concurrent',
    exactlyOnce: true,
    handle,
  };
};
