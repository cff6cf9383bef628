import { IHeaders } from 'kafkajs';
import { fromKafkaHeaders, toKafkaHeaders } from '../../../src/adapters/kafka/kafka-headers';
import { Header, textHeader } from '../../../src/application/ports/message-bus.port';

/**
 * Headers as kafkajs's record decoder builds them (src/protocol/recordBatch/record/v0/decoder.js):
 * a reduce over the wire's headers into a plain object, where a repeated name becomes an array.
 */
const asKafkajsDecodes = (wire: readonly Header[]): IHeaders =>
  wire.reduce<Record<string, unknown>>(
    (obj, { key, value }) => ({
      ...obj,
      [key]: obj[key] === undefined ? value : Array.isArray(obj[key]) ? (obj[key] as unknown[]).concat([value]) : [obj[key], value],
    }),
    {},
  ) as IHeaders;

describe('kafka headers', () => {
  it('keep binary values and repeated names byte for byte, both ways', () => {
    const headers: Header[] = [
      { key: 'bin', value: Buffer.from([0xff, 0x00, 0xfe]) },
      textHeader('rep', 'a'),
      textHeader('rep', 'b'),
    ];
    expect(fromKafkaHeaders(asKafkajsDecodes(headers))).toEqual(headers);
    expect(fromKafkaHeaders(toKafkaHeaders(headers))).toEqual(headers);
  });

  it('keep headers named after what every object inherits, without throwing or inventing values', () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];
    const headers = names.flatMap((name) => [textHeader(name, `v-${name}`), textHeader(name, `w-${name}`)]);
    const decoded = fromKafkaHeaders(asKafkajsDecodes(headers));
    expect(decoded).toHaveLength(headers.length);
    for (const name of names) {
      expect(decoded.filter((h) => h.key === name).map((h) => h.value.toString())).toEqual([`v-${name}`, `w-${name}`]);
    }
  });

  it('reads a null header value as empty bytes', () => {
    expect(fromKafkaHeaders({ empty: null as unknown as Buffer })).toEqual([{ key: 'empty', value: Buffer.alloc(0) }]);
  });
});
