/** What a customer is told, and about which order. */
export interface CustomerMessage {
  readonly customer: string;
  readonly orderId: string;
  readonly message: string;
}

/** The events a customer hears about, with what the message needs of each. */
export type Notifiable =
  | { readonly kind: 'rejected'; readonly customer: string; readonly orderId: string; readonly reasons: readonly { readonly message: string }[] }
  | { readonly kind: 'payment-failed'; readonly customer: string; readonly orderId: string; readonly reason: string }
  | {
      readonly kind: 'inventory-insufficient';
      readonly customer: string;
      readonly orderId: string;
      readonly skus: readonly string[];
      readonly refunded: boolean;
    }
  | {
      readonly kind: 'shipment-created';
      readonly customer: string;
      readonly orderId: string;
      readonly shipmentId: string;
      readonly shippingCost: number;
      readonly currency: string;
    };

/** One rendered message per event; plain text, as a mail or SMS gateway downstream takes it. */
export const render = (event: Notifiable): CustomerMessage => ({
  customer: event.customer,
  orderId: event.orderId,
  message: textOf(event),
});

const textOf = (event: Notifiable): string => {
  switch (event.kind) {
    case 'rejected':
      return `We could not accept your order ${event.orderId}: ${event.reasons.map((reason) => reason.message).join('; ')}.`;
    case 'payment-failed':
      return `The payment for your order ${event.orderId} did not go through: ${event.reason}. Nothing was charged.`;
    case 'inventory-insufficient':
      return (
        `Sorry, part of your order ${event.orderId} is out of stock (${event.skus.join(', ')}), so it was cancelled.` +
        (event.refunded ? ' Your payment has been refunded.' : '')
      );
    case 'shipment-created':
      return `Your order ${event.orderId} is on its way: shipment ${event.shipmentId}, shipping ${event.shippingCost.toFixed(2)} ${event.currency}.`;
  }
};
