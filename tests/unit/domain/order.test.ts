import { createOrder, currencyOf, DEFAULT_CURRENCY, isHighRisk, isOrderId } from '../../../src/domain/order';
import { anOrder } from '../../support/builders';

describe('Order', () => {
  it.each(['o-1001', 'A.b_c:D-9', 'x', 'a'.repeat(128)])('accepts the id %j', (id) => {
    expect(isOrderId(id)).toBe(true);
  });

  it.each(['', '../x', 'a/b', '/', 'a..b', 'a'.repeat(129), 'with space', 'ünï', 'tab\t', '%2e%2e'])(
    'refuses the unsafe id %j',
    (id) => {
      expect(isOrderId(id)).toBe(false);
      const result = createOrder({ id, customer: 'C', total: 1, channel: 'web' });
      expect(result).toMatchObject({ ok: false, error: { code: 'ORDER.INVALID_ID' } });
    },
  );

  it.each([-0.01, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses the total %p', (total) => {
    expect(createOrder({ id: 'o-1', customer: 'C', total, channel: 'web' })).toMatchObject({
      ok: false,
      error: { code: 'ORDER.INVALID_TOTAL' },
    });
  });

  it('accepts a zero total', () => {
    expect(createOrder({ id: 'o-1', customer: 'C', total: 0, channel: 'web' }).ok).toBe(true);
  });

  it('is immutable', () => {
    const order = anOrder();
    expect(Object.isFrozen(order)).toBe(true);
  });

  it('is high risk from a total of 500', () => {
    expect(isHighRisk(anOrder({ total: 499.99 }))).toBe(false);
    expect(isHighRisk(anOrder({ total: 500 }))).toBe(true);
  });

  it('is priced in its own currency, or in USD when it names none', () => {
    expect(DEFAULT_CURRENCY).toBe('USD');
    expect(currencyOf(anOrder())).toBe('USD');
    expect(currencyOf(anOrder({ currency: 'EUR' }))).toBe('EUR');
  });

  it('copies and freezes its lines and address, keeping only the address fields it knows', () => {
    const items = [{ sku: 'A', quantity: 1, unitPrice: 2 }];
    const shippingAddress = { city: 'Springfield', planet: 'Earth' } as { city: string };
    const order = anOrder({ total: 2, items, shippingAddress });
    items[0]!.quantity = 5;
    expect(order.items).toEqual([{ sku: 'A', quantity: 1, unitPrice: 2 }]);
    expect(Object.isFrozen(order.items)).toBe(true);
    expect(order.shippingAddress).toEqual({ city: 'Springfield' });
  });
});
