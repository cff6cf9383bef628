import { randomUUID } from 'node:crypto';
import { ClockPort } from '../../src/application/ports/clock.port';
import { HeldEventBounds, OrderView, OrderViewQueries, OrderViewStore } from '../../src/application/ports/order-view.port';
import { HeldEventsFullError } from '../../src/application/order-view';
import { statusUpdateIdOf } from '../../src/domain/lifecycle/event-id';
import { LifecycleEvent } from '../../src/domain/lifecycle/events';
import { OrderStatus } from '../../src/domain/lifecycle/order-status';
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
} from '../support/builders';

export interface OrderViewInstance {
  readonly store: OrderViewStore;
  readonly queries: OrderViewQueries;
  /** Ends what the instance holds (a listening connection); absent when it holds nothing. */
  readonly close?: () => Promise<void>;
}

export interface OrderViewFixture extends OrderViewInstance {
  /** Another instance over the same rows, as another process has; absent where rows are the instance's own (in memory). */
  readonly another?: () => Promise<OrderViewInstance>;
}

export interface OrderViewSettings {
  readonly bounds: HeldEventBounds;
  readonly clock: ClockPort;
}

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const TOPIC = 'orders.status';

/** A clock the test moves. */
class TestClock implements ClockPort {
  ms = T0;
  now(): number {
    return this.ms;
  }
}

const eventually = async (check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('eventually: the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/**
 * The contract of every order view (in memory, PostgreSQL): the domain's rules applied atomically
 * and idempotently, events held for orders not seen yet within their bounds and applied in
 * occurred_at order when the order arrives, pages by placement that neither skip nor repeat, and
 * change notifications. Each fixture starts from an empty view.
 */
export const describeOrderViewContract = (
  name: string,
  makeFixture: (settings: OrderViewSettings) => Promise<OrderViewFixture>,
  options: { /** Instances share rows (fixture.another is set). */ readonly shared: boolean },
): void => {
  describe(`${name} honours the OrderView contract`, () => {
    let order: (name: string) => string;
    let clock: TestClock;
    const open: OrderViewInstance[] = [];

    const viewOf = async (bounds: HeldEventBounds = { maxEvents: 1_000, maxAgeMs: 60_000 }): Promise<OrderViewFixture> => {
      const fixture = await makeFixture({ bounds, clock });
      open.push(fixture);
      return fixture;
    };
    const anotherOf = async (fixture: OrderViewFixture): Promise<OrderViewInstance> => {
      const other = await fixture.another!();
      open.push(other);
      return other;
    };

    beforeEach(() => {
      const run = randomUUID().slice(0, 8);
      order = (n) => `${run}-o-${n}`;
      clock = new TestClock();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((instance) => instance.close?.()));
    });

    const statusUpdate = (orderId: string, status: OrderStatus, seconds: number, reason?: string): LifecycleEvent => {
      const update = anOrderStatusUpdated({ order_id: orderId, event_id: statusUpdateIdOf(orderId, status), status, occurred_at: at(seconds) });
      if (reason !== undefined) return { ...update, reason };
      const { reason: _default, ...withoutReason } = update;
      return withoutReason;
    };
    const applyAll = async (store: OrderViewStore, events: readonly LifecycleEvent[]) => {
      const outcomes = [];
      for (const event of events) outcomes.push(await store.apply(event, TOPIC));
      return outcomes;
    };
    const statusOf = async (queries: OrderViewQueries, orderId: string) => (await queries.get(orderId))?.status;

    it('creates the row on a placed event, with its totals, risk, lines and shipping cost; an unknown order has none', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      const outcome = await store.apply(anOrderPlaced({ order_id: o, total: 149.99, occurred_at: at(0) }), 'orders.by-customer');
      const expected: OrderView = {
        orderId: o,
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
        history: [{ eventId: `${o}:placed`, eventType: 'placed', status: 'placed', at: at(0) }],
        placedAt: at(0),
        updatedAt: at(0),
        version: 1,
      };
      expect(outcome).toEqual({ kind: 'applied', view: expected });
      expect(await queries.get(o)).toEqual(expected);
      expect(await queries.get(order('unknown'))).toBeUndefined();
      // A seed-shaped order has no lines.
      await store.apply(anOrderPlaced({ order_id: order('seed'), items: undefined }), 'orders.by-customer');
      expect((await queries.get(order('seed')))?.items).toBeUndefined();
    });

    it('follows every event type of a shipped order, and a delivery, into status, data and history', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      const outcomes = await applyAll(store, [
        anOrderPlaced({ order_id: o, occurred_at: at(0) }),
        anOrderValidated({ order_id: o, occurred_at: at(1) }),
        aPaymentProcessed({ order_id: o, occurred_at: at(2) }),
        anInventoryReserved({ order_id: o, occurred_at: at(3) }),
        aPicklistCreated({ order_id: o, occurred_at: at(4) }),
        aShipmentCreated({ order_id: o, occurred_at: at(5) }),
        statusUpdate(o, 'delivered', 6),
      ]);
      expect(outcomes.map((outcome) => outcome.kind)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
      const view = await queries.get(o);
      expect(view).toMatchObject({
        status: 'delivered',
        paymentId: `pay_${o}`,
        picklist: { picklistId: `pl-${o}`, assignedPicker: 'picker-1', items: [{ sku: 'APPLE', quantity: 2 }, { sku: 'MILK', quantity: 1 }] },
        shipment: { shipmentId: `sh-${o}`, shippingCost: 0.14 },
        reasons: [],
        updatedAt: at(6),
        version: 7,
      });
      expect(view?.history.map((h) => [h.eventId, h.status, h.at])).toEqual([
        [`${o}:placed`, 'placed', at(0)],
        [`${o}:validated`, 'validated', at(1)],
        [`${o}:payment-processed`, 'paid', at(2)],
        [`${o}:inventory-reserved`, 'reserved', at(3)],
        [`${o}:picklist-created`, 'reserved', at(4)],
        [`${o}:shipment-created`, 'shipped', at(5)],
        [statusUpdateIdOf(o, 'delivered'), 'delivered', at(6)],
      ]);
    });

    it('ends rejected, declined, short and cancelled orders with their reasons', async () => {
      const { store, queries } = await viewOf();
      const [r, d, s, c] = [order('r'), order('d'), order('s'), order('c')];
      await applyAll(store, [
        anOrderPlaced({ order_id: r }),
        anOrderRejected({ order_id: r }),
        anOrderPlaced({ order_id: d }),
        anOrderValidated({ order_id: d }),
        aPaymentFailed({ order_id: d }),
        anOrderPlaced({ order_id: s }),
        aPaymentProcessed({ order_id: s }),
        anInventoryInsufficient({ order_id: s, shortages: [{ sku: 'MILK', requested: 3, available: 1 }, { sku: 'EGG', requested: 1, available: 0 }] }),
        aPaymentRefunded({ order_id: s }),
        anOrderPlaced({ order_id: c }),
        statusUpdate(c, 'cancelled', 1, 'The customer cancelled'),
      ]);
      expect(await queries.get(r)).toMatchObject({ status: 'rejected', reasons: [{ code: 'ORDER.TOTAL_MISMATCH', message: 'The lines add up to 7.00, but the total is 8.00' }] });
      expect(await queries.get(d)).toMatchObject({ status: 'payment_failed', reasons: [{ code: 'PAYMENT.LIMIT_EXCEEDED', message: 'amount 7 EUR is above the limit of 5' }] });
      expect(await queries.get(s)).toMatchObject({
        status: 'out_of_stock',
        paymentId: `pay_${s}`,
        refundId: `ref_${s}`,
        reasons: [
          { code: 'INVENTORY.INSUFFICIENT', message: 'MILK: 3 requested, 1 available' },
          { code: 'INVENTORY.INSUFFICIENT', message: 'EGG: 1 requested, 0 available' },
        ],
      });
      expect(await queries.get(c)).toMatchObject({ status: 'cancelled', reasons: [{ code: 'STATUS.CANCELLED', message: 'The customer cancelled' }] });
    });

    it('changes nothing for a duplicate event id, the placed event’s included', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      const events = [anOrderPlaced({ order_id: o }), aPaymentProcessed({ order_id: o }), statusUpdate(o, 'cancelled', 5)];
      await applyAll(store, events);
      const before = await queries.get(o);
      expect(await applyAll(store, events)).toEqual([{ kind: 'duplicate' }, { kind: 'duplicate' }, { kind: 'duplicate' }]);
      expect(await store.apply(aPaymentProcessed({ order_id: o, payment_id: 'another' }), TOPIC)).toEqual({ kind: 'duplicate' });
      expect(await queries.get(o)).toEqual(before);
    });

    it('applies concurrent events of one order each once, none lost', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      await store.apply(anOrderPlaced({ order_id: o }), TOPIC);
      const events = [anOrderValidated({ order_id: o }), aPaymentProcessed({ order_id: o }), anInventoryReserved({ order_id: o }), aPicklistCreated({ order_id: o }), aShipmentCreated({ order_id: o })];
      const outcomes = await Promise.all([...events, ...events].map((event) => store.apply(event, TOPIC)));
      expect(outcomes.filter((outcome) => outcome.kind === 'duplicate')).toHaveLength(5);
      const view = await queries.get(o);
      expect(view).toMatchObject({ status: 'shipped', version: 6, shipment: { shipmentId: `sh-${o}` }, picklist: { picklistId: `pl-${o}` } });
      expect(new Set(view?.history.map((h) => h.eventId)).size).toBe(6);
    });

    it('refuses what the status machine forbids and never moves back: ignored with a reason, in the history', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      await applyAll(store, [anOrderPlaced({ order_id: o }), aPaymentProcessed({ order_id: o }), anInventoryReserved({ order_id: o })]);
      expect(await store.apply(statusUpdate(o, 'cancelled', 5), TOPIC)).toEqual({
        kind: 'ignored',
        reason: 'status cancelled refused: an order that is reserved cannot become cancelled',
      });
      expect(await store.apply(anOrderValidated({ order_id: o }), TOPIC)).toEqual({ kind: 'ignored', reason: 'validated changes no status: the order is reserved, past validated' });
      const view = await queries.get(o);
      expect(view?.status).toBe('reserved');
      expect(view?.history.slice(-2).map((h) => [h.eventType, h.status])).toEqual([
        ['status-updated', 'reserved'],
        ['validated', 'reserved'],
      ]);
      const f = order('final');
      await applyAll(store, [anOrderPlaced({ order_id: f }), anOrderRejected({ order_id: f })]);
      expect(await store.apply(aPaymentProcessed({ order_id: f }), TOPIC)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/rejected, which is final/) });
      expect(await statusOf(queries, f)).toBe('rejected');
    });

    it('holds events that arrive before their order and applies them, in occurred_at order, when it arrives', async () => {
      const { store, queries } = await viewOf();
      const o = order('1');
      // Arrival order would refuse the delivery (placed cannot become delivered) and end at shipped.
      expect(await store.apply(statusUpdate(o, 'delivered', 9), TOPIC)).toEqual({ kind: 'held' });
      expect(await store.apply(aShipmentCreated({ order_id: o, occurred_at: at(5) }), 'shipments.created')).toEqual({ kind: 'held' });
      expect(await store.apply(aPaymentProcessed({ order_id: o, occurred_at: at(2) }), 'payments.processed')).toEqual({ kind: 'held' });
      // A redelivery of a held event is held once.
      expect(await store.apply(aPaymentProcessed({ order_id: o, occurred_at: at(2) }), 'payments.processed')).toEqual({ kind: 'held' });
      expect(await queries.get(o)).toBeUndefined();
      const outcome = await store.apply(anOrderPlaced({ order_id: o, occurred_at: at(0) }), 'orders.by-customer');
      expect(outcome).toMatchObject({ kind: 'applied', view: { status: 'delivered', paymentId: `pay_${o}`, version: 4 } });
      const view = await queries.get(o);
      expect(view?.history.map((h) => [h.eventType, h.status])).toEqual([
        ['placed', 'placed'],
        ['payment-processed', 'paid'],
        ['shipment-created', 'shipped'],
        ['status-updated', 'delivered'],
      ]);
      // Applied, so gone from the held events: nothing expires for it, and a redelivery is a duplicate.
      clock.ms += 3_600_000;
      expect(await store.expireHeld(clock.ms)).toEqual([]);
      expect(await store.apply(aShipmentCreated({ order_id: o, occurred_at: at(5) }), 'shipments.created')).toEqual({ kind: 'duplicate' });
    });

    it('expires held events by age, with their topic and VIEW.ORDER_UNKNOWN, each once', async () => {
      const { store, queries } = await viewOf({ maxEvents: 100, maxAgeMs: 1_000 });
      const [x, y] = [order('x'), order('y')];
      const xEvent = statusUpdate(x, 'cancelled', 1);
      await store.apply(xEvent, 'orders.status');
      clock.ms += 600;
      await store.apply(aPaymentProcessed({ order_id: y }), 'payments.processed');
      expect(await store.expireHeld(T0 + 999)).toEqual([]);
      const expired = await store.expireHeld(T0 + 1_000);
      expect(expired).toEqual([{ event: xEvent, topic: 'orders.status', code: 'VIEW.ORDER_UNKNOWN', message: expect.stringMatching(/^VIEW\.ORDER_UNKNOWN: order .*-o-x did not arrive within 1000 ms/) }]);
      expect(await store.expireHeld(T0 + 1_000)).toEqual([]);
      expect((await store.expireHeld(T0 + 1_600)).map((e) => [e.event.order_id, e.topic])).toEqual([[y, 'payments.processed']]);
      // An order that arrives after its events expired starts from its placement alone.
      await store.apply(anOrderPlaced({ order_id: x }), 'orders.by-customer');
      expect(await queries.get(x)).toMatchObject({ status: 'placed', version: 1 });
    });

    it('refuses a hold past the count as a transient failure, expiring nothing, and holds again once a placement frees room', async () => {
      const { store, queries } = await viewOf({ maxEvents: 3, maxAgeMs: 60_000 });
      const ids = ['a', 'b', 'c', 'd'].map(order);
      for (const id of ids.slice(0, 3)) {
        await store.apply(aPaymentProcessed({ order_id: id }), 'payments.processed');
        clock.ms += 10;
      }
      const fourth = aPaymentProcessed({ order_id: ids[3]! });
      await expect(store.apply(fourth, 'payments.processed')).rejects.toThrow(HeldEventsFullError);
      await expect(store.apply(fourth, 'payments.processed')).rejects.toThrow(/holds 3 events \(ORDERFLOW_VIEW_HOLD_MAX_EVENTS\) for orders it has not seen/);
      // A redelivery of an event already held is no new hold.
      expect(await store.apply(aPaymentProcessed({ order_id: ids[0]! }), 'payments.processed')).toEqual({ kind: 'held' });
      expect(await store.expireHeld(clock.ms)).toEqual([]);
      // The first order arrives: its event is applied, which frees room for the fourth.
      await store.apply(anOrderPlaced({ order_id: ids[0]! }), 'orders.by-customer');
      expect(await statusOf(queries, ids[0]!)).toBe('paid');
      expect(await store.apply(fourth, 'payments.processed')).toEqual({ kind: 'held' });
      await store.apply(anOrderPlaced({ order_id: ids[3]! }), 'orders.by-customer');
      expect(await statusOf(queries, ids[3]!)).toBe('paid');
    });

    it('lists by placement with status and customer filters, limits and cursors', async () => {
      const { store, queries } = await viewOf();
      const customer = `C-${order('list')}`;
      const ids: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        const id = order(`l${i}`);
        ids.push(id);
        // Two orders share each instant: the order id breaks the tie.
        await store.apply(anOrderPlaced({ order_id: id, customer, occurred_at: at(Math.floor(i / 2)) }), 'orders.by-customer');
        if (i % 3 === 0) await store.apply(anOrderRejected({ order_id: id, customer }), TOPIC);
      }
      await store.apply(anOrderPlaced({ order_id: order('other'), customer: `${customer}-other` }), 'orders.by-customer');
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await queries.list({ customer, limit: 3, ...(cursor === undefined ? {} : { cursor }) });
        pages.push(page.orders.map((row) => row.orderId));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(pages).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
      expect((await queries.list({ customer, status: 'rejected', limit: 500 })).orders.map((row) => row.orderId)).toEqual([ids[0], ids[3], ids[6]]);
      const exact = await queries.list({ customer, status: 'placed', limit: 4 });
      expect(exact.orders.map((row) => row.orderId)).toEqual([ids[1], ids[2], ids[4], ids[5]]);
      expect(exact.nextCursor).toBeUndefined();
      expect((await queries.list({ customer: `${customer}-nobody`, limit: 10 })).orders).toEqual([]);
      // Status alone: every row with it, and only those.
      const placed = await queries.list({ status: 'placed', limit: 500 });
      expect(placed.orders.every((row) => row.status === 'placed')).toBe(true);
      expect(placed.orders.map((row) => row.orderId)).toEqual(expect.arrayContaining([ids[1], ids[2], order('other')]));
    });

    it('neither skips nor repeats a row while rows are inserted between pages', async () => {
      const { store, queries } = await viewOf();
      const customer = `C-${order('pages')}`;
      const place = (id: string, seconds: number) => store.apply(anOrderPlaced({ order_id: id, customer, occurred_at: at(seconds) }), 'orders.by-customer');
      const first: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        first.push(order(`p${String(i).padStart(2, '0')}`));
        await place(first[i]!, i * 10);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let inserted = 0;
      do {
        const page = await queries.list({ customer, limit: 4, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.orders.map((row) => row.orderId));
        cursor = page.nextCursor;
        // Behind the cursor, at it, and ahead of it.
        await place(order(`n${inserted++}`), 0);
        await place(order(`n${inserted++}`), (seen.length - 1) * 10);
        await place(order(`n${inserted++}`), 500);
      } while (cursor !== undefined);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => first.includes(id))).toEqual(first);
    });

    it.each([
      [{ limit: 0 }, /Invalid limit 0: expected a whole number from 1 to 500/],
      [{ limit: 501 }, /Invalid limit 501/],
      [{ limit: 1.5 }, /Invalid limit 1.5/],
      [{ limit: 10, cursor: 'not-a-cursor' }, /Invalid cursor "not-a-cursor"/],
      [{ limit: 10, cursor: Buffer.from('["yesterday","o-1"]').toString('base64url') }, /Invalid cursor/],
      [{ limit: 10, status: 'lost' as OrderStatus }, /Invalid status "lost": expected one of placed, validated/],
    ])('refuses the query %j with a RangeError naming what is wrong', async (query, message) => {
      const { queries } = await viewOf();
      await expect(queries.list(query)).rejects.toThrow(RangeError);
      await expect(queries.list(query)).rejects.toThrow(message);
    });

    it('tells listeners the order id of every change, a held event’s application and a refused move included, and stops on unsubscribe', async () => {
      const { store, queries } = await viewOf();
      const heard: string[] = [];
      const unsubscribe = queries.onChange((orderId) => heard.push(orderId));
      const [a, b] = [order('a'), order('b')];
      await store.apply(aPaymentProcessed({ order_id: b }), TOPIC);
      await store.apply(anOrderPlaced({ order_id: a }), TOPIC);
      await store.apply(anOrderPlaced({ order_id: b }), TOPIC);
      await store.apply(anOrderPlaced({ order_id: b }), TOPIC);
      await store.apply(anOrderValidated({ order_id: b }), TOPIC);
      await eventually(() => heard.includes(a) && heard.filter((id) => id === b).length >= 2);
      expect(new Set(heard)).toEqual(new Set([a, b]));
      unsubscribe();
      const count = heard.length;
      await store.apply(aPaymentProcessed({ order_id: a }), TOPIC);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toHaveLength(count);
    });

    // Only where rows are shared (PostgreSQL): the in-memory view's rows, held events and listeners
    // are its own, so it does not register these cases rather than reporting them skipped.
    const shared = options.shared ? it : (() => undefined) as unknown as typeof it;

    shared('tells listeners of changes made through another instance on the same rows', async () => {
      const fixture = await viewOf();
      const other = await anotherOf(fixture);
      const heard = new Set<string>();
      fixture.queries.onChange((orderId) => heard.add(orderId));
      // The listening connection may still be starting: place orders until one is heard, then all later ones are.
      const placed: string[] = [];
      await eventually(async () => {
        placed.push(order(`n${placed.length}`));
        await other.store.apply(anOrderPlaced({ order_id: placed[placed.length - 1]! }), TOPIC);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return placed.some((id) => heard.has(id));
      });
      const o = order('1');
      await other.store.apply(anOrderPlaced({ order_id: o }), TOPIC);
      await other.store.apply(aPaymentProcessed({ order_id: o }), TOPIC);
      await eventually(() => heard.has(o));
      expect(await statusOf(fixture.queries, o)).toBe('paid');
    });

    shared('keeps held events for another instance (a restart): it applies them, and hands out expired ones another has not confirmed', async () => {
      const fixture = await viewOf({ maxEvents: 100, maxAgeMs: 1_000 });
      const o = order('1');
      await fixture.store.apply(aPaymentProcessed({ order_id: o }), 'payments.processed');
      await fixture.store.apply(statusUpdate(order('gone'), 'cancelled', 1), 'orders.status');
      const other = await anotherOf(fixture);
      await other.store.apply(anOrderPlaced({ order_id: o }), 'orders.by-customer');
      expect(await statusOf(other.queries, o)).toBe('paid');
      const handedOut = await fixture.store.expireHeld(T0 + 1_000);
      expect(handedOut.map((e) => e.event.order_id)).toEqual([order('gone')]);
      // Not confirmed yet (the first has not called again): another instance hands it out only
      // once the first's claim has lapsed, as after a crash.
      expect(await other.store.expireHeld(T0 + 1_000)).toEqual([]);
      const reclaimed = await other.store.expireHeld(T0 + 1_000 + 10 * 60_000);
      expect(reclaimed.map((e) => [e.event.order_id, e.topic, e.code])).toEqual([[order('gone'), 'orders.status', 'VIEW.ORDER_UNKNOWN']]);
      // Confirmed by the next call: gone for good.
      expect(await other.store.expireHeld(T0 + 1_000 + 20 * 60_000)).toEqual([]);
      expect(await fixture.store.expireHeld(T0 + 1_000 + 30 * 60_000)).toEqual([]);
    });
  });
};
