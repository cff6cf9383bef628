import fc from 'fast-check';
import { SpendWindow } from '../../../../src/domain/lifecycle/spend-window';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T10:00:00.000Z');

describe('SpendWindow', () => {
  it('refuses the order that takes a customer over the limit within the hour, and counts only admitted spend', () => {
    const window = new SpendWindow(HOUR, 10_000);
    expect(window.admit('C-1', 'o-1', T0, 6_000)).toEqual({ admitted: true, spentBefore: 0 });
    expect(window.admit('C-1', 'o-2', T0 + 10 * 60_000, 5_000)).toEqual({ admitted: false, spentBefore: 6_000 });
    // The refused order spent nothing, so a smaller one still fits.
    expect(window.admit('C-1', 'o-3', T0 + 20 * 60_000, 4_000)).toEqual({ admitted: true, spentBefore: 6_000 });
    // Another customer has a window of their own.
    expect(window.admit('C-2', 'o-4', T0, 9_000).admitted).toBe(true);
  });

  it('forgets spend older than the window, by event time', () => {
    const window = new SpendWindow(HOUR, 10_000);
    window.admit('C-1', 'o-1', T0, 9_000);
    expect(window.admit('C-1', 'o-2', T0 + HOUR - 1, 2_000).admitted).toBe(false);
    expect(window.admit('C-1', 'o-3', T0 + HOUR, 2_000)).toEqual({ admitted: true, spentBefore: 0 });
  });

  it('gives a redelivered order its first decision and counts it once', () => {
    const window = new SpendWindow(HOUR, 10_000);
    window.admit('C-1', 'o-1', T0, 6_000);
    const refused = window.admit('C-1', 'o-2', T0 + 1, 5_000);
    expect(window.admit('C-1', 'o-1', T0, 6_000)).toEqual({ admitted: true, spentBefore: 0 });
    expect(window.admit('C-1', 'o-2', T0 + 1, 5_000)).toEqual(refused);
    expect(window.admit('C-1', 'o-3', T0 + 2, 4_000).admitted).toBe(true);
    expect(window.size).toBe(3);
  });

  it('answers a redelivery with the spend it was first judged against, also after older entries were evicted', () => {
    const window = new SpendWindow(HOUR, 10_000);
    window.admit('C-1', 'o-1', T0, 6_000);
    expect(window.admit('C-1', 'o-2', T0 + 30 * 60_000, 3_000)).toEqual({ admitted: true, spentBefore: 6_000 });
    // Another customer moves event time on far enough that o-1 is evicted and o-2 is not.
    window.admit('C-2', 'o-3', T0 + 2 * HOUR + 10 * 60_000, 1);
    expect(window.size).toBe(2);
    expect(window.admit('C-1', 'o-2', T0 + 30 * 60_000, 3_000)).toEqual({ admitted: true, spentBefore: 6_000 });
  });

  it('keeps memory bounded by event time', () => {
    const window = new SpendWindow(HOUR, 10_000);
    for (let i = 0; i < 10_000; i++) window.admit(`C-${i % 50}`, `o-${i}`, T0 + i * 60_000, 1);
    // 2 windows of one order a minute, plus up to a quarter window between sweeps.
    expect(window.size).toBeLessThanOrEqual(2 * 60 + 15 + 1);
  });

  const naiveAgrees = (orders: readonly { customer: string; minute: number; amount: number }[]): void => {
    const window = new SpendWindow(HOUR, 10_000);
    const admitted: { customer: string; at: number; amount: number }[] = [];
    orders.forEach(({ customer, minute, amount }, i) => {
      const at = T0 + minute * 60_000;
      const spent = admitted.filter((o) => o.customer === customer && o.at > at - HOUR && o.at <= at).reduce((sum, o) => sum + o.amount, 0);
      const expected = spent + amount <= 10_000;
      expect(window.admit(customer, `o-${i}`, at, amount)).toEqual({ admitted: expected, spentBefore: spent });
      if (expected) admitted.push({ customer, at, amount });
    });
  };
  const anOrderAt = (maxMinute: number) =>
    fc.record({ customer: fc.constantFrom('A', 'B', 'C'), minute: fc.integer({ min: 0, max: maxMinute }), amount: fc.integer({ min: 0, max: 6_000 }) });

  it('decides as a naive recount over all admitted orders does, for orders up to half a window out of order', () => {
    fc.assert(fc.property(fc.array(anOrderAt(90), { maxLength: 60 }), naiveAgrees));
  });

  it('decides as a naive recount does over many windows in event-time order, while it forgets old spend', () => {
    fc.assert(
      fc.property(fc.array(anOrderAt(1_000), { maxLength: 200 }), (orders) =>
        naiveAgrees([...orders].sort((a, b) => a.minute - b.minute)),
      ),
    );
  });
});
