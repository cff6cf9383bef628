import { notificationStage } from '../../../../../src/application/stages/lifecycle/notification';
import { anInventoryInsufficient, anOrderRejected, aPaymentFailed, aShipmentCreated } from '../../../../support/builders';
import { deliver, eventsOn, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

describe('the notification stage', () => {
  let fixture: Awaited<ReturnType<typeof lifecycleFixture>>;
  beforeEach(async () => (fixture = await lifecycleFixture()));
  const at = { timestamp: Date.parse('2026-11-22T10:00:05.000Z') };

  it('reads the four topics a customer hears about and writes notifications.outbound, in one transaction', () => {
    const stage = notificationStage(fixture);
    expect(stage).toMatchObject({ kind: 'event', name: 'notification', ordering: 'concurrent', exactlyOnce: true });
    expect(stage.inputs.map((input) => input.topic)).toEqual(['orders.rejected', 'payments.failed', 'inventory.insufficient', 'shipments.created']);
    expect(Object.values(stage.outputs).map((output) => output.topic)).toEqual(['notifications.outbound']);
  });

  it.each([
    [
      'a rejection',
      () => recordOn(TEST_TOPICS.ordersRejected, fixture.codecs.rejected.encode(anOrderRejected({ order_id: 'o-1', customer: 'C-1' })).value, at),
      'rejected',
      'We could not accept your order o-1: The lines add up to 7.00, but the total is 8.00.',
    ],
    [
      'a declined payment',
      () => recordOn(TEST_TOPICS.paymentsFailed, fixture.codecs.paymentFailed.encode(aPaymentFailed({ order_id: 'o-1', customer: 'C-1' })).value, at),
      'payment-failed',
      'The payment for your order o-1 did not go through: amount 7 EUR is above the limit of 5. Nothing was charged.',
    ],
    [
      'a shortage',
      () => recordOn(TEST_TOPICS.inventoryInsufficient, fixture.codecs.inventoryInsufficient.encode(anInventoryInsufficient({ order_id: 'o-1', customer: 'C-1' })).value, at),
      'inventory-insufficient',
      'Sorry, part of your order o-1 is out of stock (MILK), so it was cancelled. Your payment has been refunded.',
    ],
    [
      'a shipment',
      () => recordOn(TEST_TOPICS.shipmentsCreated, fixture.codecs.shipmentCreated.encode(aShipmentCreated({ order_id: 'o-1', customer: 'C-1' })).value, at),
      'shipment-created',
      'Your order o-1 is on its way: shipment sh-o-1, shipping 0.14 EUR.',
    ],
  ])('tells the customer about %s, once, keyed by customer', async (_case, record, about, message) => {
    const stage = notificationStage(fixture);
    const delivered = await deliver(stage, record());
    expect(delivered.records.map((r) => [r.topic, r.key?.toString()])).toEqual([['notifications.outbound', 'C-1']]);
    expect(eventsOn(delivered, 'notifications.outbound')).toEqual([
      {
        event_id: `o-1:${about}:notification`,
        event_type: 'notification',
        order_id: 'o-1',
        occurred_at: '2026-11-22T10:00:05.000Z',
        schema_version: 1,
        customer: 'C-1',
        about,
        about_event_id: `o-1:${about}`,
        message,
      },
    ]);
    expect((await deliver(stage, record())).records).toEqual(delivered.records);
  });

  it('does not mention a refund that did not happen', async () => {
    const event = anInventoryInsufficient({ refunded: false });
    const delivered = await deliver(notificationStage(fixture), recordOn(TEST_TOPICS.inventoryInsufficient, fixture.codecs.inventoryInsufficient.encode(event).value));
    expect(eventsOn(delivered, 'notifications.outbound')[0]!.message).not.toContain('refunded');
  });

  it('dead-letters an event of another type on one of its topics', async () => {
    const wrong = recordOn(TEST_TOPICS.paymentsFailed, fixture.codecs.shipmentCreated.encode(aShipmentCreated()).value);
    expect((await deliver(notificationStage(fixture), wrong)).outcome).toMatchObject({ kind: 'reject', rejection: { code: 'EVENT.UNEXPECTED_TYPE' } });
  });
});
