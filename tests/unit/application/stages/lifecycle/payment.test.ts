import { paymentIdFor, SimulatedPaymentGateway } from '../../../../../src/adapters/payment/simulated-payment-gateway';
import { paymentStage } from '../../../../../src/application/stages/lifecycle/payment';
import { anOrderValidated } from '../../../../support/builders';
import { deliver, eventsOn, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

describe('the payment stage', () => {
  let fixture: Awaited<ReturnType<typeof lifecycleFixture>>;
  beforeEach(async () => (fixture = await lifecycleFixture({ paymentLimit: 5_000 })));

  const validated = (overrides: Parameters<typeof anOrderValidated>[0] = {}) =>
    recordOn(TEST_TOPICS.ordersValidated, fixture.codecs.validated.encode(anOrderValidated(overrides)).value, { timestamp: Date.parse('2026-11-22T10:00:02.000Z') });

  it('reads orders.validated and writes payments.processed or payments.failed, in one transaction', () => {
    const stage = paymentStage(fixture);
    expect(stage).toMatchObject({ kind: 'event', name: 'payment', ordering: 'concurrent', exactlyOnce: true });
    expect(stage.inputs.map((input) => input.topic)).toEqual(['orders.validated']);
    expect(Object.values(stage.outputs).map((output) => output.topic)).toEqual(['payments.processed', 'payments.failed']);
  });

  it('charges the total in the order’s currency, and carries lines and address on', async () => {
    const delivered = await deliver(paymentStage(fixture), validated({ order_id: 'o-paid', customer: 'C-3' }));
    expect(delivered.records.map((record) => [record.topic, record.key?.toString()])).toEqual([['payments.processed', 'o-paid']]);
    expect(eventsOn(delivered, 'payments.processed')).toEqual([
      {
        event_id: 'o-paid:payment-processed',
        event_type: 'payment-processed',
        order_id: 'o-paid',
        occurred_at: '2026-11-22T10:00:02.000Z',
        schema_version: 1,
        customer: 'C-3',
        total: 7,
        currency: 'EUR',
        payment_id: paymentIdFor('o-paid'),
        items: [
          { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
          { sku: 'MILK', quantity: 1, unit_price: 4 },
        ],
        shipping_address: { street: 'Main St 1', city: 'Springfield' },
      },
    ]);
    expect(fixture.ledger.chargesOf('o-paid')).toMatchObject([{ customer: 'C-3', amount: 7, currency: 'EUR', outcome: { status: 'charged' } }]);
  });

  it('charges a seed-shaped order its total', async () => {
    const delivered = await deliver(paymentStage(fixture), validated({ order_id: 'o-1001', total: 149.99, currency: 'USD', items: undefined, shipping_address: undefined }));
    const [processed] = eventsOn(delivered, 'payments.processed');
    expect(processed).toMatchObject({ total: 149.99, currency: 'USD' });
    expect(processed).not.toHaveProperty('items');
    expect(fixture.ledger.chargesOf('o-1001')).toMatchObject([{ amount: 149.99, outcome: { status: 'charged' } }]);
  });

  it('reports a decline as payments.failed, with the gateway’s code and reason', async () => {
    const delivered = await deliver(paymentStage(fixture), validated({ order_id: 'o-big', total: 6_000, items: undefined }));
    expect(delivered.records.map((record) => record.topic)).toEqual(['payments.failed']);
    expect(eventsOn(delivered, 'payments.failed')).toEqual([
      {
        event_id: 'o-big:payment-failed',
        event_type: 'payment-failed',
        order_id: 'o-big',
        occurred_at: '2026-11-22T10:00:02.000Z',
        schema_version: 1,
        customer: 'C-9',
        total: 6_000,
        currency: 'EUR',
        code: 'PAYMENT.LIMIT_EXCEEDED',
        reason: 'amount 6000 EUR is above the limit of 5000',
      },
    ]);
  });

  it.each([
    ['a charge', 7],
    ['a decline', 6_000],
  ])('answers a redelivered order (%s) byte for byte, charging it at most once', async (_case, total) => {
    const stage = paymentStage(fixture);
    const record = validated({ order_id: 'o-twice', total, items: undefined });
    const first = await deliver(stage, record);
    const again = await deliver(stage, record);
    const third = await deliver(paymentStage(fixture), record);
    expect(again.records).toEqual(first.records);
    expect(third.records).toEqual(first.records);
    expect(fixture.ledger.chargesOf('o-twice')).toHaveLength(1);
  });

  it('throws on a gateway outage (transient, retried), and charges once when the retry gets through', async () => {
    const draws = [0, 0.99];
    const flaky = new SimulatedPaymentGateway(fixture.ledger, { limit: 5_000, transientFailureRate: 0.5 }, () => draws.shift() ?? 0.99);
    const stage = paymentStage({ ...fixture, gateway: flaky });
    const record = validated({ order_id: 'o-flaky' });
    await expect(deliver(stage, record)).rejects.toThrow('timed out (simulated transient failure)');
    expect(fixture.ledger.chargesOf('o-flaky')).toHaveLength(0);
    expect((await deliver(stage, record)).records.map((r) => r.topic)).toEqual(['payments.processed']);
    expect(fixture.ledger.chargesOf('o-flaky')).toHaveLength(1);
  });
});
