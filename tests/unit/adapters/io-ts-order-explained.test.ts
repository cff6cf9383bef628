import { IoTsOrderCodec } from '../../../src/adapters/io-ts/io-ts-order-codec';
import { aWireLine, aWireOrder, anItemisedWireOrder, wireBytes } from '../../support/builders';

describe('IoTsOrderCodec.decodeExplained', () => {
  const codec = new IoTsOrderCodec();
  const explained = (bytes: Buffer) => {
    const result = codec.decodeExplained(bytes);
    if (result.ok) throw new Error('expected a rejection');
    return result.error;
  };

  it('names every field the schema refuses, by its wire path', () => {
    const rejection = explained(wireBytes({ id: 'o-1', customer: 7, channel: null, total: 'abc', items: [aWireLine(), { ...aWireLine(), quantity: 'two' }] }));
    expect(rejection.fields.map((f) => f.field).sort()).toEqual(['channel', 'customer', 'items.1.quantity', 'total']);
    expect(rejection.fields.find((f) => f.field === 'total')?.message).toBe('Expecting number at total but instead got: "abc"');
  });

  it('names every domain rule an order breaks, not only the first', () => {
    const rejection = explained(wireBytes(anItemisedWireOrder({ total: -1, customer: '', currency: 'euro', items: [aWireLine({ sku: '' })] })));
    expect(rejection.code).toBe('ORDER.INVALID_TOTAL');
    expect(rejection.fields.map((f) => f.field)).toEqual(['total', 'customer', 'currency', 'items.0.sku']);
  });

  it('decides exactly as decode: the same code and message, for valid and invalid orders alike', () => {
    const bodies = [
      wireBytes(aWireOrder()),
      wireBytes(aWireOrder({ total: 'abc' })),
      wireBytes(aWireOrder({ id: '..', total: -5 })),
      Buffer.from('[1]'),
      Buffer.from('{not json'),
      Buffer.from([0x7b, 0xff, 0x7d]),
    ];
    for (const body of bodies) {
      const plain = codec.decode(body);
      const rich = codec.decodeExplained(body);
      expect(rich.ok).toBe(plain.ok);
      if (!rich.ok && !plain.ok) {
        const { fields, ...rest } = rich.error;
        expect(rest).toEqual(plain.error);
        expect(Array.isArray(fields)).toBe(true);
      }
    }
  });

  it('has no fields to name when the bytes are not a JSON object', () => {
    expect(explained(Buffer.from('[1]'))).toMatchObject({ code: 'MESSAGE.NOT_AN_OBJECT', fields: [] });
  });
});
