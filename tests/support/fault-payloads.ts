import { partitionForKey } from '../../src/adapters/memory/murmur2-partitioner';
import { OrderGenerator, seededRandom } from '../../src/application/order-generator';
import { Headers, OutboundMessage, textHeader } from '../../src/application/ports/message-bus.port';
import { RejectionCode } from '../../src/domain/rejection';

/** Every published message carries its case id here; the dead-letter sink keeps the original headers. */
export const CASE_HEADER = 'orderflow-test.case';

export interface ArchiveExpectation {
  readonly kind: 'archive';
  readonly key: string;
  readonly wire: WireOrder;
}

export interface DeadLetterExpectation {
  readonly kind: 'dead-letter';
  readonly codes: readonly RejectionCode[];
  readonly what: string;
  /** Larger than the dead-letter topic takes: it arrives cut, with its size and sha256 in headers (adr/0009). */
  readonly truncated?: true;
}

export interface FaultCase<E extends ArchiveExpectation | DeadLetterExpectation = ArchiveExpectation | DeadLetterExpectation> {
  readonly id: string;
  readonly message: OutboundMessage;
  readonly expect: E;
}

export interface WireOrder {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  readonly produced_at: string;
}

/** Event times spread over three UTC days, so the orders land in several `dt=` partitions. */
const FIRST_EVENT_MS = Date.parse('2026-11-21T12:00:00.000Z');

/** The key the archive must hold for an order, derived here independently of the service's code. */
export const expectedKey = (prefix: string, order: WireOrder): string =>
  `${prefix}/dt=${order.produced_at.slice(0, 10)}/orderId=${order.id}.json`;

/**
 * `count` valid orders in the seed's wire format, keyed by id, reproducible from the seed. Every
 * `hostileEvery`-th one also carries hostile extras that must change nothing: `__proto__` and
 * `constructor` members, a deeply nested unknown field, a Kafka key and header names that
 * collide with Object.prototype.
 */
export const validOrders = (
  count: number,
  options: { seed: number; runId: string; prefix: string; hostileEvery?: number },
): Array<FaultCase<ArchiveExpectation>> => {
  let sequence = 0;
  const generator = new OrderGenerator({ seed: options.seed, runId: options.runId, now: () => FIRST_EVENT_MS + 13_000 * sequence++ });
  return Array.from({ length: count }, (_, index) => {
    const fields = generator.next();
    const wire: WireOrder = {
      id: fields.id,
      customer: fields.customer,
      total: fields.total,
      channel: fields.channel,
      produced_at: new Date(fields.producedAt!).toISOString(),
    };
    const hostile = options.hostileEvery !== undefined && index % options.hostileEvery === 0;
    const json = hostile
      ? `{"__proto__":{"channel":"fax","polluted":true},"constructor":{"prototype":{"polluted":true}},"extra":${deepArray(5_000)},${JSON.stringify(wire).slice(1)}`
      : JSON.stringify(wire);
    return {
      id: wire.id,
      message: {
        key: hostile ? HOSTILE_NAMES[index % HOSTILE_NAMES.length]! : wire.id,
        value: Buffer.from(json),
        headers: hostile ? withHostileHeaders(wire.id) : [textHeader(CASE_HEADER, wire.id)],
      },
      expect: { kind: 'archive', key: expectedKey(options.prefix, wire), wire },
    };
  });
};

/** The case id of a partition's closer (see batchClosers). */
export const CLOSER_PREFIX = 'closer-';

/**
 * One valid order per partition, dated far in the future, published after a batched lane's
 * orders: a UTC date change closes each partition's last batch, which would otherwise stay open,
 * unwritten and uncommitted (adr/0011). The closer itself opens a batch that nothing closes; the
 * group is done when its position reaches the closer. Closers are no cases of the ledger.
 */
export const batchClosers = (runId: string, partitions: number): OutboundMessage[] =>
  Array.from({ length: partitions }, (_, partition) => {
    let n = 0;
    while (partitionForKey(`${CLOSER_PREFIX}${runId}-${n}`, partitions) !== partition) n++;
    const id = `${CLOSER_PREFIX}${runId}-${n}`;
    const order = { id, customer: 'c-closer', total: 1, channel: 'web', produced_at: '2099-01-01T00:00:00.000Z' };
    return { key: id, value: Buffer.from(JSON.stringify(order)), headers: [textHeader(CASE_HEADER, id)] };
  });

const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'] as const;

/** Object.fromEntries defines `__proto__` as a plain property; an object literal would set the prototype instead. */
/**
 * Headers a dead letter must keep byte for byte: names that are special in JavaScript objects, a
 * value that is no UTF-8 (`ff 00 fe` once came back as `ef bf bd 00 ef bf bd`), and a repeated
 * name (`[a, b]` once came back as `b`).
 */
const withHostileHeaders = (caseId: string): Headers => [
  textHeader(CASE_HEADER, caseId),
  ...HOSTILE_NAMES.map((name) => textHeader(name, `hostile-${name}`)),
  { key: 'orderflow-test.binary', value: Buffer.from([0xff, 0x00, 0xfe]) },
  textHeader('orderflow-test.repeated', 'a'),
  textHeader('orderflow-test.repeated', 'b'),
];

const deepArray = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const DECODE_CODES: readonly RejectionCode[] = ['MESSAGE.INVALID_UTF8', 'MESSAGE.INVALID_JSON', 'MESSAGE.NOT_AN_OBJECT', 'ORDER.SCHEMA_VIOLATION'];

type Poison = {
  readonly value: Buffer;
  readonly codes: readonly RejectionCode[];
  readonly what: string;
  /** The record timestamp to publish with, when the case is about it. */
  readonly timestamp?: number;
};

/** A base order to spoil one field of; hostile cases must be wrong in exactly one way. */
const base = (index: number): Record<string, unknown> => ({
  id: `o-bad-${index}`,
  customer: 'C-1',
  total: 10,
  channel: 'web',
  produced_at: '2026-11-22T10:00:00.000Z',
});

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
/** An order with one field replaced by raw JSON text (for values JSON.stringify cannot write, like 1e999). */
const withRaw = (index: number, field: string, raw: string): Buffer => {
  const { [field]: _replaced, ...rest } = base(index);
  return Buffer.from(`{${JSON.stringify(rest).slice(1, -1)},"${field}":${raw}}`);
};

/**
 * The dead-letter policy, one generator per kind of message that can never be processed. Each
 * returns the bytes and the rejection codes the service may give them (one, except for random
 * bytes, whose failure depends on where the bytes go wrong).
 */
const POISONS: ReadonlyArray<(index: number, random: () => number) => Poison> = [
  (_i, random) => {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
    return { value: bytes, codes: DECODE_CODES, what: 'random bytes' };
  },
  (i) => ({
    value: Buffer.concat([Buffer.from('{"id":"o-'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(`-${i}","customer":"C","total":1,"channel":"web"}`)]),
    codes: ['MESSAGE.INVALID_UTF8'],
    what: 'invalid UTF-8',
  }),
  (i) => {
    const values = ['[]', `[${JSON.stringify(base(i))}]`, '"o-1001"', '42', 'null', 'true', deepArray(10_000)];
    return { value: Buffer.from(values[i % values.length]!), codes: ['MESSAGE.NOT_AN_OBJECT'], what: 'JSON that is not an object' };
  },
  (i) => {
    const spoilt = [{ customer: undefined }, { customer: 7 }, { customer: '' }, { channel: null }, { channel: '' }, { customer: { name: 'C' } }];
    return { value: json({ ...base(i), ...spoilt[i % spoilt.length] }), codes: ['ORDER.SCHEMA_VIOLATION'], what: 'schema violation' };
  },
  (i) => {
    const channels = ['fax', 'WEB', ' web', 'web\u0000', 'constructor', '__proto__', 'toString', 'c'.repeat(10_000)];
    return { value: json({ ...base(i), channel: channels[i % channels.length] }), codes: ['ORDER.UNKNOWN_CHANNEL'], what: 'unknown channel' };
  },
  (i) => {
    const ids = ['../x', '..', 'a/b', '/', '/etc/passwd', '..\\x', 'x'.repeat(129), 'i'.repeat(10_000), 'o 1', 'o\n1', '', 'ö-1', '%2e%2e%2fx', 'a..b'];
    return { value: json({ ...base(i), id: ids[i % ids.length] }), codes: ['ORDER.INVALID_ID'], what: 'unsafe id' };
  },
  (i) => {
    const totals = ['1e999', '-1e999', '-1', '-0.01', '"NaN"', 'null', '"Infinity"'];
    return { value: withRaw(i, 'total', totals[i % totals.length]!), codes: ['ORDER.INVALID_TOTAL'], what: 'NaN, Infinity or a negative total' };
  },
  (i) => {
    // Not JSON at all: JSON has no NaN or Infinity literals, so a producer that writes them is sending garbage.
    const raws = ['NaN', 'Infinity', '-Infinity'];
    return { value: withRaw(i, 'total', raws[i % raws.length]!), codes: ['MESSAGE.INVALID_JSON'], what: 'NaN or Infinity literal' };
  },
  (i) => {
    const fields: Array<[string, RejectionCode]> = [
      ['id', 'ORDER.INVALID_ID'],
      ['total', 'ORDER.INVALID_TOTAL'],
      ['customer', 'ORDER.SCHEMA_VIOLATION'],
      ['produced_at', 'ORDER.INVALID_PRODUCED_AT'],
    ];
    const [field, code] = fields[i % fields.length]!;
    return { value: withRaw(i, field, deepArray(10_000)), codes: [code], what: 'deeply nested field' };
  },
  (i) => {
    const times = ['yesterday', '2026-13-45T10:00:00Z', '2026-11-22', 'p'.repeat(10_000)];
    return { value: json({ ...base(i), produced_at: times[i % times.length] }), codes: ['ORDER.INVALID_PRODUCED_AT'], what: 'bad produced_at' };
  },
  (i) => {
    // Dates that match the pattern but do not round-trip, and instants outside the years 0000-9999 in UTC.
    const times = ['2026-02-30T10:00:00Z', '2025-02-29T10:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T10:60:00Z', '9999-12-31T23:30:00-01:00'];
    return { value: json({ ...base(i), produced_at: times[i % times.length] }), codes: ['ORDER.INVALID_PRODUCED_AT'], what: 'impossible or out-of-range produced_at' };
  },
  (i) => {
    // No produced_at: the record timestamp is the event time. Nanoseconds, Kafka's "none", past Date's range.
    const { produced_at: _none, ...order } = base(i);
    const timestamps = [1_700_000_000_000_000_000 + i, -1, 8.64e15 + 1 + i];
    return { value: json(order), timestamp: timestamps[i % timestamps.length]!, codes: ['MESSAGE.INVALID_TIMESTAMP'], what: 'record timestamp that is no time' };
  },
  (i) => {
    const texts = [`{"id":"o-${i}","total":`, `{"id":"o-${i}",}`, `${JSON.stringify(base(i))}}`, `{'id':'o-${i}'}`, '{'];
    return { value: Buffer.from(texts[i % texts.length]!), codes: ['MESSAGE.INVALID_JSON'], what: 'invalid JSON' };
  },
  () => ({ value: Buffer.alloc(0), codes: ['MESSAGE.EMPTY'], what: 'empty message' }),
  (i) => ({
    // The last of duplicate members wins in JSON.parse.
    value: Buffer.from(`{"id":"o-ok-${i}","customer":"C","total":1,"channel":"web","id":"../x"}`),
    codes: ['ORDER.INVALID_ID'],
    what: 'duplicate member hiding an unsafe id',
  }),
  (i) => ({
    // A channel offered only through the prototype must not be found.
    value: Buffer.from(`{"__proto__":{"channel":"web"},"constructor":{"prototype":{"channel":"web"}},"id":"o-proto-${i}","customer":"C","total":1}`),
    codes: ['ORDER.SCHEMA_VIOLATION'],
    what: 'prototype pollution attempt',
  }),
];

/** Over ORDERFLOW_MAX_MESSAGE_BYTES (64 KiB in F5), however valid the order inside. */
const OVERSIZE = (i: number): Poison => ({
  value: json({ ...base(i), customer: 'C'.repeat(66_000 + (i % 4_000)) }),
  codes: ['MESSAGE.TOO_LARGE'],
  what: 'over the size limit',
});

/**
 * `count` messages that can never be processed, cycling through the dead-letter policy with
 * random parameters, reproducible from the seed. Keys and header names include hostile ones.
 */
export const poisonMessages = (count: number, seed: number): Array<FaultCase<DeadLetterExpectation>> => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    // Messages over the limit are 1 in 120: each is over 64 KiB, and volume is not what F5 is about.
    const kind = random() < 1 / 120 ? OVERSIZE : POISONS[Math.floor(random() * POISONS.length)]!;
    const poison = kind(index, random);
    const id = `bad-${index}`;
    const keys: Array<string | Buffer | null> = [id, id, id, null, Buffer.from([0, 0xff, index % 256]), ...HOSTILE_NAMES];
    return {
      id,
      message: {
        key: keys[index % keys.length]!,
        value: poison.value,
        headers: index % 7 === 0 ? withHostileHeaders(id) : [textHeader(CASE_HEADER, id)],
        ...(poison.timestamp === undefined ? {} : { timestamp: poison.timestamp }),
      },
      expect: { kind: 'dead-letter', codes: poison.codes, what: poison.what },
    };
  });
};

/** A deterministic shuffle (Fisher–Yates on the seeded generator), so valid and poison messages interleave in every partition. */
export const shuffled = <T>(items: readonly T[], seed: number): T[] => {
  const random = seededRandom(seed);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
};

/**
 * `count` messages of `bytes` random bytes: over ORDERFLOW_MAX_MESSAGE_BYTES and over what the
 * dead-letter topic takes, on an orders topic that allows them. Random, so that compression cannot
 * bring the record under the limit. Each must arrive on the dead-letter topic cut, with its size and
 * sha256 (adr/0009), and its partition must move on.
 */
export const overDeadLetterLimit = (count: number, bytes: number, seed: number): Array<FaultCase<DeadLetterExpectation>> => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const id = `huge-${index}`;
    const value = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) value[i] = Math.floor(random() * 256);
    return {
      id,
      message: { key: id, value, headers: [textHeader(CASE_HEADER, id)] },
      expect: { kind: 'dead-letter', codes: ['MESSAGE.TOO_LARGE'], what: 'over the dead-letter topic\'s limit', truncated: true },
    };
  });
};

/**
 * Valid orders whose messages are just under `maxMessageBytes` (the customer is padded): bulk large
 * orders, which the batched sink must cut by bytes (ORDERFLOW_BATCH_MAX_BYTES) rather than hold a
 * thousand of them in one body.
 */
export const nearLimitOrders = (
  count: number,
  maxMessageBytes: number,
  options: { seed: number; runId: string; prefix: string },
): Array<FaultCase<ArchiveExpectation>> =>
  validOrders(count, { ...options, runId: `${options.runId}-big` }).map((order) => {
    const spare = maxMessageBytes - order.message.value.length - 64;
    const wire = { ...order.expect.wire, customer: `${order.expect.wire.customer}-${'x'.repeat(spare)}` };
    return { ...order, message: { ...order.message, value: Buffer.from(JSON.stringify(wire)) }, expect: { ...order.expect, wire } };
  });

/**
 * Valid orders whose ids are legal but unusual: `.` and `-` (safe, since the key names them as
 * `orderId=<id>.json`, never as a path segment of their own), and ids differing only in case, which
 * are different orders: the archive keeps them as distinct objects (S3 and COS keys, and Linux file
 * names, are case-sensitive; README).
 */
export const edgeIdOrders = (options: { runId: string; prefix: string }): Array<FaultCase<ArchiveExpectation>> => {
  const tag = options.runId.replace(/[^A-Za-z0-9]/g, '').slice(-8);
  const ids = ['.', '-', `${tag}-CaseOnly`, `${tag}-caseonly`, `${tag}-CASEONLY`];
  return ids.map((id, index) => {
    const wire: WireOrder = { id, customer: `C-${index}`, total: 10 + index, channel: 'web', produced_at: '2026-11-22T10:00:00.000Z' };
    return {
      id,
      message: { key: id, value: Buffer.from(JSON.stringify(wire)), headers: [textHeader(CASE_HEADER, id)] },
      expect: { kind: 'archive', key: expectedKey(options.prefix, wire), wire },
    };
  });
};
