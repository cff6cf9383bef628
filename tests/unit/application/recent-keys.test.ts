import { RecentKeys } from '../../../src/application/recent-keys';

describe('RecentKeys', () => {
  it('answers false for a key it meets first, true for every later time', () => {
    const keys = new RecentKeys(100);

    expect(keys.remember('orders/dt=2026-12-03/orderId=a.json')).toBe(false);
    expect(keys.remember('orders/dt=2026-12-03/orderId=b.json')).toBe(false);
    expect(keys.remember('orders/dt=2026-12-03/orderId=a.json')).toBe(true);
    expect(keys.remember('orders/dt=2026-12-03/orderId=a.json')).toBe(true);
  });

  it('still knows the keys of the generation before the current one', () => {
    // Capacity 6: generations of 3; `a`, `b` and `c` fill the first, `d` starts the second.
    const keys = new RecentKeys(6);
    for (const key of ['a', 'b', 'c', 'd']) keys.remember(key);

    expect(keys.remember('a')).toBe(true);
    expect(keys.remember('b')).toBe(true);
  });

  it('forgets the oldest keys once two generations have been filled after them, keeping its memory bounded', () => {
    const keys = new RecentKeys(4);
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) keys.remember(key);

    expect(keys.remember('a')).toBe(false);
    expect(keys.remember('f')).toBe(true);
  });

  it('keeps a key that is met again longer: it moves into the current generation', () => {
    const keys = new RecentKeys(4);
    for (const key of ['a', 'b']) keys.remember(key);
    // `a` is in the older generation now; meeting it again carries it into the current one.
    expect(keys.remember('a')).toBe(true);
    keys.remember('c');
    keys.remember('d');

    // `b` was not met again and is forgotten with its generation; `a` is still known.
    expect(keys.remember('a')).toBe(true);
    expect(keys.remember('b')).toBe(false);
  });
});
