import { randomUUID } from 'node:crypto';
import { InventoryPort, ReservationOutcome, StockLine } from '../../src/application/ports/inventory.port';

export interface InventoryFixture {
  readonly inventory: InventoryPort;
}

const line = (sku: string, quantity: number): StockLine => ({ sku, quantity });

/**
 * The contract every InventoryPort adapter passes, in memory and on PostgreSQL alike: all or
 * nothing, idempotent by order id (also when calls for one order race), never an oversell.
 * SKUs and order ids are unique to each test, so a fixture may share one database.
 */
export const describeInventoryContract = (name: string, makeFixture: () => Promise<InventoryFixture>): void => {
  describe(`${name} honours the Inventory contract`, () => {
    let inventory: InventoryPort;
    let sku: (name: string) => string;
    let order: (name: string) => string;

    beforeEach(async () => {
      ({ inventory } = await makeFixture());
      const run = randomUUID().slice(0, 8);
      sku = (n) => `${run}-sku-${n}`;
      order = (n) => `${run}-order-${n}`;
    });

    const seed = async (stock: Record<string, number>): Promise<void> => {
      await inventory.seedMissing(new Map(Object.entries(stock).map(([s, q]) => [sku(s), q])));
    };
    const availableOf = async (...names: string[]): Promise<number[]> => {
      const map = await inventory.available(names.map(sku));
      return names.map((n) => map.get(sku(n))!);
    };

    it('reserves every line and takes it from the stock', async () => {
      await seed({ a: 5, b: 3 });
      const outcome = await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2), line(sku('b'), 3)] });
      expect(outcome).toEqual({ status: 'reserved', lines: [line(sku('a'), 2), line(sku('b'), 3)] });
      expect(await availableOf('a', 'b')).toEqual([3, 0]);
    });

    it('reserves nothing when one line does not fit, and names every shortage', async () => {
      await seed({ a: 5, b: 1, c: 0 });
      const outcome = await inventory.reserve({
        orderId: order('1'),
        lines: [line(sku('a'), 2), line(sku('b'), 2), line(sku('c'), 1)],
      });
      expect(outcome).toEqual({
        status: 'insufficient',
        shortages: [
          { sku: sku('b'), requested: 2, available: 1 },
          { sku: sku('c'), requested: 1, available: 0 },
        ],
      });
      expect(await availableOf('a', 'b', 'c')).toEqual([5, 1, 0]);
    });

    it('answers a second reservation of an order with the first outcome and takes nothing more', async () => {
      await seed({ a: 5 });
      const first = await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2)] });
      const again = await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2)] });
      const changed = await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 1)] });
      expect(again).toEqual(first);
      expect(changed).toEqual(first);
      expect(await availableOf('a')).toEqual([3]);
    });

    it('keeps an insufficient outcome for the order, even once the stock would fit the retry', async () => {
      await seed({ a: 1 });
      const first = await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2)] });
      expect(first.status).toBe('insufficient');
      expect(await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 1)] })).toEqual(first);
      expect(await availableOf('a')).toEqual([1]);
    });

    it('sums lines naming the same SKU', async () => {
      await seed({ a: 3 });
      expect(await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2), line(sku('a'), 2)] })).toEqual({
        status: 'insufficient',
        shortages: [{ sku: sku('a'), requested: 4, available: 3 }],
      });
      expect(await inventory.reserve({ orderId: order('2'), lines: [line(sku('a'), 1), line(sku('a'), 2)] })).toEqual({
        status: 'reserved',
        lines: [line(sku('a'), 3)],
      });
      expect(await availableOf('a')).toEqual([0]);
    });

    it('treats a SKU it never heard of as out of stock, not as an error', async () => {
      await seed({ a: 5 });
      expect(await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 1), line(sku('unknown'), 1)] })).toEqual({
        status: 'insufficient',
        shortages: [{ sku: sku('unknown'), requested: 1, available: 0 }],
      });
      expect(await availableOf('a', 'unknown')).toEqual([5, 0]);
    });

    it('reserves an order without lines, successfully, and records it', async () => {
      expect(await inventory.reserve({ orderId: order('1'), lines: [] })).toEqual({ status: 'reserved', lines: [] });
      expect(await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 1)] })).toEqual({ status: 'reserved', lines: [] });
    });

    it('seeds only SKUs it does not know, so a restart does not refill what orders took', async () => {
      expect(await inventory.seedMissing(new Map([[sku('a'), 5]]))).toBe(1);
      await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2)] });
      expect(
        await inventory.seedMissing(
          new Map([
            [sku('a'), 5],
            [sku('b'), 2],
          ]),
        ),
      ).toBe(1);
      expect(await availableOf('a', 'b')).toEqual([3, 2]);
    });

    it('refuses a seed with a negative or fractional quantity and adds none of it', async () => {
      const bad = new Map([
        [sku('ok'), 4],
        [sku('negative'), -1],
        [sku('fraction'), 1.5],
      ]);
      await expect(inventory.seedMissing(bad)).rejects.toThrow(/negative=-1.*fraction=1\.5/);
      expect(await availableOf('ok')).toEqual([0]);
    });

    it('refuses a line with a quantity below 1 and reserves nothing for the order', async () => {
      await seed({ a: 5 });
      await expect(inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2), line(sku('a'), 0)] })).rejects.toThrow(
        /quantity must be a whole number >= 1, got 0/,
      );
      expect(await availableOf('a')).toEqual([5]);
      expect(await inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 2)] })).toEqual({
        status: 'reserved',
        lines: [line(sku('a'), 2)],
      });
    });

    it('never oversells: 50 concurrent orders for 10 units of two SKUs reserve exactly 10', async () => {
      await seed({ a: 10, b: 10 });
      // Half name the SKUs in the other order: locks taken in line order would deadlock.
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          inventory.reserve({
            orderId: order(`c${i}`),
            lines: i % 2 === 0 ? [line(sku('a'), 1), line(sku('b'), 1)] : [line(sku('b'), 1), line(sku('a'), 1)],
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(10);
      expect(outcomes.filter((o) => o.status === 'insufficient')).toHaveLength(40);
      expect(await availableOf('a', 'b')).toEqual([0, 0]);
    });

    it('takes the stock once when calls for the same order race', async () => {
      await seed({ a: 10 });
      const outcomes: ReservationOutcome[] = await Promise.all(
        Array.from({ length: 20 }, () => inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), 3)] })),
      );
      for (const outcome of outcomes) expect(outcome).toEqual({ status: 'reserved', lines: [line(sku('a'), 3)] });
      expect(await availableOf('a')).toEqual([7]);
    });

    it('answers the first outcome when racing calls for one order would decide differently', async () => {
      await seed({ a: 2 });
      // The same order asked with two line sets, one that fits and one that does not: whichever
      // is recorded first, every call answers it, and the stock reflects exactly that one.
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => inventory.reserve({ orderId: order('1'), lines: [line(sku('a'), i % 2 === 0 ? 2 : 3)] })),
      );
      for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
      expect(await availableOf('a')).toEqual([outcomes[0]!.status === 'reserved' ? 0 : 2]);
    });
  });
};
