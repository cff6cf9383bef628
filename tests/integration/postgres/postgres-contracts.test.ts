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

  it('keeps stock non-negative in the table itself, whatever the code does', async () => {
    await expect(db.pool.query(`INSERT INTO stock (sku, available) VALUES ('check-negative', -1)`)).rejects.toThrow(/stock_available_check/);
  });
});
