import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { ORDER_BODY, ORDER_RESOURCE } from '../../../../src/adapters/fastify/order-api-schemas';
import { orderResource } from '../../../../src/adapters/fastify/fastify-order-api';
import { IoTsOrderCodec } from '../../../../src/adapters/io-ts/io-ts-order-codec';
import { aPaymentProcessed, anOrderPlaced, anOrderValidated } from '../../../support/builders';
import { InMemoryOrderView } from '../../../../src/adapters/memory/in-memory-order-view';

/**
 * The io-ts codec decides what an order is; ORDER_BODY only documents it in /openapi.json
 * (adr/0019). This keeps the two from drifting: on generated bodies, valid and not, the schema
 * and the decoder accept and refuse the same ones. The one rule a schema cannot say — a real
 * calendar date in produced_at — is left out of the generator and said in the field's description.
 */
describe('the documented order schema and the decoder', () => {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const documented = ajv.compile(ORDER_BODY);
  const codec = new IoTsOrderCodec();

  const anything = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  const id = fc.oneof(fc.constantFrom('o-1', 'ORD-123', 'a.b:c_d-e', 'x'.repeat(128)), fc.constantFrom('', 'a/b', 'a..b', 'x'.repeat(129), 'white space'), anything);
  const text = fc.oneof(fc.constantFrom('C-9', 'web', 'mobile', 'partner', 'x'), fc.constant(''), anything);
  const total = fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: -1e9, max: -0.01, noNaN: true }), anything);
  const instant = fc.oneof(
    fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
    fc.constantFrom('2026-11-22T10:00:00+01:00', '2026-11-22T10:00Z', '2026-11-22', 'yesterday', '2026-11-22 10:00:00'),
    anything,
  );
  const line = fc.record(
    { sku: fc.oneof(fc.constantFrom('APPLE', 'MILK'), fc.constant(''), anything), quantity: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true }), anything), unit_price: fc.oneof(fc.double({ min: -5, max: 100, noNaN: true }), anything) },
    { requiredKeys: [] },
  );
  const address = fc.oneof(fc.record({ city: fc.oneof(fc.string(), anything), country: fc.oneof(fc.constant('DE'), anything) }, { requiredKeys: [] }), anything);
  const body = fc.record(
    {
      id,
      customer: text,
      total,
      channel: text,
      produced_at: instant,
      items: fc.oneof(fc.array(line, { maxLength: 3 }), anything),
      currency: fc.oneof(fc.constantFrom('EUR', 'USD', 'eur', 'EURO', ''), anything),
      shipping_address: address,
      ignored_extra: anything,
    },
    { requiredKeys: [] },
  );

  it('accept and refuse the same bodies', () => {
    fc.assert(
      fc.property(body, (order) => {
        // The API generates a missing id before the decoder sees the body (PlaceOrder).
        const decoded = codec.decode(Buffer.from(JSON.stringify({ ...(Object.hasOwn(order, 'id') ? {} : { id: 'generated' }), ...order })));
        const verdict = documented(JSON.parse(JSON.stringify(order)));
        if (verdict !== decoded.ok) {
          throw new Error(`schema says ${verdict}, decoder says ${decoded.ok ? 'valid' : decoded.error.message}; schema errors: ${ajv.errorsText(documented.errors)}`);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('documents GET /orders/{id} as it answers: an order of every stage of its path matches ORDER_RESOURCE', async () => {
    const matches = ajv.compile({ ...ORDER_RESOURCE, additionalProperties: false });
    const view = new InMemoryOrderView();
    await view.apply(anOrderPlaced({ order_id: 'o-doc' }), 'orders.by-customer');
    await view.apply(anOrderValidated({ order_id: 'o-doc' }), 'orders.validated');
    await view.apply(aPaymentProcessed({ order_id: 'o-doc' }), 'payments.processed');
    const row = await view.get('o-doc');
    expect(matches(orderResource(row!))).toBe(true);
  });
});
