import fc from 'fast-check';
import { rankByTotal, topOrdersByTotal, TopK } from '../../../src/domain/top-k';

interface Item {
  readonly id: string;
  readonly total: number;
}

/** The reference: sort everything, deduplicated by id (first occurrence wins), best first. */
const byFullSort = (items: readonly Item[], k: number): Item[] => {
  const unique = new Map<string, Item>();
  for (const item of items) if (!unique.has(item.id)) unique.set(item.id, item);
  return [...unique.values()].sort((a, b) => rankByTotal(b, a)).slice(0, k);
};

const itemArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', 'd') }),
  // Few distinct totals, so ties are common and the tie-break is exercised.
  total: fc.integer({ min: 0, max: 20 }).map((n) => n * 25),
});

describe('TopK', () => {
  it('keeps exactly what a full sort would, for any stream and any k', () => {
    // A stream drawn with repetition from distinct orders: redelivery offers the same order again.
    const streamArb = fc
      .uniqueArray(itemArb, { selector: (i) => i.id, minLength: 1, maxLength: 100 })
      .chain((orders) => fc.array(fc.constantFrom(...orders), { maxLength: 300 }));
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 1, max: 20 }), (items, k) => {
        const top = topOrdersByTotal<Item>(k);
        for (const item of items) top.offer(item);
        const expected = byFullSort(items, k);
        expect(top.items().map((i) => i.id)).toEqual(expected.map((i) => i.id));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on arrival order (deterministic ties)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(itemArb, { selector: (i) => i.id, maxLength: 100 }),
        fc.integer({ min: 1, max: 10 }),
        (items, k) => {
          const forward = topOrdersByTotal<Item>(k);
          const backward = topOrdersByTotal<Item>(k);
          items.forEach((i) => forward.offer(i));
          [...items].reverse().forEach((i) => backward.offer(i));
          expect(forward.items()).toEqual(backward.items());
        },
      ),
    );
  });

  it('never holds more than k items (O(k) memory) and counts one place per id', () => {
    const top = topOrdersByTotal<Item>(3);
    for (let i = 0; i < 10_000; i++) top.offer({ id: `o-${i % 50}`, total: i % 997 });
    expect(top.size).toBe(3);
    expect(new Set(top.items().map((i) => i.id)).size).toBe(3);
  });

  it('ranks equal totals by id ascending', () => {
    const top = topOrdersByTotal<Item>(2);
    ['o-3', 'o-1', 'o-2'].forEach((id) => top.offer({ id, total: 100 }));
    expect(top.items().map((i) => i.id)).toEqual(['o-1', 'o-2']);
  });

  it('refuses a k below 1', () => {
    expect(() => new TopK<Item>(0, rankByTotal, (i) => i.id)).toThrow(RangeError);
  });
});
