import { ChargeOutcome, RefundOutcome } from '../../application/ports/payment-gateway.port';

export interface ChargeRecord {
  readonly orderId: string;
  readonly customer: string;
  /** What the charge was asked for; a decline records it too. */
  readonly amount: number;
  readonly currency: string;
  readonly outcome: ChargeOutcome;
}

/**
 * The simulated gateway's memory of what it answered, one entry per order id: what makes its
 * charges and refunds idempotent. In memory or in PostgreSQL; both pass
 * tests/contract/payment-ledger.contract.ts.
 */
export interface PaymentLedger {
  /** The recorded outcome of the order's charge, if it has one. */
  findCharge(orderId: string): Promise<ChargeOutcome | undefined>;
  /**
   * Records a charge's outcome unless the order has one already, and resolves to the recorded
   * one: the first record wins, also against a concurrent call for the same order.
   */
  recordCharge(record: ChargeRecord): Promise<ChargeOutcome>;
  /**
   * Refunds a charged order, once: the first refund is recorded with `refundId` and every later
   * call answers it. An order with no charge, or a declined one, is `not_charged` (and stays
   * refundable should it be charged later).
   */
  recordRefund(orderId: string, refundId: string): Promise<RefundOutcome>;
}
