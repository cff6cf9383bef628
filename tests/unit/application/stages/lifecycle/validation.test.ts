import { validationStage } from '../../../../../src/application/stages/lifecycle/validation';
import { EventStage } from '../../../../../src/application/stages/stage';
import { aMessageContext, anItemisedWireOrder, anOrderPlaced, aWireOrder, wireBytes } from '../../../../support/builders';
import { deliver, eventsOn, lifecycleFixture, recordOn, TEST_TOPICS } from '../../../../support/lifecycle-fixtures';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const MINUTE = 60_000;

describe('the validation stage', () => {
  let fixture: Awaited<ReturnType<typeof lifecycleFixture>>;
  let stage: EventStage;

  beforeEach(async () => {
    fixture = await lifecycleFixture();
    stage = validationStage(fixture);
  });

  /** A placed order through both steps: the orders topic, then the repartition topic. */
  const validate = async (wire: Record<string, unknown>, recordTimestamp = T0 + 1_000) => {
    const placed = await deliver(stage, recordOn(TEST_TOPICS.orders, wireBytes(wire), { timestamp: recordTimestamp }));
    if (placed.outcome.kind === 'reject') return { placed, judged: placed };
    const [repartitioned] = placed.records;
    return { placed, judged: await deliver(stage, repartitioned!) };
  };

  it('reads the orders and its own repartition topic, in order, writing in one transaction', () => {
    expect(stage).toMatchObject({ kind: 'event', name: 'validation', ordering: 'ordered', exactlyOnce: true });
    expect(stage.inputs.map((input) => input.topic)).toEqual(['orders.v1', 'orders.by-customer']);
    expect(Object.fromEntries(Object.entries(stage.outputs).map(([name, output]) => [name, output.topic]))).toEqual({
      'by-customer': 'orders.by-customer',
      validated: 'orders.validated',
      rejected: 'orders.rejected',
    });
  });

  describe('step 1: the placed order, re-keyed by customer', () => {
    it('carries a seed-shaped order on with its risk score, the default currency and its event time', async () => {
      const { placed } = await validate(aWireOrder({ id: 'o-1002', customer: 'C-7', total: 879, channel: 'partner' }));
      expect(placed.records.map((record) => [record.topic, record.key?.toString()])).toEqual([['orders.by-customer', 'C-7']]);
      expect(eventsOn(placed, 'orders.by-customer')).toEqual([
        {
          event_id: 'o-1002:placed',
          event_type: 'placed',
          order_id: 'o-1002',
          occurred_at: '2026-11-22T10:00:00.000Z',
          schema_version: 1,
          customer: 'C-7',
          total: 879,
          currency: 'USD',
          channel: 'partner',
          risk_score: 0.3,
          high_risk: true,
        },
      ]);
    });

    it('takes the record timestamp as event time when the order has no produced_at', async () => {
      const { produced_at: _none, ...order } = aWireOrder();
      const { placed } = await validate(order, T0 + 42_000);
      expect(eventsOn(placed, 'orders.by-customer')[0]).toMatchObject({ occurred_at: '2026-11-22T10:00:42.000Z' });
    });

    it('carries items, currency and address as the order gave them', async () => {
      const { placed } = await validate(anItemisedWireOrder({ id: 'o-items' }));
      expect(eventsOn(placed, 'orders.by-customer')[0]).toMatchObject({
        currency: 'EUR',
        items: [
          { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
          { sku: 'MILK', quantity: 1, unit_price: 4 },
        ],
        shipping_address: { name: 'A. Customer', street: 'Main St 1', city: 'Springfield', postcode: '12345', country: 'US' },
      });
    });

    it.each([
      ['an empty message', 'MESSAGE.EMPTY', null],
      ['a type error', 'ORDER.SCHEMA_VIOLATION', wireBytes(aWireOrder({ items: [{ sku: 'A', quantity: '2', unit_price: 1 }] }))],
      ['a negative total', 'ORDER.INVALID_TOTAL', wireBytes(aWireOrder({ total: -1 }))],
      ['an unknown channel', 'ORDER.UNKNOWN_CHANNEL', wireBytes(aWireOrder({ channel: 'fax' }))],
      ['a message over the size limit', 'MESSAGE.TOO_LARGE', Buffer.alloc(1_048_577, 0x20)],
    ])('dead-letters %s as the archive does (%s)', async (_case, code, value) => {
      const delivered = await deliver(stage, recordOn(TEST_TOPICS.orders, value));
      expect(delivered.outcome).toMatchObject({ kind: 'reject', rejection: { code } });
      expect(delivered.records).toEqual([]);
    });
  });

  describe('step 2: the business rules', () => {
    it('validates a seed-shaped order on its total alone', async () => {
      const { judged } = await validate(aWireOrder({ id: 'o-1001', total: 149.99 }));
      expect(judged.records.map((record) => [record.topic, record.key?.toString()])).toEqual([['orders.validated', 'o-1001']]);
      expect(eventsOn(judged, 'orders.validated')).toEqual([
        {
          event_id: 'o-1001:validated',
          event_type: 'validated',
          order_id: 'o-1001',
          // The repartition record's timestamp: when its cause was written, after the order's event time.
          occurred_at: '2026-11-22T10:00:02.000Z',
          schema_version: 1,
          customer: 'C-9',
          total: 149.99,
          currency: 'USD',
          channel: 'web',
          risk_score: 0.14999,
          high_risk: false,
        },
      ]);
      expect(fixture.spendLimit.judged).toEqual([{ customer: 'C-9', orderId: 'o-1001', eventTimeMs: T0, amount: 149.99 }]);
    });

    it('validates an itemised order whose lines add up, keeping its lines and address', async () => {
      const { judged } = await validate(anItemisedWireOrder({ id: 'o-items' }));
      expect(eventsOn(judged, 'orders.validated')[0]).toMatchObject({
        total: 7,
        currency: 'EUR',
        items: [
          { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
          { sku: 'MILK', quantity: 1, unit_price: 4 },
        ],
        shipping_address: { city: 'Springfield' },
      });
    });

    it.each([
      ['a quantity of 0', { items: [{ sku: 'A', quantity: 0, unit_price: 1 }], total: 0 }, ['ORDER.INVALID_QUANTITY']],
      ['a fractional quantity', { items: [{ sku: 'A', quantity: 1.5, unit_price: 2 }], total: 3 }, ['ORDER.INVALID_QUANTITY']],
      ['a quantity no stock can hold', { items: [{ sku: 'A', quantity: 1e20, unit_price: 0 }], total: 0 }, ['ORDER.INVALID_QUANTITY']],
      ['a negative unit price', { items: [{ sku: 'A', quantity: 1, unit_price: -1 }], total: 0 }, ['ORDER.INVALID_UNIT_PRICE']],
      ['lines that do not add up', { items: [{ sku: 'A', quantity: 2, unit_price: 10 }], total: 25 }, ['ORDER.TOTAL_MISMATCH']],
      ['an empty item list', { items: [], total: 0 }, ['ORDER.INVALID_QUANTITY']],
      [
        'several bad lines',
        { items: [{ sku: 'A', quantity: 0, unit_price: 1 }, { sku: 'B', quantity: 1, unit_price: -2 }], total: 1 },
        ['ORDER.INVALID_QUANTITY', 'ORDER.INVALID_UNIT_PRICE'],
      ],
    ])('rejects %s with every reason, without judging its spend', async (_case, overrides, codes) => {
      const { judged } = await validate(aWireOrder({ id: 'o-bad', ...overrides }));
      const [rejected] = eventsOn(judged, 'orders.rejected');
      expect(judged.records.map((record) => [record.topic, record.key?.toString()])).toEqual([['orders.rejected', 'o-bad']]);
      expect(rejected).toMatchObject({ event_id: 'o-bad:rejected', event_type: 'rejected', order_id: 'o-bad', customer: 'C-9', currency: 'USD' });
      expect((rejected!.reasons as { code: string; message: string }[]).map((reason) => reason.code)).toEqual(codes);
      expect(fixture.spendLimit.judged).toEqual([]);
    });

    it('holds each customer to the spend limit over the last hour of event time, across orders', async () => {
      const order = (id: string, customer: string, minute: number, total: number) =>
        aWireOrder({ id, customer, total, channel: 'partner', produced_at: new Date(T0 + minute * MINUTE).toISOString() });
      const outcomeOf = async (wire: Record<string, unknown>) => {
        const { judged } = await validate(wire);
        return judged.records.map((record) => record.topic.replace('orders.', ''))[0];
      };
      expect(await outcomeOf(order('o-1', 'C-1', 0, 6_000))).toBe('validated');
      expect(await outcomeOf(order('o-2', 'C-2', 5, 9_000))).toBe('validated');
      const { judged } = await validate(order('o-3', 'C-1', 10, 5_000));
      expect(eventsOn(judged, 'orders.rejected')[0]).toMatchObject({
        reasons: [
          {
            code: 'ORDER.SPEND_LIMIT_EXCEEDED',
            message: 'The customer spent 6000.00 in the 60 minutes up to this order; its 5000.00 would take them over the spend limit of 10000.00',
          },
        ],
      });
      // The refused order spent nothing, so a smaller one still fits; then the first leaves the window.
      expect(await outcomeOf(order('o-4', 'C-1', 20, 4_000))).toBe('validated');
      expect(await outcomeOf(order('o-5', 'C-1', 30, 1))).toBe('rejected');
      expect(await outcomeOf(order('o-6', 'C-1', 61, 1))).toBe('validated');
      // An order refused for its lines spends nothing either.
      expect(await outcomeOf({ ...order('o-7', 'C-2', 6, 1_000), items: [{ sku: 'A', quantity: 1, unit_price: 1 }] })).toBe('rejected');
      expect(await outcomeOf(order('o-8', 'C-2', 7, 1_000))).toBe('validated');
    });

    it('answers a redelivered order byte for byte as the first time, spending once', async () => {
      const placed = recordOn(TEST_TOPICS.ordersByCustomer, fixture.codecs.placed.encode(anOrderPlaced({ order_id: 'o-big', total: 9_000, items: undefined })).value);
      const first = await deliver(stage, placed);
      const second = await deliver(stage, placed);
      expect(second.records).toEqual(first.records);
      expect(first.records[0]!.topic).toBe('orders.validated');
      // Spend counted once: another 1,000 still fits under 10,000.
      const next = await deliver(
        stage,
        recordOn(TEST_TOPICS.ordersByCustomer, fixture.codecs.placed.encode(anOrderPlaced({ order_id: 'o-small', total: 1_000, items: undefined })).value),
      );
      expect(next.records[0]!.topic).toBe('orders.validated');
    });

    it('gives a redelivered rejection for spend the same bytes, even after later orders', async () => {
      const encode = (orderId: string, total: number, minute: number) =>
        recordOn(
          TEST_TOPICS.ordersByCustomer,
          fixture.codecs.placed.encode(anOrderPlaced({ order_id: orderId, total, items: undefined, occurred_at: new Date(T0 + minute * MINUTE).toISOString() })).value,
        );
      await deliver(stage, encode('o-a', 9_000, 0));
      const refused = await deliver(stage, encode('o-b', 2_000, 1));
      await deliver(stage, encode('o-c', 500, 2));
      expect((await deliver(stage, encode('o-b', 2_000, 1))).records).toEqual(refused.records);
      expect(refused.records[0]!.topic).toBe('orders.rejected');
    });

    it('never dates an event before its cause, and ignores a record timestamp that is not a time', async () => {
      const event = anOrderPlaced({ occurred_at: '2026-11-22T12:00:00.000Z', items: undefined });
      const early = await stage.handle({ kind: 'placed', event }, aMessageContext({ timestamp: T0 }));
      const none = await stage.handle({ kind: 'placed', event }, aMessageContext({ timestamp: -1 }));
      for (const outcome of [early, none]) {
        expect(outcome).toMatchObject({ kind: 'emit', emissions: [{ output: 'validated', event: { occurred_at: '2026-11-22T12:00:00.000Z' } }] });
      }
    });

    it('dead-letters a repartition record it cannot read', async () => {
      const delivered = await deliver(stage, recordOn(TEST_TOPICS.ordersByCustomer, wireBytes({ ...anOrderPlaced(), total: 'lots' })));
      expect(delivered.outcome).toMatchObject({ kind: 'reject', rejection: { code: 'EVENT.SCHEMA_VIOLATION', stage: 'decode' } });
    });

    it('fails transiently (throws, to be retried) when the spend store is down', async () => {
      fixture.spendLimit.judge = async () => Promise.reject(new Error('connection refused'));
      const down = validationStage(fixture);
      await expect(deliver(down, recordOn(TEST_TOPICS.ordersByCustomer, fixture.codecs.placed.encode(anOrderPlaced()).value))).rejects.toThrow('connection refused');
    });
  });
});
