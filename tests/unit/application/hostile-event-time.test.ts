import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { BatchedOrderSink } from '../../../src/application/stages/batched-archive.stage';
import { headerText } from '../../../src/application/ports/message-bus.port';
import { OrderDecoderPort } from '../../../src/application/ports/order-decoder.port';
import { OrderSinkDeps } from '../../../src/application/stages/archive-deps';
import { PerOrderArchiveStage } from '../../../src/application/stages/per-order-archive.stage';
import { IoTsOrderCodec } from '../../../src/adapters/io-ts/io-ts-order-codec';
import { aWireOrder, headersAsText, wireBytes } from '../../support/builders';
import { aSinkDeps, aStagePipeline, DLQ, GROUP, ORDERS } from '../../support/pipeline';

const backoff = { baseDelayMs: 1, maxDelayMs: 5 };

/** Both sinks on the same bus, archive and deps: what a message means must not depend on the sink. One message per batch, so every batch closes. */
const SINKS = {
  'per-order': (deps: OrderSinkDeps) => new PerOrderArchiveStage(deps, { topic: ORDERS, archivePrefix: 'orders', maxMessageBytes: 64 * 1024 }),
  batched: (deps: OrderSinkDeps) =>
    new BatchedOrderSink(deps, { topic: ORDERS, prefix: 'orders-batched', rotation: { maxMessages: 1, maxSpanMs: 60_000 }, maxMessageBytes: 64 * 1024, backoff, inFlightBudget: 8 }),
} as const;

const run = async (kind: keyof typeof SINKS, bus: InMemoryMessageBus, override: Partial<OrderSinkDeps> = {}) => {
  const archive = new InMemoryOrderArchive();
  const deps = { ...aSinkDeps(bus, archive), ...override };
  const pipeline = aStagePipeline(bus, SINKS[kind](deps), deps, { maxInFlight: 8, backoff });
  await pipeline.start();
  // Short: before event times were validated, the partition never caught up (endless redelivery).
  try {
    await bus.caughtUp(GROUP, ORDERS, 5_000);
  } finally {
    await pipeline.stop();
  }
  return { archive };
};

const noProducedAt = (id: string): Buffer => {
  const { produced_at: _omitted, ...order } = aWireOrder({ id });
  return wireBytes(order);
};

describe.each(Object.keys(SINKS) as Array<keyof typeof SINKS>)('the %s sink with hostile event times', (kind) => {
  it('dead-letters record timestamps that are no time, and impossible produced_at dates, each with its code, and moves on', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await bus.publish(ORDERS, [
      { key: 'ns', value: noProducedAt('ns'), timestamp: 1.7e18 },
      { key: 'minus-one', value: noProducedAt('minus-one'), timestamp: -1 },
      { key: 'past-max', value: noProducedAt('past-max'), timestamp: 8.64e15 + 1 },
      { key: 'feb-30', value: wireBytes(aWireOrder({ id: 'feb-30', produced_at: '2026-02-30T10:00:00Z' })) },
      { key: 'y10k', value: wireBytes(aWireOrder({ id: 'y10k', produced_at: '9999-12-31T23:30:00-01:00' })) },
      { key: 'ok-1', value: wireBytes(aWireOrder({ id: 'ok-1' })) },
      { key: 'ok-2', value: wireBytes(aWireOrder({ id: 'ok-2' })) },
    ]);
    const { archive } = await run(kind, bus);

    const codes = Object.fromEntries(bus.records(DLQ).map((r) => [r.key?.toString(), headerText(r.headers, DLQ_HEADERS.code)]));
    expect(codes).toEqual({
      ns: 'MESSAGE.INVALID_TIMESTAMP',
      'minus-one': 'MESSAGE.INVALID_TIMESTAMP',
      'past-max': 'MESSAGE.INVALID_TIMESTAMP',
      'feb-30': 'ORDER.INVALID_PRODUCED_AT',
      y10k: 'ORDER.INVALID_PRODUCED_AT',
    });
    expect(bus.committed(GROUP, ORDERS)).toEqual([7]);
    const body = (await Promise.all((await archive.list('')).map(async (key) => (await archive.get(key))!.toString()))).join('');
    expect(body).toContain('"ok-1"');
    expect(body).toContain('"ok-2"');
    expect((await archive.list('')).every((key) => /\/dt=2026-11-22\//.test(key))).toBe(true);
  });

  it('dead-letters a message whose evaluation throws, naming the exception class, instead of replaying it', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const codec = new IoTsOrderCodec();
    const decoder: OrderDecoderPort = {
      decode: (bytes) => {
        if (bytes.toString().includes('"boom"')) throw new RangeError('Maximum call stack size exceeded');
        return codec.decode(bytes);
      },
    };
    await bus.publish(ORDERS, [
      { key: 'boom', value: wireBytes(aWireOrder({ id: 'boom' })) },
      { key: 'ok-1', value: wireBytes(aWireOrder({ id: 'ok-1' })) },
      { key: 'ok-2', value: wireBytes(aWireOrder({ id: 'ok-2' })) },
    ]);
    await run(kind, bus, { decoder });

    const dlq = bus.records(DLQ);
    expect(dlq).toHaveLength(1);
    expect(headersAsText(dlq[0]!.headers)).toMatchObject({
      [DLQ_HEADERS.code]: 'MESSAGE.EVALUATION_FAILED',
      [DLQ_HEADERS.exceptionClass]: 'RangeError',
      [DLQ_HEADERS.stage]: 'evaluate',
    });
    expect(headerText(dlq[0]!.headers, DLQ_HEADERS.exceptionMessage)).toMatch(/Maximum call stack size exceeded/);
    expect(bus.committed(GROUP, ORDERS)).toEqual([3]);
  });
});
