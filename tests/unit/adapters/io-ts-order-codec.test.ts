import { IoTsOrderCodec } from '../../../src/adapters/io-ts/io-ts-order-codec';
import { aWireOrder, wireBytes } from '../../support/builders';

describe('IoTsOrderCodec', () => {
  const codec = new IoTsOrderCodec();
  const rejectionOf = (bytes: Buffer) => {
    const result = codec.decode(bytes);
    if (result.ok) throw new Error('expected a rejection');
    return result.error;
  };

  it('decodes the seed wire format into a domain Order', () => {
    const result = codec.decode(wireBytes(aWireOrder({ id: 'o-1001', produced_at: '2026-11-22T10:00:00.000Z' })));
    expect(result).toEqual({
      ok: true,
      value: { id: 'o-1001', customer: 'C-9', total: 149.99, channel: 'web', producedAt: Date.parse('2026-11-22T10:00:00.000Z') },
    });
  });

  it('accepts an order without produced_at', () => {
    const { produced_at: _omitted, ...order } = aWireOrder();
    expect(codec.decode(wireBytes(order)).ok).toBe(true);
  });

  it('says exactly what is wrong, in io-ts words', () => {
    expect(rejectionOf(wireBytes(aWireOrder({ total: 'abc' })))).toEqual({
      code: 'ORDER.INVALID_TOTAL',
      stage: 'validate',
      message: 'Expecting number at total but instead got: "abc"',
    });
  });

  it('reports every problem of a message at once', () => {
    const { message } = rejectionOf(wireBytes({ id: 'o-1', customer: 7, channel: null, total: 1 }));
    expect(message).toContain('customer');
    expect(message).toContain('channel');
  });

  it.each([
    ['invalid UTF-8', 'MESSAGE.INVALID_UTF8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['truncated JSON', 'MESSAGE.INVALID_JSON', Buffer.from('{"id": "o-1"')],
    ['a JSON array', 'MESSAGE.NOT_AN_OBJECT', wireBytes([aWireOrder()])],
    ['a JSON string', 'MESSAGE.NOT_AN_OBJECT', wireBytes('o-1001')],
    ['JSON null', 'MESSAGE.NOT_AN_OBJECT', wireBytes(null)],
    ['a path-traversal id', 'ORDER.INVALID_ID', wireBytes(aWireOrder({ id: '../x' }))],
    ['a slash in the id', 'ORDER.INVALID_ID', wireBytes(aWireOrder({ id: 'a/b' }))],
    ['an id over 128 characters', 'ORDER.INVALID_ID', wireBytes(aWireOrder({ id: 'a'.repeat(129) }))],
    ['a negative total', 'ORDER.INVALID_TOTAL', wireBytes(aWireOrder({ total: -1 }))],
    ['an infinite total (1e999)', 'ORDER.INVALID_TOTAL', Buffer.from('{"id":"o-1","customer":"C","total":1e999,"channel":"web"}')],
    ['a total as a string', 'ORDER.INVALID_TOTAL', wireBytes(aWireOrder({ total: '149.99' }))],
    ['a missing customer', 'ORDER.SCHEMA_VIOLATION', wireBytes({ id: 'o-1', total: 1, channel: 'web' })],
    ['an empty customer', 'ORDER.SCHEMA_VIOLATION', wireBytes(aWireOrder({ customer: '' }))],
    ['a produced_at that is not ISO-8601', 'ORDER.INVALID_PRODUCED_AT', wireBytes(aWireOrder({ produced_at: 'yesterday' }))],
    ['an impossible date', 'ORDER.INVALID_PRODUCED_AT', wireBytes(aWireOrder({ produced_at: '2026-13-45T10:00:00Z' }))],
    ['a day that rolls over (30 February)', 'ORDER.INVALID_PRODUCED_AT', wireBytes(aWireOrder({ produced_at: '2026-02-30T10:00:00Z' }))],
    ['hour 24', 'ORDER.INVALID_PRODUCED_AT', wireBytes(aWireOrder({ produced_at: '2026-11-22T24:00:00Z' }))],
    ['a year past 9999 in UTC', 'ORDER.INVALID_PRODUCED_AT', wireBytes(aWireOrder({ produced_at: '9999-12-31T23:30:00-01:00' }))],
  ] as const)('rejects %s as %s', (_case, code, bytes) => {
    expect(rejectionOf(bytes).code).toBe(code);
  });

  it('is not polluted by hostile keys and drops unknown fields', () => {
    const hostile = Buffer.from(
      '{"id":"o-1","customer":"C","total":1,"channel":"web","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    );
    const result = codec.decode(hostile);
    expect(result.ok).toBe(true);
    if (result.ok) expect(Object.keys(result.value).sort()).toEqual(['channel', 'customer', 'id', 'total']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects, never throws on, a field nested deeper than JSON.stringify can quote', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const field of ['id', 'total', 'produced_at']) {
      const bytes = Buffer.from(`{"id":"o-1","customer":"C","total":1,"channel":"web","produced_at":"2026-11-22T10:00:00Z","${field}":${deep}}`);
      expect(rejectionOf(bytes)).toMatchObject({
        stage: 'validate',
        message: expect.stringMatching(new RegExp(`^Expecting \\S+ at ${field} but instead got a value nested too deeply to show$`)),
      });
    }
  });

  it('quotes at most a few hundred characters of an offending value', () => {
    const { code, message } = rejectionOf(wireBytes(aWireOrder({ id: 'x'.repeat(500_000) })));
    expect(code).toBe('ORDER.INVALID_ID');
    expect(message).toMatch(/^Expecting OrderId at id but instead got: "xxx/);
    expect(message.length).toBeLessThanOrEqual(300);
  });

  it('round-trips through encode', () => {
    const decoded = codec.decode(wireBytes(aWireOrder({ id: 'o-rt' })));
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(codec.decode(codec.encode(decoded.value))).toEqual(decoded);
  });

  describe('the lifecycle fields (items, currency, shipping_address)', () => {
    const itemised = () =>
      aWireOrder({
        id: 'o-items',
        total: 7,
        items: [
          { sku: 'APPLE', quantity: 2, unit_price: 1.5 },
          { sku: 'MILK', quantity: 1, unit_price: 4 },
        ],
        currency: 'EUR',
        shipping_address: { name: 'A. Customer', street: 'Main St 1', city: 'Springfield', postcode: '12345', country: 'US' },
      });

    it('decodes lines into OrderLines, with the currency and the address', () => {
      const result = codec.decode(wireBytes(itemised()));
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value).toMatchObject({
        items: [
          { sku: 'APPLE', quantity: 2, unitPrice: 1.5 },
          { sku: 'MILK', quantity: 1, unitPrice: 4 },
        ],
        currency: 'EUR',
        shippingAddress: { name: 'A. Customer', street: 'Main St 1', city: 'Springfield', postcode: '12345', country: 'US' },
      });
      expect(Object.isFrozen(result.value.items)).toBe(true);
      expect(Object.isFrozen(result.value.items![0])).toBe(true);
    });

    it('round-trips them through encode', () => {
      const decoded = codec.decode(wireBytes(itemised()));
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(codec.decode(codec.encode(decoded.value))).toEqual(decoded);
    });

    it('leaves them out of a seed-shaped order, so nothing changes for the archive', () => {
      const result = codec.decode(wireBytes(aWireOrder()));
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value).not.toHaveProperty('items');
      expect(result.value).not.toHaveProperty('currency');
      expect(result.value).not.toHaveProperty('shippingAddress');
    });

    it('keeps out-of-range lines for the validation stage to reject: they are business rules, not schema', () => {
      const result = codec.decode(
        wireBytes(aWireOrder({ total: 1, items: [{ sku: 'A', quantity: 0, unit_price: -1 }, { sku: 'B', quantity: 1.5, unit_price: 1 }] })),
      );
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.value.items).toEqual([{ sku: 'A', quantity: 0, unitPrice: -1 }, { sku: 'B', quantity: 1.5, unitPrice: 1 }]);
    });

    it('keeps an empty item list (validation rejects an order of nothing)', () => {
      const result = codec.decode(wireBytes(aWireOrder({ items: [] })));
      expect(result.ok && result.value.items).toEqual([]);
    });

    it('ignores address fields it does not know', () => {
      const result = codec.decode(wireBytes(aWireOrder({ shipping_address: { city: 'Springfield', planet: 'Earth', __proto__: { x: 1 } } })));
      expect(result.ok && result.value.shippingAddress).toEqual({ city: 'Springfield' });
    });

    it.each([
      ['items that are not a list', { items: { sku: 'A' } }, 'Expecting Array<OrderLine> at items'],
      ['a quantity as a string', { items: [{ sku: 'A', quantity: '2', unit_price: 1 }] }, 'Expecting number at items.0.quantity but instead got: "2"'],
      ['a unit price missing', { items: [{ sku: 'A', quantity: 2 }] }, 'Expecting number at items.0.unit_price but instead got: undefined'],
      ['a line without a SKU', { items: [{ quantity: 2, unit_price: 1 }] }, 'Expecting string at items.0.sku'],
      ['an empty SKU', { items: [{ sku: 'A', quantity: 1, unit_price: 1 }, { sku: '', quantity: 1, unit_price: 1 }] }, 'Invalid items.1.sku: expected a non-empty string'],
      ['a currency as a number', { currency: 840 }, 'Expecting string at currency but instead got: 840'],
      ['a currency that is not ISO 4217', { currency: 'dollars' }, 'Invalid currency "dollars": expected an ISO 4217 code of three capital letters, e.g. USD'],
      ['an address as a string', { shipping_address: 'Main St 1' }, 'Expecting ShippingAddress at shipping_address but instead got: "Main St 1"'],
      ['an address part as a number', { shipping_address: { postcode: 12345 } }, 'Expecting string at shipping_address.postcode but instead got: 12345'],
    ])('rejects %s as a schema violation (a dead letter)', (_case, overrides, message) => {
      const rejection = rejectionOf(wireBytes(aWireOrder(overrides)));
      expect(rejection.code).toBe('ORDER.SCHEMA_VIOLATION');
      expect(rejection.message).toContain(message);
    });
  });
});
