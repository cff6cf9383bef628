import { createHash } from 'node:crypto';
import {
  ChargeOutcome,
  ChargeRequest,
  PaymentGatewayPort,
  RefundOutcome,
} from '../../application/ports/payment-gateway.port';
import { PaymentLedger } from './payment-ledger';

export interface SimulatedPaymentSettings {
  /** Charges above this amount are declined (`PAYMENT.LIMIT_EXCEEDED`). */
  readonly limit: number;
  /** The share of calls, 0 to 1, that fail transiently (reject) before anything is recorded. */
  readonly transientFailureRate: number;
}

export const DEFAULT_PAYMENT_SETTINGS: SimulatedPaymentSettings = { limit: 5_000, transientFailureRate: 0 };

export const PAYMENT_DECLINE_CODES = {
  limitExceeded: 'PAYMENT.LIMIT_EXCEEDED',
  invalidAmount: 'PAYMENT.INVALID_AMOUNT',
} as const;

/** The simulated provider timed out: nothing was charged or refunded, the caller retries. */
export class TransientPaymentError extends Error {
  override readonly name = 'TransientPaymentError';
}

/**
 * Ids derive from the order id alone, so a crash between the provider's answer and its record
 * cannot produce a second, different id for the same order on the retry.
 */
const idFor = (kind: 'pay' | 'ref', orderId: string): string =>
  `${kind}_${createHash('sha256').update(`${kind}:${orderId}`).digest('hex').slice(0, 24)}`;
export const paymentIdFor = (orderId: string): string => idFor('pay', orderId);
export const refundIdFor = (orderId: string): string => idFor('ref', orderId);

/**
 * A payment provider that needs no network: it declines amounts above a limit, fails transiently
 * at a set rate (to prove the payment stage's retries), and answers every order id once, through
 * its ledger: the first outcome of an order is what every later call gets. See adr/0013.
 */
export class SimulatedPaymentGateway implements PaymentGatewayPort {
  constructor(
    private readonly ledger: PaymentLedger,
    private readonly settings: SimulatedPaymentSettings = DEFAULT_PAYMENT_SETTINGS,
    /** Uniform in [0, 1); injectable so tests decide which calls fail. */
    private readonly random: () => number = Math.random,
  ) {
    if (!(settings.limit >= 0)) throw new RangeError(`payment limit must be >= 0, got ${settings.limit}`);
    if (!(settings.transientFailureRate >= 0 && settings.transientFailureRate <= 1)) {
      throw new RangeError(`transient failure rate must be from 0 to 1, got ${settings.transientFailureRate}`);
    }
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    this.maybeFail('charge', request.orderId);
    const first = await this.ledger.findCharge(request.orderId);
    if (first !== undefined) return first;
    return this.ledger.recordCharge({ ...request, outcome: this.decide(request) });
  }

  async refund(orderId: string): Promise<RefundOutcome> {
    this.maybeFail('refund', orderId);
    return this.ledger.recordRefund(orderId, refundIdFor(orderId));
  }

  private decide({ orderId, amount, currency }: ChargeRequest): ChargeOutcome {
    if (!Number.isFinite(amount) || amount < 0) {
      return { status: 'declined', code: PAYMENT_DECLINE_CODES.invalidAmount, reason: `amount must be a finite number >= 0, got ${amount}` };
    }
    if (amount > this.settings.limit) {
      return {
        status: 'declined',
        code: PAYMENT_DECLINE_CODES.limitExceeded,
        reason: `amount ${amount} ${currency} is above the limit of ${this.settings.limit}`,
      };
    }
    return { status: 'charged', paymentId: paymentIdFor(orderId), amount, currency };
  }

  private maybeFail(call: 'charge' | 'refund', orderId: string): void {
    if (this.settings.transientFailureRate > 0 && this.random() < this.settings.transientFailureRate) {
      throw new TransientPaymentError(`simulated payment gateway: ${call} of order ${orderId} timed out (simulated transient failure)`);
    }
  }
}
