import { eventIdOf } from '../../../domain/lifecycle/event-id';
import { factsOf, InventoryReserved, occurredAtOf, orderLinesOf, SCHEMA_VERSION } from '../../../domain/lifecycle/events';
import { picklistFor, shipmentFor } from '../../../domain/lifecycle/fulfillment';
import { LifecycleTopics } from '../lifecycle-topics';
import { emit, Emission, EventStage, MessageContext, StageOutcome } from '../stage';
import { LifecycleEventCodecs } from './event-codecs';
import { outputsOf, typedOutput } from './stage-parts';

/** The warehouse's pickers when none are configured. */
export const DEFAULT_PICKERS: readonly string[] = ['picker-1', 'picker-2', 'picker-3'];

export interface FulfillmentStageDeps {
  readonly topics: LifecycleTopics;
  readonly codecs: LifecycleEventCodecs;
  /** Who picklists are assigned to; the order id chooses one, so a redelivery assigns the same. */
  readonly pickers?: readonly string[];
}

/**
 * Fulfillment: a reserved order becomes a picklist for the warehouse (only when it has lines: a
 * seed-shaped order has nothing to pick, adr/0014) and a shipment at 2 % of its total. Pure: no
 * side effects, every output derived from the input.
 */
export const fulfillmentStage = ({ topics, codecs, pickers = DEFAULT_PICKERS }: FulfillmentStageDeps): EventStage<InventoryReserved> => {
  if (pickers.length === 0) throw new RangeError('The fulfillment stage needs at least one picker to assign picklists to');
  const picklists = typedOutput('picklists', topics.picklistsCreated, codecs.picklistCreated);
  const shipments = typedOutput('shipments', topics.shipmentsCreated, codecs.shipmentCreated);

  const handle = (order: InventoryReserved, context: MessageContext): StageOutcome => {
    const common = { order_id: order.order_id, occurred_at: occurredAtOf(order.occurred_at, context.timestamp), schema_version: SCHEMA_VERSION } as const;
    const emissions: Emission[] = [];
    if (order.items !== undefined && order.items.length > 0) {
      const picklist = picklistFor(order.order_id, orderLinesOf(order.items), pickers);
      emissions.push(
        picklists.emit({
          event_id: eventIdOf(order.order_id, 'picklist-created'),
          event_type: 'picklist-created',
          ...common,
          picklist_id: picklist.picklistId,
          items: picklist.items.map((item) => ({ sku: item.sku, quantity: item.quantity })),
          assigned_picker: picklist.assignedPicker,
        }),
      );
    }
    const shipment = shipmentFor(order.order_id, order.total, order.shipping_address);
    emissions.push(
      shipments.emit({
        event_id: eventIdOf(order.order_id, 'shipment-created'),
        event_type: 'shipment-created',
        ...common,
        ...factsOf(order),
        shipment_id: shipment.shipmentId,
        shipping_cost: shipment.shippingCost,
        ...(shipment.shippingAddress === undefined ? {} : { shipping_address: shipment.shippingAddress }),
      }),
    );
    return emit(...emissions);
  };

  return {
    kind: 'event',
    name: 'fulfillment',
    inputs: [{ topic: topics.inventoryReserved, codec: codecs.inventoryReserved }],
    outputs: outputsOf(picklists, shipments),
    ordering: 'concurrent',
    exactlyOnce: true,
    handle,
  };
};
