import { ShippingAddress } from '../order';
import { shippingCostOf } from './money';
import { OrderLine, quantitiesBySku } from './order-lines';

export interface Picklist {
  readonly picklistId: string;
  readonly orderId: string;
  readonly items: readonly { readonly sku: string; readonly quantity: number }[];
  readonly assignedPicker: string;
}

export interface Shipment {
  readonly shipmentId: string;
  readonly orderId: string;
  readonly shippingCost: number;
  readonly shippingAddress?: ShippingAddress;
}

/**
 * The warehouse's picklist for a reserved order, as the grocery fulfillment system makes one:
 * the items to pick (one row per SKU) and the picker who picks them. Everything is derived from
 * the order, so a redelivered reservation makes the same picklist, picker included.
 */
export const picklistFor = (orderId: string, lines: readonly OrderLine[], pickers: readonly string[]): Picklist => {
  if (pickers.length === 0) throw new RangeError('A picklist needs at least one picker to assign');
  return {
    picklistId: `pl-${orderId}`,
    orderId,
    items: quantitiesBySku(lines),
    assignedPicker: pickers[fnv1a(orderId) % pickers.length]!,
  };
};

/** The shipment of an order: shipping costs 2 % of its total. */
export const shipmentFor = (orderId: string, total: number, shippingAddress?: ShippingAddress): Shipment => ({
  shipmentId: `sh-${orderId}`,
  orderId,
  shippingCost: shippingCostOf(total),
  ...(shippingAddress === undefined ? {} : { shippingAddress }),
});

/** FNV-1a, 32 bits: a stable spread of order ids over pickers (no crypto needed, no module imported). */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};
