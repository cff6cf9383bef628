import { Pool } from 'pg';
import { closePostgresPool, createPostgresPool } from '../../../src/adapters/postgres/postgres-connection';
import { PostgresOrderView } from '../../../src/adapters/postgres/postgres-order-view';
import { anOrderPlaced, aPaymentProcessed } from '../../support/builders';
import { LoggerSpy } from '../../support/logger-spy';
import { describeOrderViewContract, OrderViewInstance, OrderViewSettings } from '../../contract/order-view.contract';
import { useMigratedSchema } from '../../support/postgres';

describe('PostgresOrderView', () => {
  const db = useMigratedSchema();

  const instance = (pool: Pool, settings: OrderViewSettings): OrderViewInstance => {
    const view = new PostgresOrderView(pool, { ...settings, logger: new LoggerSpy() });
    return { store: view, queries: view, close: () => view.close() };
  };

  describeOrderViewContract(
    'PostgresOrderView',
    async (settings) => {
      // Each fixture starts from an empty view: the count bound counts every held event in the table.
      await db.pool.query('TRUNCATE order_view, order_view_held');
      return {
        ...instance(db.pool, settings),
        // Another process: its own pool and listening connection on the same schema.
        another: async () => {
          const pool = createPostgresPool({ url: db.url, schema: db.schema, maxConnections: 2 }, new LoggerSpy());
          const other = instance(pool, settings);
          return { ...other, close: async () => (await other.close?.(), await closePostgresPool(pool)) };
        },
      };
    },
    { shared: true },
  );

  it('hears changes again after its listening connection is killed', async () => {
    const view = new PostgresOrderView(db.pool, { logger: new LoggerSpy() });
    // Changes come from another instance, so that only the notifications can tell them.
    const writer = new PostgresOrderView(db.pool, { logger: new LoggerSpy() });
    try {
      const heard = new Set<string>();
      view.onChange((orderId) => heard.add(orderId));
      const until = async (orderId: string): Promise<void> => {
        for (let i = 0; i < 200 && !heard.has(orderId); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(heard.has(orderId)).toBe(true);
      };
      const placeUntilHeard = async (prefix: string): Promise<void> => {
        for (let i = 0; i < 100; i += 1) {
          const id = `${prefix}-${i}`;
          await writer.apply(anOrderPlaced({ order_id: id }), 'orders.by-customer');
          await new Promise((resolve) => setTimeout(resolve, 100));
          if (heard.has(id)) return;
        }
        throw new Error(`no change of ${prefix}-* was heard`);
      };
      await placeUntilHeard('before-kill');
      const killed = await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %order_view:%' AND pid <> pg_backend_pid()`);
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      await placeUntilHeard('after-kill');
      heard.clear();
      await writer.apply(aPaymentProcessed({ order_id: 'after-kill-0' }), 'payments.processed');
      await until('after-kill-0');
    } finally {
      await Promise.all([view.close(), writer.close()]);
    }
  });
});
