import { paymentIdFor, refundIdFor } from '../../../../../src/adapters/payment/simulated-payment-gateway';
import { InventoryPort } from '../../../../../src/application/ports/inventory.port';
import { inventoryStage } from '../../../../../src/application/stages/lifecycle/inventory';
import { aPaymentProcessed } from '../../../../support/builders';
import { deliver, eventsOn, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

describe('the inventory stage', () => {
  let fixture: Awaited<ReturnType<typeof lifecycleFixture>>;
  beforeEach(async () => (fixture = await lifecycleFixture({ stock: { APPLE: 5, MILK: 1 } })));

  /** A paid order: charged through the gateway first, as the payment stage would have. */
  const paid = async (overrides: Parameters<typeof aPaymentProcessed>[0] = {}) => {
    const event = aPaymentProcessed(overrides);
    await fixture.gateway.charge({ orderId: event.order_id, customer: event.customer, amount: event.total, currency: event.currency });
    return recordOn(TEST_TOPICS.paymentsProcessed, fixture.codecs.paymentProcessed.encode({ ...event, payment_id: paymentIdFor(event.order_id) }).value, {
      timestamp: Date.parse('2026-11-22T10:00:03.000Z'),
    });
  };
  const stock = async () => Object.fromEntries(await fixture.inventory.available(['APPLE', 'MILK', 'PEAR']));

  it('reads payments.processed and writes inventory.reserved, inventory.insufficient and payments.refunded, in one transaction', () => {
    const stage = inventoryStage(fixture);
    expect(stage).toMatchObject({ kind: 'event', name: 'inventory', ordering: 'concurrent', exactlyOnce: true });
    expect(stage.inputs.map((input) => input.topic)).toEqual(['payments.processed']);
    expect(Object.values(stage.outputs).map((output) => output.topic)).toEqual(['inventory.reserved', 'inventory.insufficient', 'payments.refunded']);
  });

  it('reserves every line of a paid order, and carries the order on', async () => {
    const delivered = await deliver(inventoryStage(fixture), await paid({ order_id: 'o-ok' }));
    expect(delivered.records.map((record) => [record.topic, record.key?.toString()])).toEqual([['inventory.reserved', 'o-ok']]);
    expect(eventsOn(delivered, 'inventory.reserved')).toEqual([
      {
        event_id: 'o-ok:inventory-reserved',
        event_type: 'inventory-reserved',
        order_id: 'o-ok',
        occurred_at: '2026-11-22T10:00:03.000Z',
        schema_version: 1,
        customer: 'C-9',
        total: 7,
        currency: 'EUR',
        payment_id: paymentIdFor('o-ok'),
        reserved: [
          { sku: 'APPLE', quantity: 2 },
          { sku: 'MILK', quantity: 1 },
        ],
        items: [
          { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
          { sku: 'MILK', quantity: 1, unit_price: 4 },
        ],
        shipping_address: { street: 'Main St 1', city: 'Springfield' },
      },
    ]);
    expect(await stock()).toEqual({ APPLE: 3, MILK: 0, PEAR: 0 });
  });

  it('reserves nothing for a seed-shaped order, successfully (adr/0014)', async () => {
    const delivered = await deliver(inventoryStage(fixture), await paid({ order_id: 'o-1001', total: 149.99, items: undefined, shipping_address: undefined }));
    expect(eventsOn(delivered, 'inventory.reserved')).toMatchObject([{ order_id: 'o-1001', reserved: [] }]);
    expect(eventsOn(delivered, 'inventory.reserved')[0]).not.toHaveProperty('items');
    expect(await stock()).toEqual({ APPLE: 5, MILK: 1, PEAR: 0 });
  });

  it('reserves nothing when one line is short, refunds the payment and says both', async () => {
    const delivered = await deliver(
      inventoryStage(fixture),
      await paid({ order_id: 'o-short', total: 5, items: [{ sku: 'APPLE', quantity: 1, unit_price: 1 }, { sku: 'MILK', quantity: 2, unit_price: 2 }] }),
    );
    expect(delivered.records.map((record) => [record.topic, record.key?.toString()])).toEqual([
      ['inventory.insufficient', 'o-short'],
      ['payments.refunded', 'o-short'],
    ]);
    expect(eventsOn(delivered, 'inventory.insufficient')).toEqual([
      {
        event_id: 'o-short:inventory-insufficient',
        event_type: 'inventory-insufficient',
        order_id: 'o-short',
        occurred_at: '2026-11-22T10:00:03.000Z',
        schema_version: 1,
        customer: 'C-9',
        total: 5,
        currency: 'EUR',
        shortages: [{ sku: 'MILK', requested: 2, available: 1 }],
        refunded: true,
      },
    ]);
    expect(eventsOn(delivered, 'payments.refunded')).toEqual([
      {
        event_id: 'o-short:payment-refunded',
        event_type: 'payment-refunded',
        order_id: 'o-short',
        occurred_at: '2026-11-22T10:00:03.000Z',
        schema_version: 1,
        customer: 'C-9',
        total: 5,
        currency: 'EUR',
        refund_id: refundIdFor('o-short'),
        amount: 5,
      },
    ]);
    expect(await stock()).toEqual({ APPLE: 5, MILK: 1, PEAR: 0 });
  });

  it('treats a SKU it has never heard of as out of stock', async () => {
    const delivered = await deliver(inventoryStage(fixture), await paid({ total: 1, items: [{ sku: 'PEAR', quantity: 1, unit_price: 1 }] }));
    expect(eventsOn(delivered, 'inventory.insufficient')[0]).toMatchObject({ shortages: [{ sku: 'PEAR', requested: 1, available: 0 }] });
  });

  it('announces no refund when the gateway has no charge to give back', async () => {
    const event = aPaymentProcessed({ order_id: 'o-never-charged', total: 1, items: [{ sku: 'PEAR', quantity: 1, unit_price: 1 }] });
    const delivered = await deliver(inventoryStage(fixture), recordOn(TEST_TOPICS.paymentsProcessed, fixture.codecs.paymentProcessed.encode(event).value));
    expect(delivered.records.map((record) => record.topic)).toEqual(['inventory.insufficient']);
    expect(eventsOn(delivered, 'inventory.insufficient')[0]).toMatchObject({ refunded: false });
  });

  it('answers a redelivered reservation byte for byte, reserving once', async () => {
    const stage = inventoryStage(fixture);
    const record = await paid({ order_id: 'o-twice' });
    const first = await deliver(stage, record);
    expect((await deliver(stage, record)).records).toEqual(first.records);
    expect((await deliver(inventoryStage(fixture), record)).records).toEqual(first.records);
    expect(await stock()).toEqual({ APPLE: 3, MILK: 0, PEAR: 0 });
  });

  it('answers a redelivered shortage byte for byte, refunding once', async () => {
    const stage = inventoryStage(fixture);
    const record = await paid({ order_id: 'o-short-twice', total: 8, items: [{ sku: 'MILK', quantity: 2, unit_price: 4 }] });
    const first = await deliver(stage, record);
    expect((await deliver(stage, record)).records).toEqual(first.records);
    expect(first.records.map((r) => r.topic)).toEqual(['inventory.insufficient', 'payments.refunded']);
    // One refund on record: asking again under another id answers the first.
    expect(await fixture.ledger.recordRefund('o-short-twice', 'another-id')).toMatchObject({ status: 'refunded', refundId: refundIdFor('o-short-twice') });
  });

  it.each([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['1e20', 1e20],
  ])('dead-letters a line with quantity %s (EVENT.INVALID_QUANTITY) rather than let the inventory throw on it', async (_case, quantity) => {
    const delivered = await deliver(inventoryStage(fixture), await paid({ order_id: 'o-bad', items: [{ sku: 'APPLE', quantity, unit_price: 1 }] }));
    expect(delivered.outcome).toEqual({
      kind: 'reject',
      rejection: {
        code: 'EVENT.INVALID_QUANTITY',
        stage: 'reserve',
        message: `Line 0 (APPLE) of order o-bad: quantity ${quantity} is not a whole number >= 1 and < 2^53; validation lets no such line through`,
      },
    });
    expect(await stock()).toEqual({ APPLE: 5, MILK: 1, PEAR: 0 });
  });

  it('throws when the inventory is unreachable (transient, retried)', async () => {
    const unreachable: InventoryPort = {
      reserve: async () => Promise.reject(new Error('ECONNREFUSED')),
      seedMissing: async () => 0,
      available: async () => new Map(),
    };
    const down = inventoryStage({ ...fixture, inventory: unreachable });
    await expect(deliver(down, await paid())).rejects.toThrow('ECONNREFUSED');
  });
});
