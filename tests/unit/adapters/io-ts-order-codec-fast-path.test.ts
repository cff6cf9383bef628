import fc from 'fast-check';
import { isRight } from 'fp-ts/Either';
import { OrderWireCodec } from '../../../src/adapters/io-ts/io-ts-order-codec';

// IoTsOrderCodec checks a parsed message with `is` and decodes only what it refuses: that is only
// sound if `is` accepts exactly what `decode` accepts, and `decode` returns accepted values as they are.
describe('OrderWireCodec: is and decode agree', () => {
  const anything = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
  const iso = fc.oneof(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom('2026-02-30T10:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T10:00+01:00', '9999-12-31T23:30:00-01:00', 'yesterday', ''),
  );
  /** Mostly well-typed, sometimes anything: both outcomes come up often. */
  const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: anything, weight: 1 });
  const line = fc.record({ sku: fc.oneof(fc.string(), anything), quantity: fc.oneof(fc.integer(), anything), unit_price: fc.oneof(fc.double(), anything) }, { requiredKeys: [] });
  const wire = fc.record(
    {
      id: mostly(fc.oneof(fc.constantFrom('o-1', 'a/b', '../x', 'a'.repeat(129)), fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/))),
      customer: mostly(fc.string()),
      total: mostly(fc.double()),
      channel: mostly(fc.constantFrom('web', 'partner')),
      produced_at: mostly(iso),
      items: mostly(fc.array(line, { maxLength: 3 })),
      currency: mostly(fc.constantFrom('EUR', 'USD')),
      shipping_address: mostly(fc.record({ city: fc.oneof(fc.string(), anything), country: fc.oneof(fc.string(), anything) }, { requiredKeys: [] })),
    },
    { requiredKeys: ['id', 'customer', 'total', 'channel'] },
  );

  it('accepts with is exactly what decode accepts, and decode returns it unchanged', () => {
    let accepted = 0;
    fc.assert(
      fc.property(wire, (value) => {
        const decoded = OrderWireCodec.decode(value);
        expect(OrderWireCodec.is(value)).toBe(isRight(decoded));
        if (isRight(decoded)) {
          accepted++;
          expect(decoded.right).toEqual(value);
        }
      }),
      { numRuns: 2_000 },
    );
    // Both sides of the agreement were exercised.
    expect(accepted).toBeGreaterThan(20);
  });
});
