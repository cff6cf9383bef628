import { lineReasons, linesTotal, quantitiesBySku } from '../../../../src/domain/lifecycle/order-lines';
import { shippingCostOf } from '../../../../src/domain/lifecycle/money';

const line = (sku: string, quantity: number, unitPrice: number) => ({ sku, quantity, unitPrice });

describe('order lines', () => {
  it('accepts lines that add up to the total to the cent, whatever floating point makes of them', () => {
    expect(lineReasons([line('A', 1, 0.1), line('B', 1, 0.2)], 0.3)).toEqual([]);
    expect(lineReasons([line('A', 3, 33.33), line('B', 1, 0.01)], 100)).toEqual([]);
    expect(linesTotal([line('A', 3, 19.99)])).toBe(59.97);
  });

  it('has nothing to check on a seed-shaped order without lines', () => {
    expect(lineReasons(undefined, 149.99)).toEqual([]);
  });

  it('names every bad line at once, and does not add up invalid lines', () => {
    const reasons = lineReasons([line('A', 0, 1), line('B', 1.5, 1), line('C', 1, -2)], 999);
    expect(reasons.map((reason) => reason.code)).toEqual(['ORDER.INVALID_QUANTITY', 'ORDER.INVALID_QUANTITY', 'ORDER.INVALID_UNIT_PRICE']);
    expect(reasons[0]!.message).toContain('Line 0 (A)');
    expect(reasons[2]!.message).toContain('unit price -2');
  });

  it('refuses a quantity no stock count can hold, rather than let the reservation throw on it', () => {
    const [reason] = lineReasons([line('A', 1e20, 0)], 0);
    expect(reason).toEqual({ code: 'ORDER.INVALID_QUANTITY', message: 'Line 0 (A): quantity 100000000000000000000 is not a whole number >= 1 and < 2^53' });
    expect(lineReasons([line('A', Number.MAX_SAFE_INTEGER, 0)], 0)).toEqual([]);
  });

  it('rejects lines that disagree with the total, saying both sums', () => {
    expect(lineReasons([line('A', 2, 10)], 25)).toEqual([
      { code: 'ORDER.TOTAL_MISMATCH', message: 'The lines add up to 20.00, but the total is 25.00' },
    ]);
  });

  it('rejects an empty item list (an order of nothing), unlike a missing one', () => {
    expect(lineReasons([], 0).map((reason) => reason.code)).toEqual(['ORDER.INVALID_QUANTITY']);
  });

  it('sums lines of the same SKU, in SKU order', () => {
    expect(quantitiesBySku([line('B', 1, 1), line('A', 2, 1), line('B', 3, 1)])).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]);
  });

  it('charges 2 % of the total for shipping, to the cent', () => {
    expect(shippingCostOf(149.99)).toBe(3);
    expect(shippingCostOf(879)).toBe(17.58);
    expect(shippingCostOf(0)).toBe(0);
  });
});
