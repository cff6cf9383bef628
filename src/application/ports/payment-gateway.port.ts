export interface ChargeRequest {
  /** The idempotency key: an order is charged at most once, however often it is asked. */
  readonly orderId: string;
  readonly customer: string;
  /** In the currency's major unit (149.99), as orders carry it. */
  readonly amount: number;
  readonly currency: string;
}

export type ChargeOutcome =
  | { readonly status: 'charged'; readonly paymentId: string; readonly amount: number; readonly currency: string }
  | { readonly status: 'declined'; readonly code: string; readonly reason: string };

export type RefundOutcome =
  | { readonly status: 'refunded'; readonly refundId: string; readonly amount: number; readonly currency: string }
  /** Nothing to give back: the order was never charged, or its charge was declined. */
  | { readonly status: 'not_charged' };

/**
 * The payment provider as the payment stage needs it.
 *
 * Both calls are idempotent by order id, as real gateways are by idempotency key: the first
 * charge of an order decides, and asking again (a redelivery, a restart after a crash, two
 * members racing during a rebalance) returns that first outcome without charging again. A
 * decline is an answer, not a failure. A rejected promise is a transient failure (the gateway
 * timed out or is down): nothing was charged, and the caller retries.
 */
export interface PaymentGatewayPort {
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  refund(orderId: string): Promise<RefundOutcome>;
}
