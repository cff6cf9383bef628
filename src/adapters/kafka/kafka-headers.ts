import { IHeaders } from 'kafkajs';
import { Header, Headers } from '../../application/ports/message-bus.port';

/**
 * The port's headers (a list of name and bytes) in kafkajs's shape and back. kafkajs keeps a
 * repeated name as an array, in record order, both ways; it writes names in the order they first
 * appear, so the values of one name stay in order but headers with different names interleaved
 * (a, b, a) are written grouped (a, a, b). Nothing a Kafka consumer can rely on orders names
 * against each other, and every byte and every repetition survives.
 */
export const toKafkaHeaders = (headers: Headers = []): IHeaders => {
  const byName = new Map<string, Buffer[]>();
  for (const { key, value } of headers) {
    // A copy, as the value bytes: the caller may reuse its buffers once publish returns.
    const copy = Buffer.from(value);
    const values = byName.get(key);
    if (values === undefined) byName.set(key, [copy]);
    else values.push(copy);
  }
  // fromEntries defines own properties, so a header named __proto__ stays a header.
  return Object.fromEntries([...byName].map(([key, values]) => [key, values.length === 1 ? values[0]! : values]));
};

/**
 * kafkajs builds its headers object with `obj[key] === undefined ? value : [obj[key], value]`, so
 * a header named after something every object inherits (`constructor`, `toString`, `__proto__`)
 * arrives as an array whose first element is that inherited function or prototype. Only what
 * the decoder read off the wire (Buffers; a null value) is a header value: the rest is dropped,
 * so such a header keeps exactly its bytes, and a hostile name can never throw here, where a
 * throw would fail kafkajs's batch and replay the partition forever.
 */
export const fromKafkaHeaders = (headers: IHeaders = {}): Headers => {
  // Most records carry no header: no arrays to build for them (this runs for every message consumed).
  let empty = true;
  for (const _key in headers) {
    empty = false;
    break;
  }
  if (empty) return NO_HEADERS;
  return Object.entries(headers).flatMap(([key, value]): Header[] => {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return values.filter(isWireValue).map((one) => ({ key, value: asBuffer(one) }));
  });
};

const NO_HEADERS: Headers = Object.freeze([]);

const isWireValue = (value: unknown): value is Buffer | string | null =>
  value === null || Buffer.isBuffer(value) || typeof value === 'string';

/** kafkajs decodes values as Buffers; a null value (length -1 on the wire) becomes empty. */
const asBuffer = (value: Buffer | string | null): Buffer =>
  value === null ? Buffer.alloc(0) : Buffer.isBuffer(value) ? value : Buffer.from(value);

/** Bytes the headers add to a record, as the batching publisher counts them. */
export const headerBytes = (headers: Headers = []): number =>
  headers.reduce((sum, { key, value }) => sum + Buffer.byteLength(key) + value.length, 0);
