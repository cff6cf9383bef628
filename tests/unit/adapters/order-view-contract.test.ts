import { InMemoryOrderView } from '../../../src/adapters/memory/in-memory-order-view';
import { describeOrderViewContract } from '../../contract/order-view.contract';

describeOrderViewContract('InMemoryOrderView', async (settings) => {
  const view = new InMemoryOrderView(settings);
  return { store: view, queries: view };
}, { shared: false });

describe('InMemoryOrderView', () => {
  it.each([
    [{ maxEvents: 0, maxAgeMs: 1 }, /maxEvents \(held events\) must be a whole number >= 1, got 0/],
    [{ maxEvents: 1.5, maxAgeMs: 1 }, /maxEvents/],
    [{ maxEvents: 1, maxAgeMs: 0 }, /maxAgeMs \(how long an event is held\) must be a whole number of milliseconds >= 1, got 0/],
    [{ maxEvents: 1, maxAgeMs: Number.NaN }, /maxAgeMs.*NaN/],
  ])('refuses the bounds %j with a RangeError', (bounds, message) => {
    expect(() => new InMemoryOrderView({ bounds })).toThrow(RangeError);
    expect(() => new InMemoryOrderView({ bounds })).toThrow(message);
  });
});
