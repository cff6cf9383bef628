import { lifecycleStages } from '../../../../../src/application/stages/lifecycle/lifecycle-stages';
import { EventStage } from '../../../../../src/application/stages/stage';
import { InboundMessage } from '../../../../../src/application/ports/message-bus.port';
import { anItemisedWireOrder, aWireOrder, SEED_SAMPLES, wireBytes } from '../../../../support/builders';
import { deliver, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

/**
 * Every record each stage emits, handed to the stages that read its topic, until nothing is left:
 * the lifecycle's handlers and codecs end to end, without a bus (the StageRunner's own tests cover
 * the bus). With `redeliver`, every record is handled twice, and the second time must emit the
 * same records byte for byte.
 */
const flow = async (stages: readonly EventStage[], orders: readonly Record<string, unknown>[], { redeliver = false } = {}) => {
  const byTopic = new Map<string, InboundMessage[]>();
  const deadLetters: { topic: string; code: string }[] = [];
  const queue = orders.map((order, i) => recordOn(TEST_TOPICS.orders, wireBytes(order), { offset: String(i) }));
  while (queue.length > 0) {
    const record = queue.shift()!;
    byTopic.set(record.topic, [...(byTopic.get(record.topic) ?? []), record]);
    for (const stage of stages.filter((candidate) => candidate.inputs.some((input) => input.topic === record.topic))) {
      const delivered = await deliver(stage, record);
      if (redeliver) expect((await deliver(stage, record)).records).toEqual(delivered.records);
      if (delivered.outcome.kind === 'reject') deadLetters.push({ topic: record.topic, code: delivered.outcome.rejection.code });
      queue.push(...delivered.records);
    }
  }
  const events = (topic: string) => (byTopic.get(topic) ?? []).map((record) => JSON.parse(record.value!.toString('utf8')) as Record<string, unknown>);
  return { events, deadLetters, orderIdsOn: (topic: string) => events(topic).map((event) => event.order_id).sort() };
};

describe('the lifecycle, stage to stage', () => {
  it('takes the seed’s orders (no items) through all five stages: paid, shipped at 2 %, told, with no picklist', async () => {
    const fixture = await lifecycleFixture();
    const seed = SEED_SAMPLES.map(({ order }) => aWireOrder(order));
    const { events, orderIdsOn, deadLetters } = await flow(Object.values(lifecycleStages(fixture)), seed);
    const ids = ['o-1001', 'o-1002', 'o-1003'];
    for (const topic of [TEST_TOPICS.ordersValidated, TEST_TOPICS.paymentsProcessed, TEST_TOPICS.inventoryReserved, TEST_TOPICS.shipmentsCreated, TEST_TOPICS.notificationsOutbound]) {
      expect({ topic, ids: orderIdsOn(topic) }).toEqual({ topic, ids });
    }
    expect(events(TEST_TOPICS.picklistsCreated)).toEqual([]);
    expect(events(TEST_TOPICS.inventoryReserved).map((event) => event.reserved)).toEqual([[], [], []]);
    expect(events(TEST_TOPICS.shipmentsCreated).map((event) => [event.order_id, event.shipping_cost, event.currency])).toEqual([
      ['o-1001', 3, 'USD'],
      ['o-1002', 17.58, 'USD'],
      ['o-1003', 0.85, 'USD'],
    ]);
    expect(events(TEST_TOPICS.notificationsOutbound)[0]).toMatchObject({
      customer: 'C-9',
      message: 'Your order o-1001 is on its way: shipment sh-o-1001, shipping 3.00 USD.',
    });
    expect(fixture.ledger.recordedCharges.map((charge) => [charge.orderId, charge.amount])).toEqual([
      ['o-1001', 149.99],
      ['o-1002', 879],
      ['o-1003', 42.5],
    ]);
    expect(deadLetters).toEqual([]);
  });

  it('brings a known mix to its final states, and a full redelivery changes nothing', async () => {
    const fixture = await lifecycleFixture({ stock: { APPLE: 10, MILK: 10 } });
    const orders = [
      anItemisedWireOrder({ id: 'o-shipped' }),
      aWireOrder({ id: 'o-seed', total: 42.5 }),
      anItemisedWireOrder({ id: 'o-mismatch', total: 8 }),
      anItemisedWireOrder({ id: 'o-zero', total: 4, items: [{ sku: 'MILK', quantity: 0, unit_price: 1 }, { sku: 'MILK', quantity: 1, unit_price: 4 }] }),
      aWireOrder({ id: 'o-declined', customer: 'C-rich', total: 6_000 }),
      aWireOrder({ id: 'o-fraud', customer: 'C-rich', total: 4_500 }),
      anItemisedWireOrder({ id: 'o-no-stock', total: 44, items: [{ sku: 'MILK', quantity: 11, unit_price: 4 }] }),
      aWireOrder({ id: 'o-broken', total: 'lots' }),
    ];
    const { events, orderIdsOn, deadLetters } = await flow(Object.values(lifecycleStages(fixture)), orders, { redeliver: true });

    expect(orderIdsOn(TEST_TOPICS.ordersRejected)).toEqual(['o-fraud', 'o-mismatch', 'o-zero']);
    expect(events(TEST_TOPICS.ordersRejected).map((event) => [event.order_id, (event.reasons as { code: string }[]).map((reason) => reason.code)])).toEqual([
      ['o-mismatch', ['ORDER.TOTAL_MISMATCH']],
      ['o-zero', ['ORDER.INVALID_QUANTITY']],
      ['o-fraud', ['ORDER.SPEND_LIMIT_EXCEEDED']],
    ]);
    expect(orderIdsOn(TEST_TOPICS.paymentsFailed)).toEqual(['o-declined']);
    expect(orderIdsOn(TEST_TOPICS.inventoryInsufficient)).toEqual(['o-no-stock']);
    expect(orderIdsOn(TEST_TOPICS.paymentsRefunded)).toEqual(['o-no-stock']);
    expect(orderIdsOn(TEST_TOPICS.shipmentsCreated)).toEqual(['o-seed', 'o-shipped']);
    expect(orderIdsOn(TEST_TOPICS.picklistsCreated)).toEqual(['o-shipped']);
    expect(deadLetters).toEqual([{ topic: 'orders.v1', code: 'ORDER.INVALID_TOTAL' }]);

    // Every final state told once: rejections, decline, shortage, shipments.
    expect(events(TEST_TOPICS.notificationsOutbound).map((event) => event.event_id).sort()).toEqual(
      [
        'o-declined:payment-failed',
        'o-fraud:rejected',
        'o-mismatch:rejected',
        'o-no-stock:inventory-insufficient',
        'o-seed:shipment-created',
        'o-shipped:shipment-created',
        'o-zero:rejected',
      ].map((id) => `${id}:notification`),
    );
    // Each record was handled twice; still one charge per charged order, one reservation, one refund.
    for (const orderId of ['o-shipped', 'o-seed', 'o-declined', 'o-no-stock']) expect(fixture.ledger.chargesOf(orderId)).toHaveLength(1);
    expect(fixture.ledger.recordedCharges).toHaveLength(4);
    // Stock less the shipped order's lines (APPLE 2, MILK 1), taken once; the short order took nothing.
    expect(Object.fromEntries(await fixture.inventory.available(['APPLE', 'MILK']))).toEqual({ APPLE: 8, MILK: 9 });
  });
});
