import fc from 'fast-check';
import { statusUpdateIdOf } from '../../../../src/domain/lifecycle/event-id';
import { LifecycleEvent } from '../../../../src/domain/lifecycle/events';
import { OrderStatus } from '../../../../src/domain/lifecycle/order-status';
import { applyToView, canAdvance, createView, OrderView, ViewStep } from '../../../../src/domain/lifecycle/order-view';
import {
  anInventoryInsufficient,
  anInventoryReserved,
  anOrderPlaced,
  anOrderRejected,
  anOrderStatusUpdated,
  anOrderValidated,
  aPaymentFailed,
  aPaymentProcessed,
  aPaymentRefunded,
  aPicklistCreated,
  aShipmentCreated,
} from '../../../support/builders';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** Applies events one after another to the row `placed` starts, as the store does. */
const replay = (events: readonly LifecycleEvent[]): { view: OrderView; steps: ViewStep[] } => {
  const [placed, ...rest] = events;
  if (placed?.event_type !== 'placed') throw new Error('a replay starts with the placed event');
  let view = createView(placed);
  const steps: ViewStep[] = [];
  for (const event of rest) {
    const step = applyToView(view, event);
    steps.push(step);
    if (step.kind !== 'duplicate') view = step.view;
  }
  return { view, steps };
};

const statusUpdate = (orderId: string, status: OrderStatus, seconds: number, reason?: string) =>
  anOrderStatusUpdated({ order_id: orderId, event_id: statusUpdateIdOf(orderId, status), status, occurred_at: at(seconds), ...(reason === undefined ? {} : { reason }) });

/** One order's events as its lifecycle writes them, one second apart, for each way it can end. */
const LIFECYCLES: Record<string, (orderId: string) => LifecycleEvent[]> = {
  shipped: (o) => [
    anOrderPlaced({ order_id: o, occurred_at: at(0) }),
    anOrderValidated({ order_id: o, occurred_at: at(1) }),
    aPaymentProcessed({ order_id: o, occurred_at: at(2) }),
    anInventoryReserved({ order_id: o, occurred_at: at(3) }),
    aPicklistCreated({ order_id: o, occurred_at: at(4) }),
    aShipmentCreated({ order_id: o, occurred_at: at(4) }),
  ],
  rejected: (o) => [anOrderPlaced({ order_id: o, occurred_at: at(0) }), anOrderRejected({ order_id: o, occurred_at: at(1) })],
  declined: (o) => [
    anOrderPlaced({ order_id: o, occurred_at: at(0) }),
    anOrderValidated({ order_id: o, occurred_at: at(1) }),
    aPaymentFailed({ order_id: o, occurred_at: at(2) }),
  ],
  short: (o) => [
    anOrderPlaced({ order_id: o, occurred_at: at(0) }),
    anOrderValidated({ order_id: o, occurred_at: at(1) }),
    aPaymentProcessed({ order_id: o, occurred_at: at(2) }),
    anInventoryInsufficient({ order_id: o, occurred_at: at(3) }),
    aPaymentRefunded({ order_id: o, occurred_at: at(3) }),
  ],
};

describe('the order view row', () => {
  it('is created by a placed event with its totals, risk, lines and a shipping cost of 2 % of the total', () => {
    const view = createView(anOrderPlaced({ order_id: 'o-1', total: 149.99, occurred_at: at(0) }));
    expect(view).toEqual({
      orderId: 'o-1',
      status: 'placed',
      customer: 'C-9',
      channel: 'web',
      total: 149.99,
      currency: 'EUR',
      riskScore: 0.007,
      highRisk: false,
      shippingCost: 3,
      items: [
        { sku: 'APPLE', quantity: 2, unitPrice: 1.5 },
        { sku: 'MILK', quantity: 1, unitPrice: 4 },
      ],
      reasons: [],
      history: [{ eventId: 'o-1:placed', eventType: 'placed', status: 'placed', at: at(0) }],
      placedAt: at(0),
      updatedAt: at(0),
      version: 1,
    });
    expect(createView(anOrderPlaced({ items: undefined })).items).toBeUndefined();
  });

  it('follows a happy lifecycle to shipped, then a delivery, with payment id, picklist, shipment and history', () => {
    const { view, steps } = replay([...LIFECYCLES.shipped!('o-1'), statusUpdate('o-1', 'delivered', 9)]);
    expect(steps.map((s) => s.kind)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
    expect(view).toMatchObject({
      status: 'delivered',
      paymentId: 'pay_o-1',
      picklist: { picklistId: 'pl-o-1', assignedPicker: 'picker-1', items: [{ sku: 'APPLE', quantity: 2 }, { sku: 'MILK', quantity: 1 }] },
      shipment: { shipmentId: 'sh-o-1', shippingCost: 0.14 },
      reasons: [],
      updatedAt: at(9),
      version: 7,
    });
    expect(view.history.map((h) => [h.eventType, h.status])).toEqual([
      ['placed', 'placed'],
      ['validated', 'validated'],
      ['payment-processed', 'paid'],
      ['inventory-reserved', 'reserved'],
      ['picklist-created', 'reserved'],
      ['shipment-created', 'shipped'],
      ['status-updated', 'delivered'],
    ]);
  });

  it.each([
    ['rejected', 'rejected', [{ code: 'ORDER.TOTAL_MISMATCH', message: 'The lines add up to 7.00, but the total is 8.00' }]],
    ['declined', 'payment_failed', [{ code: 'PAYMENT.LIMIT_EXCEEDED', message: 'amount 7 EUR is above the limit of 5' }]],
    ['short', 'out_of_stock', [{ code: 'INVENTORY.INSUFFICIENT', message: 'MILK: 1 requested, 0 available' }]],
  ])('ends a %s order %s, with its reasons', (lifecycle, status, reasons) => {
    const { view } = replay(LIFECYCLES[lifecycle]!('o-1'));
    expect(view.status).toBe(status);
    expect(view.reasons).toEqual(reasons);
    if (lifecycle === 'short') expect(view).toMatchObject({ paymentId: 'pay_o-1', refundId: 'ref_o-1' });
  });

  it('skips the steps it has not seen: a payment moves a placed order to paid, a shipment a validated one to shipped', () => {
    const paid = replay([anOrderPlaced({ order_id: 'o-1' }), aPaymentProcessed({ order_id: 'o-1' })]).view;
    expect(paid.status).toBe('paid');
    expect(replay([anOrderPlaced({ order_id: 'o-2' }), anOrderValidated({ order_id: 'o-2' }), aShipmentCreated({ order_id: 'o-2' })]).view.status).toBe('shipped');
  });

  it('never moves a fact backwards: a late validation is ignored with a reason, in the history under the status it kept', () => {
    const { view, steps } = replay([anOrderPlaced({ order_id: 'o-1' }), aPaymentProcessed({ order_id: 'o-1' }), anOrderValidated({ order_id: 'o-1' })]);
    expect(steps[1]).toEqual({ kind: 'ignored', reason: 'validated changes no status: the order is paid, past validated', view });
    expect(view.status).toBe('paid');
    expect(view.history[2]).toMatchObject({ eventType: 'validated', status: 'paid' });
  });

  it('never moves out of a final status, yet records the late fact’s data', () => {
    const { view, steps } = replay([anOrderPlaced({ order_id: 'o-1' }), statusUpdate('o-1', 'cancelled', 1, 'The customer cancelled'), aPaymentProcessed({ order_id: 'o-1' })]);
    expect(steps[1]).toMatchObject({ kind: 'ignored', reason: 'payment-processed changes no status: the order is cancelled, which is final' });
    expect(view).toMatchObject({ status: 'cancelled', paymentId: 'pay_o-1', reasons: [{ code: 'STATUS.CANCELLED', message: 'The customer cancelled' }] });
  });

  it('moves by a status update only where the machine allows: no cancelling a reserved order, no delivery before shipping', () => {
    const reserved = [anOrderPlaced({ order_id: 'o-1' }), aPaymentProcessed({ order_id: 'o-1' }), anInventoryReserved({ order_id: 'o-1' })];
    const cancel = replay([...reserved, statusUpdate('o-1', 'cancelled', 5, 'too late')]);
    expect(cancel.steps[2]).toMatchObject({ kind: 'ignored', reason: 'status cancelled refused: an order that is reserved cannot become cancelled' });
    // A refused update's reason is not one of the order's.
    expect(cancel.view).toMatchObject({ status: 'reserved', reasons: [] });
    expect(replay([...reserved, statusUpdate('o-1', 'delivered', 5)]).steps[2]).toMatchObject({ kind: 'ignored' });
    // Strict: a status update skips nothing, unlike a fact.
    expect(replay([anOrderPlaced({ order_id: 'o-2' }), statusUpdate('o-2', 'paid', 1)]).steps[0]).toMatchObject({
      kind: 'ignored',
      reason: 'status paid refused: an order that is placed cannot become paid',
    });
    expect(replay([anOrderPlaced({ order_id: 'o-3' }), statusUpdate('o-3', 'validated', 1)]).view.status).toBe('validated');
  });

  it('changes nothing for a duplicate event id, whatever the event carries now', () => {
    const placed = anOrderPlaced({ order_id: 'o-1' });
    const { view } = replay([placed, aPaymentProcessed({ order_id: 'o-1' })]);
    expect(applyToView(view, aPaymentProcessed({ order_id: 'o-1', payment_id: 'other' }))).toEqual({ kind: 'duplicate' });
    expect(applyToView(view, placed)).toEqual({ kind: 'duplicate' });
  });

  it('refuses an event about another order: a bug in its caller', () => {
    expect(() => applyToView(createView(anOrderPlaced({ order_id: 'o-1' })), aPaymentProcessed({ order_id: 'o-2' }))).toThrow(/about order o-2, not o-1/);
  });

  it('advances a fact only along its target’s path', () => {
    expect(canAdvance('placed', 'shipped')).toBe(true);
    expect(canAdvance('validated', 'rejected')).toBe(false);
    expect(canAdvance('paid', 'payment_failed')).toBe(false);
    expect(canAdvance('paid', 'out_of_stock')).toBe(true);
    expect(canAdvance('shipped', 'reserved')).toBe(false);
    expect(canAdvance('rejected', 'validated')).toBe(false);
    expect(canAdvance('paid', 'paid')).toBe(false);
  });

  it('reaches the same row from any order of an order’s facts after its placement (but for the history’s order), with every event once', () => {
    const comparable = (view: OrderView) => ({ ...view, history: view.history.map((h) => h.eventId).sort() });
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(LIFECYCLES)),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.boolean(),
        (lifecycle, seed, redeliver) => {
          const events = LIFECYCLES[lifecycle]!('o-1');
          const [placed, ...facts] = events;
          const shuffled = fc.sample(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), { seed, numRuns: 1 })[0]!;
          // Redeliveries anywhere change nothing either.
          const arrivals = redeliver ? [...shuffled, ...shuffled.slice(0, 2)] : shuffled;
          const expected = replay(events).view;
          const actual = replay([placed!, ...arrivals]).view;
          expect(comparable(actual)).toEqual(comparable(expected));
        },
      ),
    );
  });
});
