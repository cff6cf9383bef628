import { DEFAULT_PICKERS, fulfillmentStage } from '../../../../../src/application/stages/lifecycle/fulfillment';
import { anInventoryReserved } from '../../../../support/builders';
import { deliver, eventsOn, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

describe('the fulfillment stage', () => {
  let fixture: Awaited<ReturnType<typeof lifecycleFixture>>;
  beforeEach(async () => (fixture = await lifecycleFixture()));

  const reserved = (overrides: Parameters<typeof anInventoryReserved>[0] = {}) =>
    recordOn(TEST_TOPICS.inventoryReserved, fixture.codecs.inventoryReserved.encode(anInventoryReserved(overrides)).value, {
      timestamp: Date.parse('2026-11-22T10:00:04.000Z'),
    });

  it('reads inventory.reserved and writes picklists.created and shipments.created, in one transaction', () => {
    const stage = fulfillmentStage(fixture);
    expect(stage).toMatchObject({ kind: 'event', name: 'fulfillment', ordering: 'concurrent', exactlyOnce: true });
    expect(stage.inputs.map((input) => input.topic)).toEqual(['inventory.reserved']);
    expect(Object.values(stage.outputs).map((output) => output.topic)).toEqual(['picklists.created', 'shipments.created']);
  });

  it('makes a picklist (one row per SKU, an assigned picker) and a shipment at 2 % of the total', async () => {
    const delivered = await deliver(
      fulfillmentStage(fixture),
      reserved({
        order_id: 'o-ship',
        total: 879,
        items: [
          { sku: 'MILK', quantity: 1, unit_price: 400 },
          { sku: 'APPLE', quantity: 2, unit_price: 200 },
          { sku: 'MILK', quantity: 1, unit_price: 79 },
        ],
      }),
    );
    expect(delivered.records.map((record) => [record.topic, record.key?.toString()])).toEqual([
      ['picklists.created', 'o-ship'],
      ['shipments.created', 'o-ship'],
    ]);
    const [picklist] = eventsOn(delivered, 'picklists.created');
    expect(picklist).toEqual({
      event_id: 'o-ship:picklist-created',
      event_type: 'picklist-created',
      order_id: 'o-ship',
      occurred_at: '2026-11-22T10:00:04.000Z',
      schema_version: 1,
      picklist_id: 'pl-o-ship',
      items: [
        { sku: 'APPLE', quantity: 2 },
        { sku: 'MILK', quantity: 2 },
      ],
      assigned_picker: expect.any(String),
    });
    expect(DEFAULT_PICKERS).toContain(picklist!.assigned_picker);
    expect(eventsOn(delivered, 'shipments.created')).toEqual([
      {
        event_id: 'o-ship:shipment-created',
        event_type: 'shipment-created',
        order_id: 'o-ship',
        occurred_at: '2026-11-22T10:00:04.000Z',
        schema_version: 1,
        customer: 'C-9',
        total: 879,
        currency: 'EUR',
        shipment_id: 'sh-o-ship',
        shipping_cost: 17.58,
        shipping_address: { street: 'Main St 1', city: 'Springfield' },
      },
    ]);
  });

  it.each([
    ['a seed-shaped order (no items)', { items: undefined, shipping_address: undefined, reserved: [] }],
    ['an order with an empty item list', { items: [], reserved: [] }],
  ])('ships %s without a picklist: nothing to pick', async (_case, overrides) => {
    const delivered = await deliver(fulfillmentStage(fixture), reserved({ order_id: 'o-1001', total: 149.99, ...overrides }));
    expect(delivered.records.map((record) => record.topic)).toEqual(['shipments.created']);
    expect(eventsOn(delivered, 'shipments.created')[0]).toMatchObject({ shipment_id: 'sh-o-1001', shipping_cost: 3 });
  });

  it('answers a redelivered reservation byte for byte, picker included', async () => {
    const record = reserved({ order_id: 'o-again' });
    const first = await deliver(fulfillmentStage(fixture), record);
    expect((await deliver(fulfillmentStage(fixture), record)).records).toEqual(first.records);
  });

  it('assigns the pickers it is given, and refuses to start with none', async () => {
    const delivered = await deliver(fulfillmentStage({ ...fixture, pickers: ['ann'] }), reserved());
    expect(eventsOn(delivered, 'picklists.created')[0]).toMatchObject({ assigned_picker: 'ann' });
    expect(() => fulfillmentStage({ ...fixture, pickers: [] })).toThrow('at least one picker');
  });
});
