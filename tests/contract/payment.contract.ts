import { randomUUID } from 'node:crypto';
import { ChargeOutcome, ChargeRequest } from '../../src/application/ports/payment-gateway.port';
import { PaymentLedger } from '../../src/adapters/payment/payment-ledger';
import {
  paymentIdFor,
  refundIdFor,
  SimulatedPaymentGateway,
  TransientPaymentError,
} from '../../src/adapters/payment/simulated-payment-gateway';

export interface PaymentLedgerFixture {
  readonly ledger: PaymentLedger;
}

const charged = (orderId: string, amount: number, currency = 'EUR'): ChargeOutcome => ({
  status: 'charged',
  paymentId: paymentIdFor(orderId),
  amount,
  currency,
});
const declined: ChargeOutcome = { status: 'declined', code: 'PAYMENT.LIMIT_EXCEEDED', reason: 'too much' };

/** A fixture for one test, with order ids that no other test uses (they may share a database). */
const freshFixture = async (makeFixture: () => Promise<PaymentLedgerFixture>) => {
  const { ledger } = await makeFixture();
  const run = randomUUID().slice(0, 8);
  return { ledger, order: (n: string) => `${run}-order-${n}` };
};

/**
 * The contract of every PaymentLedger (in memory, PostgreSQL), and of the simulated gateway on
 * top of it: one outcome per order id, the first, also under concurrent duplicates; a refund only
 * of a charge, once. Order ids are unique to each test, so a fixture may share one database.
 */
export const describePaymentLedgerContract = (name: string, makeFixture: () => Promise<PaymentLedgerFixture>): void => {
  describe(`${name} honours the PaymentLedger contract`, () => {
    let ledger: PaymentLedger;
    let order: (name: string) => string;

    beforeEach(async () => ({ ledger, order } = await freshFixture(makeFixture)));

    const record = (orderId: string, outcome: ChargeOutcome, amount = 149.99) =>
      ledger.recordCharge({ orderId, customer: 'c-1', amount, currency: 'EUR', outcome });

    it('records a charge and finds it again, amount exact', async () => {
      const outcome = charged(order('1'), 1234.5678);
      expect(await ledger.findCharge(order('1'))).toBeUndefined();
      expect(await record(order('1'), outcome, 1234.5678)).toEqual(outcome);
      expect(await ledger.findCharge(order('1'))).toEqual(outcome);
    });

    it('keeps the first outcome of an order: a later record answers it and changes nothing', async () => {
      const first = charged(order('1'), 149.99);
      await record(order('1'), first);
      expect(await record(order('1'), declined)).toEqual(first);
      expect(await record(order('1'), charged(order('1'), 1))).toEqual(first);
      expect(await ledger.findCharge(order('1'))).toEqual(first);
    });

    it('records a decline with its code and reason', async () => {
      expect(await record(order('1'), declined, 9000)).toEqual(declined);
      expect(await ledger.findCharge(order('1'))).toEqual(declined);
    });

    it('answers every one of concurrent records for an order with one and the same outcome', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => record(order('1'), i % 2 === 0 ? charged(order('1'), 10 + i) : declined)),
      );
      for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
      expect(await ledger.findCharge(order('1'))).toEqual(outcomes[0]);
    });

    it('refunds a charged order once, with the charge amount', async () => {
      await record(order('1'), charged(order('1'), 149.99));
      const refund = await ledger.recordRefund(order('1'), refundIdFor(order('1')));
      expect(refund).toEqual({ status: 'refunded', refundId: refundIdFor(order('1')), amount: 149.99, currency: 'EUR' });
      expect(await ledger.recordRefund(order('1'), 'another-id')).toEqual(refund);
    });

    it('answers concurrent refunds of an order with the one refund', async () => {
      await record(order('1'), charged(order('1'), 20));
      const refunds = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.recordRefund(order('1'), `ref-${i}`)));
      for (const refund of refunds) expect(refund).toEqual(refunds[0]);
      expect(refunds[0]!.status).toBe('refunded');
    });

    it('has nothing to refund for an order never charged, or declined', async () => {
      expect(await ledger.recordRefund(order('never'), 'r-1')).toEqual({ status: 'not_charged' });
      await record(order('declined'), declined);
      expect(await ledger.recordRefund(order('declined'), 'r-2')).toEqual({ status: 'not_charged' });
    });
  });

  describe(`SimulatedPaymentGateway on ${name}`, () => {
    let ledger: PaymentLedger;
    let order: (name: string) => string;

    beforeEach(async () => ({ ledger, order } = await freshFixture(makeFixture)));

    const request = (orderId: string, amount: number): ChargeRequest => ({ orderId, customer: 'c-1', amount, currency: 'EUR' });

    it('charges up to the limit with an id derived from the order id, and declines above it', async () => {
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0 });
      expect(await gateway.charge(request(order('at-limit'), 5000))).toEqual(charged(order('at-limit'), 5000));
      expect(await gateway.charge(request(order('above'), 5000.01))).toEqual({
        status: 'declined',
        code: 'PAYMENT.LIMIT_EXCEEDED',
        reason: 'amount 5000.01 EUR is above the limit of 5000',
      });
    });

    it('charges an order once however often and however concurrently it is asked', async () => {
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0 });
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => gateway.charge(request(order('1'), 100 + i))));
      for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
      // A redelivery with another amount still gets the first answer.
      expect(await gateway.charge(request(order('1'), 9999))).toEqual(outcomes[0]);
    });

    it('answers every concurrent charge and refund of many orders with the first outcome, none with an error', async () => {
      // One order raced often enough to hit PostgreSQL's window: a charge whose conflict named
      // only order_id collided on payment_id instead, in about 1 in 70 concurrent calls.
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0 });
      const orders = Array.from({ length: 40 }, (_, i) => order(`race-${i}`));
      for (const orderId of orders) {
        const charges = await Promise.all(Array.from({ length: 8 }, (_, i) => gateway.charge(request(orderId, 10 + i))));
        expect(new Set(charges.map((outcome) => JSON.stringify(outcome))).size).toBe(1);
        const refunds = await Promise.all(Array.from({ length: 8 }, () => gateway.refund(orderId)));
        for (const refund of refunds) expect(refund).toEqual({ status: 'refunded', refundId: refundIdFor(orderId), amount: expect.any(Number), currency: 'EUR' });
      }
    });

    it('fails transiently at the set rate by rejecting before anything is recorded', async () => {
      const draws = [0.1, 0.9];
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0.5 }, () => draws.shift()!);
      await expect(gateway.charge(request(order('1'), 10))).rejects.toBeInstanceOf(TransientPaymentError);
      expect(await ledger.findCharge(order('1'))).toBeUndefined();
      expect(await gateway.charge(request(order('1'), 10))).toEqual(charged(order('1'), 10));
    });

    it('refunds a charge once and has nothing to refund for a declined order', async () => {
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0 });
      await gateway.charge(request(order('1'), 42.5));
      const refund = { status: 'refunded', refundId: refundIdFor(order('1')), amount: 42.5, currency: 'EUR' };
      expect(await gateway.refund(order('1'))).toEqual(refund);
      expect(await gateway.refund(order('1'))).toEqual(refund);
      await gateway.charge(request(order('2'), 6000));
      expect(await gateway.refund(order('2'))).toEqual({ status: 'not_charged' });
    });

    it('declines an amount that is not a finite number >= 0 with its own code', async () => {
      const gateway = new SimulatedPaymentGateway(ledger, { limit: 5000, transientFailureRate: 0 });
      expect(await gateway.charge(request(order('1'), -1))).toMatchObject({ status: 'declined', code: 'PAYMENT.INVALID_AMOUNT' });
    });
  });
};
