import { picklistFor, shipmentFor } from '../../../../src/domain/lifecycle/fulfillment';
import { eventIdOf, notificationIdOf } from '../../../../src/domain/lifecycle/event-id';
import { render } from '../../../../src/domain/lifecycle/notifications';
import { canMove, isTerminal, ORDER_STATUSES } from '../../../../src/domain/lifecycle/order-status';

const PICKERS = ['picker-1', 'picker-2', 'picker-3'];

describe('fulfillment', () => {
  it('makes the same picklist for the same order, picker included, with one row per SKU', () => {
    const lines = [
      { sku: 'BANANA', quantity: 2, unitPrice: 0.5 },
      { sku: 'APPLE', quantity: 1, unitPrice: 1 },
      { sku: 'BANANA', quantity: 1, unitPrice: 0.5 },
    ];
    const picklist = picklistFor('o-1001', lines, PICKERS);
    expect(picklist).toEqual(picklistFor('o-1001', [...lines].reverse(), PICKERS));
    expect(picklist.picklistId).toBe('pl-o-1001');
    expect(picklist.items).toEqual([
      { sku: 'APPLE', quantity: 1 },
      { sku: 'BANANA', quantity: 3 },
    ]);
    expect(PICKERS).toContain(picklist.assignedPicker);
  });

  it('spreads orders over every picker', () => {
    const assigned = new Set(Array.from({ length: 60 }, (_, i) => picklistFor(`o-${i}`, [], PICKERS).assignedPicker));
    expect(assigned).toEqual(new Set(PICKERS));
  });

  it('refuses to assign a picklist to nobody', () => {
    expect(() => picklistFor('o-1', [], [])).toThrow('at least one picker');
  });

  it('ships at 2 % of the total', () => {
    expect(shipmentFor('o-1002', 879, { street: 'Main St 1' })).toEqual({
      shipmentId: 'sh-o-1002',
      orderId: 'o-1002',
      shippingCost: 17.58,
      shippingAddress: { street: 'Main St 1' },
    });
  });
});

describe('event ids', () => {
  it('are derived from the cause alone, and distinct per cause', () => {
    expect(eventIdOf('o-1', 'validated')).toBe('o-1:validated');
    expect(eventIdOf('o-1', 'validated')).not.toBe(eventIdOf('o-1:validated', 'validated'));
    expect(notificationIdOf('o-1', 'shipment-created')).toBe('o-1:shipment-created:notification');
  });
});

describe('notifications', () => {
  it('render one plain message per event, naming the order', () => {
    expect(render({ kind: 'shipment-created', customer: 'C-9', orderId: 'o-1', shipmentId: 'sh-o-1', shippingCost: 3, currency: 'EUR' })).toEqual({
      customer: 'C-9',
      orderId: 'o-1',
      message: 'Your order o-1 is on its way: shipment sh-o-1, shipping 3.00 EUR.',
    });
    expect(render({ kind: 'rejected', customer: 'C-9', orderId: 'o-2', reasons: [{ message: 'a' }, { message: 'b' }] }).message).toBe(
      'We could not accept your order o-2: a; b.',
    );
    expect(render({ kind: 'inventory-insufficient', customer: 'C-9', orderId: 'o-3', skus: ['X'], refunded: true }).message).toContain('refunded');
    expect(render({ kind: 'payment-failed', customer: 'C-9', orderId: 'o-4', reason: 'limit exceeded' }).message).toContain('Nothing was charged');
  });
});

describe('order status', () => {
  it('moves along the happy path and nowhere from a terminal status', () => {
    const path = ['placed', 'validated', 'paid', 'reserved', 'shipped', 'delivered'] as const;
    for (let i = 1; i < path.length; i++) expect(canMove(path[i - 1]!, path[i]!)).toBe(true);
    for (const status of ORDER_STATUSES.filter(isTerminal)) {
      for (const to of ORDER_STATUSES) expect(canMove(status, to)).toBe(false);
    }
    expect(canMove('placed', 'shipped')).toBe(false);
    expect(canMove('paid', 'paid')).toBe(false);
    expect(ORDER_STATUSES.filter(isTerminal)).toEqual(['delivered', 'rejected', 'payment_failed', 'out_of_stock', 'cancelled']);
  });
});
