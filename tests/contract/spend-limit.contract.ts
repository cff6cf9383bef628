import { randomUUID } from 'node:crypto';
import { SpendCandidate, SpendJudgement, SpendLimitPort } from '../../src/application/ports/spend-limit.port';
import { SpendLimitSettings } from '../../src/application/spend-limit';
import { aSpendCandidate } from '../support/builders';

export interface SpendLimitFixture {
  readonly spendLimit: SpendLimitPort;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-22T10:00:00.000Z');

/**
 * The contract of every SpendLimitPort (in memory, PostgreSQL): the rules of SpendWindow, decided
 * and recorded atomically, idempotent by order id, serialised per customer.
 *
 * Customers and order ids are unique to each test, so a fixture may share one database. Every
 * event time stays within (T0 − 1 h, T0 + 1 h] and every window is 1 h or longer: a store that
 * prunes rows two windows behind the newest event time it holds then never prunes a row that a
 * test still needs, whichever tests ran before on the same table.
 */
export const describeSpendLimitContract = (name: string, makeFixture: (settings: SpendLimitSettings) => Promise<SpendLimitFixture>): void => {
  describe(`${name} honours the SpendLimit contract`, () => {
    let customer: (name: string) => string;
    let order: (name: string) => string;

    beforeEach(() => {
      const run = randomUUID().slice(0, 8);
      customer = (n) => `${run}-C-${n}`;
      order = (n) => `${run}-o-${n}`;
    });

    const limitOf = async (limit: number, windowMs = HOUR): Promise<SpendLimitPort> => (await makeFixture({ windowMs, limit })).spendLimit;

    /** Customer, order, event time as T0 plus milliseconds, amount. */
    const judge = (spend: SpendLimitPort, c: string, o: string, afterT0: number, amount: number): Promise<SpendJudgement> =>
      spend.judge(aSpendCandidate({ customer: customer(c), orderId: order(o), eventTimeMs: T0 + afterT0, amount }));

    it('admits spend up to the limit exactly, and refuses an order that exceeds it by a cent', async () => {
      const spend = await limitOf(10_000);
      expect(await judge(spend, '1', 'a', 0, 9_999.99)).toEqual({ admitted: true, spentBefore: 0 });
      expect(await judge(spend, '1', 'b', MINUTE, 0.01)).toEqual({ admitted: true, spentBefore: 9_999.99 });
      expect(await judge(spend, '1', 'c', 2 * MINUTE, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
      expect(await judge(spend, '2', 'd', 0, 10_000.01)).toEqual({ admitted: false, spentBefore: 0 });
      expect(await judge(spend, '3', 'e', 0, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
    });

    it('adds in whole cents, so 0.1 + 0.2 reaches a limit of 0.3 exactly', async () => {
      const spend = await limitOf(0.3);
      await judge(spend, '1', 'a', 0, 0.1);
      await judge(spend, '1', 'b', 1, 0.2);
      expect(await judge(spend, '1', 'c', 2, 0)).toEqual({ admitted: true, spentBefore: 0.3 });
      expect(await judge(spend, '1', 'd', 3, 0.01)).toEqual({ admitted: false, spentBefore: 0.3 });
    });

    it('counts only admitted spend: a refused order spends nothing', async () => {
      const spend = await limitOf(10_000);
      await judge(spend, '1', 'a', 0, 6_000);
      expect(await judge(spend, '1', 'b', 10 * MINUTE, 5_000)).toEqual({ admitted: false, spentBefore: 6_000 });
      expect(await judge(spend, '1', 'c', 20 * MINUTE, 4_000)).toEqual({ admitted: true, spentBefore: 6_000 });
      expect(await judge(spend, '1', 'd', 30 * MINUTE, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
    });

    it('sums the window (t − window, t] that ends at the order’s own event time', async () => {
      const spend = await limitOf(10_000);
      // Exactly one window older: no longer counts.
      await judge(spend, 'edge', 'a', 0, 10_000);
      expect(await judge(spend, 'edge', 'b', HOUR, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
      // One millisecond inside: counts.
      await judge(spend, 'inside', 'a', 0, 10_000);
      expect(await judge(spend, 'inside', 'b', HOUR - 1, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
      // Later than the order (it arrived out of order): not part of its window.
      await judge(spend, 'later', 'a', 0, 10_000);
      expect(await judge(spend, 'later', 'b', -1, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
      // The same event time: inside.
      await judge(spend, 'same', 'a', 0, 10_000);
      expect(await judge(spend, 'same', 'b', 0, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
    });

    it('takes the window length from its settings', async () => {
      const spend = await limitOf(10_000, 2 * HOUR);
      await judge(spend, '1', 'a', -HOUR + 1, 10_000);
      expect(await judge(spend, '1', 'b', HOUR, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
    });

    it('keeps each customer’s window apart', async () => {
      const spend = await limitOf(10_000);
      await judge(spend, '1', 'a', 0, 10_000);
      expect(await judge(spend, '2', 'b', 0, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
      expect(await judge(spend, '1', 'c', 1, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
      expect(await judge(spend, '2', 'd', 1, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
    });

    it('answers a re-judged order with its first decision, even after later orders changed its window, and adds no spend', async () => {
      const spend = await limitOf(10_000);
      const first = await judge(spend, '1', 'a', 0, 6_000);
      const refused = await judge(spend, '1', 'b', MINUTE, 5_000);
      expect(refused).toEqual({ admitted: false, spentBefore: 6_000 });
      // An earlier order, judged later, lands in both windows.
      expect(await judge(spend, '1', 'c', -10 * MINUTE, 4_000)).toEqual({ admitted: true, spentBefore: 0 });
      // A redelivery answers the first decision, whatever it carries now.
      expect(await judge(spend, '1', 'b', MINUTE, 5_000)).toEqual(refused);
      expect(await judge(spend, '1', 'b', MINUTE, 1)).toEqual(refused);
      expect(await judge(spend, '1', 'a', 0, 6_000)).toEqual(first);
      expect(await judge(spend, '1', 'a', 30 * MINUTE, 0)).toEqual(first);
      // a was counted once, c once, and b never.
      expect(await judge(spend, '1', 'd', 2 * MINUTE, 0.01)).toEqual({ admitted: false, spentBefore: 10_000 });
    });

    it('takes an order id as the order of one customer: the same id of another customer is another order', async () => {
      const spend = await limitOf(10_000);
      await judge(spend, '1', 'same', 0, 10_000);
      expect(await judge(spend, '2', 'same', 0, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
    });

    it('never admits more than the limit when 20 orders of one customer are judged at once, and decides as one after another', async () => {
      const spend = await limitOf(10_000);
      const amounts = Array.from({ length: 20 }, (_, i) => 700 + 100 * (i % 7));
      // One event time for all: each is in every other's window, whichever is judged first. (With
      // distinct times an order judged after a later-timed one rightly does not count it.)
      const judgements = await Promise.all(amounts.map((amount, i) => judge(spend, '1', `n-${i}`, 0, amount)));
      const admitted = judgements.map((j, i) => ({ ...j, amount: amounts[i]! })).filter((j) => j.admitted);
      const total = admitted.reduce((sum, j) => sum + j.amount, 0);
      expect(total).toBeLessThanOrEqual(10_000);
      expect(total).toBeGreaterThan(10_000 - 1_300);
      // Serialised: each admitted order saw exactly the admitted orders judged before it…
      const bySeen = [...admitted].sort((a, b) => a.spentBefore - b.spentBefore);
      let running = 0;
      for (const j of bySeen) {
        expect(j.spentBefore).toBe(running);
        running += j.amount;
      }
      // …and each refused one saw enough that it would not fit.
      judgements.forEach((j, i) => {
        if (!j.admitted) expect(j.spentBefore + amounts[i]!).toBeGreaterThan(10_000);
      });
    });

    it('answers concurrent judgements of one order with one decision, counted once', async () => {
      const spend = await limitOf(10_000);
      const judgements = await Promise.all(Array.from({ length: 10 }, () => judge(spend, '1', 'a', 0, 4_000)));
      for (const j of judgements) expect(j).toEqual({ admitted: true, spentBefore: 0 });
      expect(await judge(spend, '1', 'b', 1, 0)).toEqual({ admitted: true, spentBefore: 4_000 });
    });

    it.each<[string, Partial<SpendCandidate>, RegExp]>([
      ['a negative amount', { amount: -0.01 }, /amount must be a finite number from 0/],
      ['an amount that is not a number', { amount: Number.NaN }, /amount must be a finite number from 0.*NaN/],
      ['an infinite amount', { amount: Number.POSITIVE_INFINITY }, /amount must be a finite number/],
      ['an event time that is not finite', { eventTimeMs: Number.NaN }, /eventTimeMs must be a whole number of epoch milliseconds, got NaN/],
      ['an infinite event time', { eventTimeMs: Number.POSITIVE_INFINITY }, /eventTimeMs must be a whole number/],
      ['a fractional event time', { eventTimeMs: T0 + 0.5 }, /eventTimeMs must be a whole number/],
      ['an empty customer', { customer: '' }, /customer must be a non-empty string/],
      ['an empty order id', { orderId: '' }, /orderId must be a non-empty string/],
    ])('refuses %s with a RangeError naming the field, and records nothing', async (_what, overrides, message) => {
      const spend = await limitOf(10_000);
      const bad = aSpendCandidate({ customer: customer('1'), orderId: order('a'), eventTimeMs: T0, amount: 10_000, ...overrides });
      const error = await spend.judge(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(message);
      // Nothing of the bad call remains: neither a decision for the order nor any spend.
      expect(await judge(spend, '1', 'a', 0, 10_000)).toEqual({ admitted: true, spentBefore: 0 });
    });

    it.each<[string, SpendLimitSettings, RegExp]>([
      ['a window of 0 ms', { windowMs: 0, limit: 10_000 }, /windowMs must be a whole number of milliseconds > 0, got 0/],
      ['a fractional window', { windowMs: 1.5, limit: 10_000 }, /windowMs must be a whole number/],
      ['a negative limit', { windowMs: HOUR, limit: -1 }, /limit must be an amount from 0 to \d+, got -1/],
      ['a limit that is not a number', { windowMs: HOUR, limit: Number.NaN }, /limit must be an amount.*NaN/],
    ])('refuses %s in its settings with a RangeError', async (_what, settings, message) => {
      const error = await makeFixture(settings).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(message);
    });
  });
};
