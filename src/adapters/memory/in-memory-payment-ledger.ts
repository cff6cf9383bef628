import { ChargeOutcome, RefundOutcome } from '../../application/ports/payment-gateway.port';
import { ChargeRecord, PaymentLedger } from '../payment/payment-ledger';

/**
 * The payment ledger in memory, for the embedded demo and the unit tests. Every method runs to
 * completion without awaiting, so the check and the record of each call are atomic.
 */
export class InMemoryPaymentLedger implements PaymentLedger {
  private readonly charges = new Map<string, ChargeOutcome>();
  private readonly refunds = new Map<string, RefundOutcome>();

  async findCharge(orderId: string): Promise<ChargeOutcome | undefined> {
    return this.charges.get(orderId);
  }

  async recordCharge(record: ChargeRecord): Promise<ChargeOutcome> {
    const first = this.charges.get(record.orderId);
    if (first !== undefined) return first;
    this.charges.set(record.orderId, record.outcome);
    return record.outcome;
  }

  async recordRefund(orderId: string, refundId: string): Promise<RefundOutcome> {
    const done = this.refunds.get(orderId);
    if (done !== undefined) return done;
    const charge = this.charges.get(orderId);
    if (charge?.status !== 'charged') return { status: 'not_charged' };
    const refund: RefundOutcome = { status: 'refunded', refundId, amount: charge.amount, currency: charge.currency };
    this.refunds.set(orderId, refund);
    return refund;
  }
}
