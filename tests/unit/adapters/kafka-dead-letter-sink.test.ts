import { createHash } from 'node:crypto';
import { TRUNCATION_HEADERS } from '../../../src/adapters/kafka/dead-letter-fit';
import { DLQ_HEADERS, KAFKA_DEFAULT_MAX_MESSAGE_BYTES, KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { MessageBusPort, OutboundMessage, textHeader } from '../../../src/application/ports/message-bus.port';
import { rejection } from '../../../src/domain/rejection';
import { anInboundMessage, headersAsText } from '../../support/builders';

/** A bus that records what is published and refuses, as a broker does, records over a limit (kafkajs's error shape). */
class LimitedBusSpy implements Pick<MessageBusPort, 'publish'> {
  readonly published: OutboundMessage[] = [];
  attempts = 0;

  constructor(private readonly maxValueBytes: number) {}

  async publish(_topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    this.attempts++;
    if (messages.some((m) => m.value.length > this.maxValueBytes)) {
      const refusal = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
        type: 'MESSAGE_TOO_LARGE',
        retriable: false,
      });
      throw new Error('Kafka: sending failed', { cause: refusal });
    }
    this.published.push(...messages);
  }
}

const reason = rejection('MESSAGE.TOO_LARGE', 'decode', 'Message of 300000 bytes exceeds the limit of 1024 bytes');
const sinkOn = (bus: LimitedBusSpy, maxRecordBytes?: () => Promise<number | undefined>) =>
  new KafkaDeadLetterSink(bus as unknown as MessageBusPort, 'orders.v1.dlq', maxRecordBytes === undefined ? {} : { maxRecordBytes });

const recordBytes = (m: OutboundMessage): number =>
  (m.key === null ? 0 : Buffer.byteLength(m.key)) + m.value.length + (m.headers ?? []).reduce((n, { key, value }) => n + key.length + value.length, 0);

describe('KafkaDeadLetterSink and the limit of the dead-letter topic', () => {
  it('sends a value that fits whole, without truncation headers', async () => {
    const bus = new LimitedBusSpy(Number.MAX_SAFE_INTEGER);
    const value = Buffer.from('{"id":"o-1"}');
    await sinkOn(bus, async () => 100_000).send({ original: anInboundMessage({ value }), rejection: reason });
    expect(bus.published[0]!.value).toEqual(value);
    expect((bus.published[0]!.headers ?? []).filter((h) => h.key.startsWith('orderflow.errors.value'))).toEqual([]);
  });

  it('cuts a value over the topic limit, keeping key and headers, with the original size and sha256 in headers', async () => {
    const bus = new LimitedBusSpy(Number.MAX_SAFE_INTEGER);
    const value = Buffer.alloc(300_000, 0xab);
    value[0] = 0x7b;
    const original = anInboundMessage({ key: Buffer.from('o-big'), value, headers: [textHeader('traceparent', 't-1')], offset: '42' });
    await sinkOn(bus, async () => 100_000).send({ original, rejection: reason });

    const [sent] = bus.published;
    expect(sent!.key).toEqual(Buffer.from('o-big'));
    expect(headersAsText(sent!.headers ?? [])).toMatchObject({
      traceparent: 't-1',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.code]: 'MESSAGE.TOO_LARGE',
      [TRUNCATION_HEADERS.truncated]: 'true',
      [TRUNCATION_HEADERS.bytes]: '300000',
      [TRUNCATION_HEADERS.sha256]: createHash('sha256').update(value).digest('hex'),
    });
    expect(recordBytes(sent!)).toBeLessThanOrEqual(100_000);
    expect(sent!.value.length).toBeGreaterThan(90_000);
    expect(sent!.value).toEqual(value.subarray(0, sent!.value.length));
  });

  it('sends again with less of the value when the broker refuses a record as too large, and gives up at none', async () => {
    const bus = new LimitedBusSpy(10_000);
    const value = Buffer.alloc(300_000, 0x20);
    // No limit known (as on the in-memory bus): the refusal teaches it.
    await sinkOn(bus).send({ original: anInboundMessage({ value }), rejection: reason });
    expect(bus.published).toHaveLength(1);
    expect(bus.published[0]!.value.length).toBeLessThanOrEqual(10_000);
    expect(headersAsText(bus.published[0]!.headers ?? [])).toMatchObject({ [TRUNCATION_HEADERS.bytes]: '300000' });

    const refusesAll = new LimitedBusSpy(-1);
    await expect(sinkOn(refusesAll).send({ original: anInboundMessage({ value }), rejection: reason })).rejects.toThrow(/sending failed/);
    expect(refusesAll.attempts).toBeLessThanOrEqual(10);
  });

  it("assumes Kafka's default limit when the topic's cannot be read", async () => {
    const bus = new LimitedBusSpy(Number.MAX_SAFE_INTEGER);
    const lookup = jest.fn(async () => {
      throw new Error('not authorized');
    });
    const sink = sinkOn(bus, lookup);
    await sink.send({ original: anInboundMessage({ value: Buffer.alloc(2_000_000, 0x20) }), rejection: reason });
    await sink.send({ original: anInboundMessage({ value: Buffer.alloc(10, 0x20) }), rejection: reason });
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(recordBytes(bus.published[0]!)).toBeLessThanOrEqual(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
    expect(bus.published[1]!.value.length).toBe(10);
  });
});
