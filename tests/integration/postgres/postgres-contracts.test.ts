import { PostgresInventory } from '../../../src/adapters/postgres/postgres-inventory';
import { PostgresPaymentLedger } from '../../../src/adapters/postgres/postgres-payment-ledger';
import { PostgresSpendLimit } from '../../../src/adapters/postgres/postgres-spend-limit';
import { describeInventoryContract } from '../../contract/inventory.contract';
import { describePaymentLedgerContract } from '../../contract/payment.contract';
import { describeSpendLimitContract } from '../../contract/spend-limit.contract';
import { useMigratedSchema } from '../../support/postgres';

describe('PostgreSQL adapters', () => {
  const db = useMigratedSchema();
  describeInventoryContract('PostgresInventory', async () => ({ inventory: new PostgresInventory(db.pool) }));
  describePaymentLedgerContract('PostgresPaymentLedger', async () => ({ ledger: new PostgresPaymentLedger(db.pool) }));
  describeSpendLimitContract('PostgresSpendLimit', async (settings) => ({ spendLimit: new PostgresSpendLimit(db.pool, settings) }));

  it("refuses, naming it, a charge or refund whose id is already another order's, instead of answering that order's outcome", async () => {
    const ledger = new PostgresPaymentLedger(db.pool);
    const charge = (orderId: string) =>
      ledger.recordCharge({ orderId, customer: 'c-1', amount: 5, currency: 'EUR', outcome: { status: 'charged', paymentId: 'pay-shared', amount: 5, currency: 'EUR' } });
    await charge('id-clash-a');
    await expect(charge('id-clash-b')).rejects.toThrow('charge of order id-clash-b was not recorded: its payment id is already recorded for another order');
    await ledger.recordCharge({ orderId: 'id-clash-c', customer: 'c-1', amount: 5, currency: 'EUR', outcome: { status: 'charged', paymentId: 'pay-c', amount: 5, currency: 'EUR' } });
    expect(await ledger.recordRefund('id-clash-a', 'refund-shared')).toMatchObject({ status: 'refunded', refundId: 'refund-shared' });
    await expect(ledger.recordRefund('id-clash-c', 'refund-shared')).rejects.toThrow('refund of order id-clash-c was not recorded: its refund id is already recorded for another order');
  });

  it('keeps stock non-negative in the table itself, whatever the code does', async () => {
    await expect(db.pool.query(`INSERT INTO stock (sku, available) VALUES ('check-negative', -1)`)).rejects.toThrow(/stock_available_check/);
  });
});
