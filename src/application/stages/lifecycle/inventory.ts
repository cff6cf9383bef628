import { eventIdOf } from '../../../domain/lifecycle/event-id';
import { deliverableOf, factsOf, occurredAtOf, PaymentProcessed, SCHEMA_VERSION } from '../../../domain/lifecycle/events';
import { rejection } from '../../../domain/rejection';
import { InventoryPort, StockLine } from '../../ports/inventory.port';
import { PaymentGatewayPort } from '../../ports/payment-gateway.port';
import { LifecycleTopics } from '../lifecycle-topics';
import { emit, Emission, EventStage, MessageContext, rejectInput, StageOutcome } from '../stage';
import { LifecycleEventCodecs } from './event-codecs';
import { outputsOf, typedOutput } from './stage-parts';

export interface InventoryStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
  /** All or nothing, idempotent by order id: a redelivered order never reserves twice. */
  readonly inventory: InventoryPort;
  /** For the refund of an order that cannot be reserved; idempotent by order id too. */
  readonly gateway: PaymentGatewayPort;
}

/**
 * Inventory: reserves every line of a paid order or none. A seed-shaped order (no lines)
 * reserves nothing, successfully (adr/0014), and goes on to be shipped. An order the stock
 * cannot cover is refunded: inventory.insufficient tells the customer, payments.refunded the
 * accounts. Both side effects are idempotent by order id, so a redelivery repeats their first
 * outcomes and the same events; a store or gateway outage throws (transient, retried).
 */
export const inventoryStage = ({ topics, codecs, inventory, gateway }: InventoryStageDeps): EventStage<PaymentProcessed> => {
  const reserved = typedOutput('reserved', topics.inventoryReserved, codecs.inventoryReserved);
  const insufficient = typedOutput('insufficient', topics.inventoryInsufficient, codecs.inventoryInsufficient);
  const refunded = typedOutput('refunded', topics.paymentsRefunded, codecs.paymentRefunded);

  const handle = async (paid: PaymentProcessed, context: MessageContext): Promise<StageOutcome> => {
    const lines: StockLine[] = (paid.items ?? []).map((line) => ({ sku: line.sku, quantity: line.quantity }));
    // The inventory refuses such a line with a RangeError, which would look transient and be
    // retried for ever; validation never emits one, so the event is not of our making.
    const bad = lines.findIndex((line) => !Number.isSafeInteger(line.quantity) || line.quantity < 1);
    if (bad >= 0) {
      return rejectInput(
        rejection(
          'EVENT.INVALID_QUANTITY',
          'reserve',
          `Line ${bad} (${lines[bad]!.sku}) of order ${paid.order_id}: quantity ${lines[bad]!.quantity} is not a whole number >= 1 and < 2^53; validation lets no such line through`,
        ),
      );
    }
    const outcome = await inventory.reserve({ orderId: paid.order_id, lines });
    const common = { order_id: paid.order_id, occurred_at: occurredAtOf(paid.occurred_at, context.timestamp), schema_version: SCHEMA_VERSION } as const;
    if (outcome.status === 'reserved') {
      return emit(
        reserved.emit({
          event_id: eventIdOf(paid.order_id, 'inventory-reserved'),
          event_type: 'inventory-reserved',
          ...common,
          ...factsOf(paid),
          payment_id: paid.payment_id,
          reserved: outcome.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
          ...deliverableOf(paid),
        }),
      );
    }
    const refund = await gateway.refund(paid.order_id);
    const emissions: Emission[] = [
      insufficient.emit({
        event_id: eventIdOf(paid.order_id, 'inventory-insufficient'),
        event_type: 'inventory-insufficient',
        ...common,
        ...factsOf(paid),
        shortages: outcome.shortages.map((shortage) => ({ sku: shortage.sku, requested: shortage.requested, available: shortage.available })),
        refunded: refund.status === 'refunded',
      }),
    ];
    // not_charged: the gateway has no charge of this order (it cannot be, after payments.processed,
    // unless its ledger was lost); there is nothing to give back and nothing to announce.
    if (refund.status === 'refunded') {
      emissions.push(
        refunded.emit({
          event_id: eventIdOf(paid.order_id, 'payment-refunded'),
          event_type: 'payment-refunded',
          ...common,
          customer: paid.customer,
          total: paid.total,
          currency: refund.currency,
          refund_id: refund.refundId,
          amount: refund.amount,
        }),
      );
    }
    return emit(...emissions);
  };

  return {
    kind: 'event',
    name: 'inventory',
    inputs: [{ topic: topics.paymentsProcessed, codec: codecs.paymentProcessed }],
    outputs: outputsOf(reserved, insufficient, refunded),
    // Two orders for the same SKU may be reserved at once: the inventory serialises them itself.
    ordering: 'concurrent',
    exactlyOnce: true,
    handle,
  };
};
