import { DLQ_HEADERS, KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { BatchedOrderSink, NDJSON_CONTENT_TYPE } from '../../../src/application/stages/batched-archive.stage';
import { BatchStage } from '../../../src/application/stages/stage';
import { DeadLetterPort } from '../../../src/application/ports/dead-letter.port';
import { LoggerPort } from '../../../src/application/ports/logger.port';
import { Delivery, headerText, OutboundMessage, Subscription } from '../../../src/application/ports/message-bus.port';
import { OrderArchivePort } from '../../../src/application/ports/order-archive.port';
import { anInboundMessage, aWireOrder, wireBytes } from '../../support/builders';
import { aSinkDeps, aStagePipeline, crash, DLQ, FailingDeadLetterSpy, FlakyOrderArchive, GROUP, ORDERS, silentLogger } from '../../support/pipeline';

const PREFIX = 'orders-batched';
const DAY = '2026-11-22';
/** A fixed clock makes consumed_at, and so a whole replayed object, byte-identical to the first write. */
const NOW = Date.parse(`${DAY}T10:00:05.000Z`);

const objectKey = (partition: number, startOffset: number, dt = DAY): string =>
  `${PREFIX}/dt=${dt}/${ORDERS}+${partition}+${String(startOffset).padStart(10, '0')}.ndjson`;
const idleObjectKey = (partition: number, startOffset: number, endOffset: number): string =>
  `${PREFIX}/dt=${DAY}/${ORDERS}+${partition}+${String(startOffset).padStart(10, '0')}+${String(endOffset).padStart(10, '0')}.ndjson`;

interface SinkOptions {
  readonly maxMessages?: number;
  readonly maxSpanMs?: number;
  readonly maxBytes?: number;
  readonly maxMessageBytes?: number;
  readonly idleFlushMs?: number;
  readonly now?: () => number;
  readonly inFlightBudget?: number;
  readonly subscriptionMaxInFlightBytes?: number;
  readonly deadLetters?: DeadLetterPort;
  readonly logger?: LoggerPort;
}

const aBatchedSink = (bus: InMemoryMessageBus, archive: OrderArchivePort, options: SinkOptions = {}) => {
  const maxMessages = options.maxMessages ?? 3;
  const inFlightBudget = options.inFlightBudget ?? 4 * maxMessages;
  const deps = aSinkDeps(bus, archive, { ...options, now: options.now ?? (() => NOW) });
  const sink = new BatchedOrderSink(deps, {
    topic: ORDERS,
    prefix: PREFIX,
    rotation: {
      maxMessages,
      maxSpanMs: options.maxSpanMs ?? 60_000,
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      ...(options.idleFlushMs === undefined ? {} : { idleFlushMs: options.idleFlushMs }),
    },
    maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
    backoff: { baseDelayMs: 1, maxDelayMs: 5 },
    inFlightBudget,
    ...(options.subscriptionMaxInFlightBytes === undefined ? {} : { subscriptionMaxInFlightBytes: options.subscriptionMaxInFlightBytes }),
  });
  const pipeline = aStagePipeline(bus, sink, deps, { maxInFlight: inFlightBudget });
  return { sink, deps, pipeline, metrics: deps.metrics, statistics: deps.statistics };
};

/** Orders o-<first>… in publish order; keyless, so the in-memory bus deals them round-robin over the partitions. */
const ordersFrom = (first: number, count: number, producedAt = `${DAY}T10:00:00.000Z`): OutboundMessage[] =>
  Array.from({ length: count }, (_, i) => ({ key: null, value: wireBytes(aWireOrder({ id: `o-${first + i}`, produced_at: producedAt })) }));

const idsIn = async (archive: InMemoryOrderArchive, key: string): Promise<string[]> => {
  const body = (await archive.get(key))?.toString() ?? '';
  expect(body.endsWith('\n')).toBe(true);
  return body.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
};

const until = async (condition: () => boolean | Promise<boolean>): Promise<void> => {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
};

/** An archive whose writes land at once but whose answers wait until released: a slow store, or a process about to die. */
class GatedArchive implements OrderArchivePort {
  readonly stored = new InMemoryOrderArchive();
  gated = true;
  private waiting: Array<() => void> = [];

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.stored.put(key, body, contentType);
    if (this.gated) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.gated = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

describe('the batched sink on the in-memory bus', () => {
  it('writes one NDJSON object per partition per batch, named by start offset, and commits only batch boundaries', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const archive = new InMemoryOrderArchive();
    const { pipeline, statistics } = aBatchedSink(bus, archive, { maxMessages: 3 });
    await bus.publish(ORDERS, ordersFrom(0, 14));
    await pipeline.start();
    await until(() => archive.size === 4);
    await pipeline.stop();

    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), objectKey(0, 3), objectKey(1, 0), objectKey(1, 3)]);
    // Round-robin: partition 0 holds the even orders, partition 1 the odd ones, each in offset order.
    expect(await idsIn(archive, objectKey(0, 3))).toEqual(['o-6', 'o-8', 'o-10']);
    expect(await idsIn(archive, objectKey(1, 0))).toEqual(['o-1', 'o-3', 'o-5']);
    expect(archive.contentTypeOf(objectKey(0, 0))).toBe(NDJSON_CONTENT_TYPE);
    const line = JSON.parse((await archive.get(objectKey(0, 0)))!.toString().split('\n')[0]!);
    expect(line).toMatchObject({ id: 'o-0', channel: 'web', risk_score: 149.99 / 1000, high_risk: false, consumed_at: `${DAY}T10:00:05.000Z` });
    // The seventh message of each partition opened a batch that nothing closed: it is neither written nor committed.
    expect(bus.committed(GROUP, ORDERS)).toEqual([6, 6]);
    expect(statistics.snapshot(NOW).archived).toBe(12);
  });

  it("acks each written object's run of a partition batch in one call, and moves the acked prefix only past what is written", async () => {
    const archive = new GatedArchive();
    const { sink } = aBatchedSink(new InMemoryMessageBus(), archive, { maxMessages: 3 });
    const messages = ordersFrom(0, 7).map((order, i) => anInboundMessage({ topic: ORDERS, offset: String(i), value: order.value }));
    const ackedThrough: number[] = [];
    const nacked: number[] = [];
    sink.handleBatch({
      topic: ORDERS,
      partition: 0,
      generation: 1,
      messages,
      ackThrough: (index) => void ackedThrough.push(index),
      nack: (index) => void nacked.push(index),
    });
    // Offsets 0-2 and 3-5 make two objects; 6 opens a third that nothing closes.
    await until(() => archive.stored.size === 2);
    expect(ackedThrough).toEqual([]);
    archive.release();
    await until(() => ackedThrough.includes(5));
    expect(ackedThrough).toEqual([2, 5]);
    sink.stop();
    expect(nacked).toEqual([6]);
  });

  it('acks a batch only once its object is written', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new GatedArchive();
    const { pipeline } = aBatchedSink(bus, archive, { maxMessages: 3 });
    await bus.publish(ORDERS, ordersFrom(0, 3));
    await pipeline.start();
    await until(() => archive.stored.size === 1);
    expect(bus.committed(GROUP, ORDERS)).toEqual([0]);

    archive.release();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(bus.committed(GROUP, ORDERS)).toEqual([3]);
  });

  it('closes a batch at a UTC date change and at the event-time span, before it is full', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const { pipeline } = aBatchedSink(bus, archive, { maxMessages: 100, maxSpanMs: 60_000 });
    await bus.publish(ORDERS, [
      ...ordersFrom(0, 2, '2026-11-22T23:59:58.000Z'),
      ...ordersFrom(2, 2, '2026-11-23T00:00:01.000Z'),
      ...ordersFrom(4, 1, '2026-11-23T00:01:01.000Z'),
      ...ordersFrom(5, 1, '2026-11-23T00:02:30.000Z'),
    ]);
    await pipeline.start();
    await until(() => archive.size === 3);
    await pipeline.stop();

    expect(await archive.list(`${PREFIX}/`)).toEqual([
      objectKey(0, 0, '2026-11-22'),
      objectKey(0, 2, '2026-11-23'),
      objectKey(0, 4, '2026-11-23'),
    ]);
    expect(await idsIn(archive, objectKey(0, 2, '2026-11-23'))).toEqual(['o-2', 'o-3']);
    expect(bus.committed(GROUP, ORDERS)).toEqual([5]);
  });

  it('rewrites the same objects with the same contents after a crash, replaying from the committed offset', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    await bus.publish(ORDERS, ordersFrom(0, 190));
    // The third object lands in the store, but the process dies before its write is answered:
    // the batches after it are written and acked too, yet the commit cannot pass its start.
    const firstStore = new InMemoryOrderArchive();
    let puts = 0;
    const dying: OrderArchivePort = {
      put: async (key, body, type) => {
        await firstStore.put(key, body, type);
        if (++puts === 3) await new Promise(() => undefined);
      },
    };
    const first = aBatchedSink(bus, dying, { maxMessages: 10 });
    const subscription = await first.pipeline.start();
    await until(() => firstStore.size === 18);
    crash(subscription);
    const committedAtCrash = bus.committed(GROUP, ORDERS);
    expect(committedAtCrash.some((position) => position < 90)).toBe(true);

    const secondStore = new InMemoryOrderArchive();
    const second = aBatchedSink(bus, secondStore, { maxMessages: 10 });
    await second.pipeline.start();
    await until(() => bus.committed(GROUP, ORDERS).every((position) => position === 90));
    await second.pipeline.stop();

    const replayed = await secondStore.list(`${PREFIX}/`);
    expect(replayed.length).toBeGreaterThan(0);
    for (const key of replayed) {
      // Same name, same bytes: the replay cut the batches exactly where the first run did.
      expect((await firstStore.get(key))?.equals((await secondStore.get(key))!)).toBe(true);
    }
    const expected = [0, 1].flatMap((partition) => Array.from({ length: 9 }, (_, batch) => objectKey(partition, batch * 10)));
    expect(await firstStore.list(`${PREFIX}/`)).toEqual(expected.sort());
    // Everything after the committed offsets was written again, under the same names.
    for (const [partition, position] of committedAtCrash.entries()) {
      for (let start = position; start < 90; start += 10) expect(replayed).toContain(objectKey(partition, start));
    }
  });

  it('leaves an idle partition\'s last batch open by default, whatever the clock says', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    let now = NOW;
    const { sink, pipeline } = aBatchedSink(bus, archive, { maxMessages: 5, now: () => now });
    await bus.publish(ORDERS, ordersFrom(0, 7));
    await pipeline.start();
    await until(() => archive.size === 1);
    now += 24 * 3_600_000;
    sink.flushIdle();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0)]);
    expect(bus.committed(GROUP, ORDERS)).toEqual([5]);
    await pipeline.stop();
  });

  it('with idleFlushMs, writes a batch no message joined for that long, named by both ends, and commits it', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    let now = NOW;
    const { sink, pipeline } = aBatchedSink(bus, archive, { maxMessages: 5, idleFlushMs: 2_000, now: () => now });
    await bus.publish(ORDERS, ordersFrom(0, 7));
    await pipeline.start();
    await until(() => archive.size === 1);
    now += 1_999;
    sink.flushIdle();
    expect(archive.size).toBe(1);

    now += 1;
    sink.flushIdle();
    await bus.caughtUp(GROUP, ORDERS);
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), idleObjectKey(0, 5, 6)]);
    expect(await idsIn(archive, idleObjectKey(0, 5, 6))).toEqual(['o-5', 'o-6']);

    // The stream goes on from the next offset with the records' own rules.
    await bus.publish(ORDERS, ordersFrom(7, 5));
    await until(() => archive.size === 3);
    expect(await idsIn(archive, objectKey(0, 7))).toEqual(['o-7', 'o-8', 'o-9', 'o-10', 'o-11']);
    await pipeline.stop();
  });

  it('after a crash between an idle write and its commit, a replay may write those orders again in another object, never lose one', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await bus.publish(ORDERS, ordersFrom(0, 7));
    let now = NOW;
    const archive = new GatedArchive();
    archive.release();
    const first = aBatchedSink(bus, archive, { maxMessages: 5, idleFlushMs: 2_000, now: () => now });
    const subscription = await first.pipeline.start();
    await until(() => bus.committed(GROUP, ORDERS)[0] === 5);
    // The idle cut lands in the store, but the process dies before the write is answered.
    archive.gated = true;
    now += 2_000;
    first.sink.flushIdle();
    await until(() => archive.stored.size === 2);
    crash(subscription);

    await bus.publish(ORDERS, ordersFrom(7, 3));
    archive.release();
    const second = aBatchedSink(bus, archive, { maxMessages: 5, idleFlushMs: 2_000, now: () => now });
    await second.pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await second.pipeline.stop();

    expect(await archive.stored.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), idleObjectKey(0, 5, 6), objectKey(0, 5)]);
    expect(await idsIn(archive.stored, objectKey(0, 5))).toEqual(['o-5', 'o-6', 'o-7', 'o-8', 'o-9']);
    // o-5 and o-6 are in two objects: duplicates, counted by a reader of the lake; nothing is missing.
    const archived = new Set<string>();
    for (const key of await archive.stored.list(`${PREFIX}/`)) for (const id of await idsIn(archive.stored, key)) archived.add(id);
    expect(archived.size).toBe(10);
  });

  it('dead-letters at once but acks with the batch, so the commit never passes into an unwritten batch', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new GatedArchive();
    const { pipeline, statistics } = aBatchedSink(bus, archive, { maxMessages: 3 });
    const bad = (key: string): OutboundMessage => ({ key, value: Buffer.from('{"id": "truncated') });
    const [o0, o2, o4, o7] = [ordersFrom(0, 1), ordersFrom(2, 1), ordersFrom(4, 1), ordersFrom(7, 1)].map(([message]) => message!);
    await bus.publish(ORDERS, [o0!, bad('b1'), o2!, bad('b3'), o4!, bad('b5'), bad('b6'), bad('b7'), bad('b8'), bad('b9'), o7!, bad('b11')]);
    await pipeline.start();
    await until(() => archive.stored.size === 3 && bus.records(DLQ).length === 8);
    // Every dead letter is on the topic and the all-dead-letter batch [6..8] is done, but the
    // commit waits at 0 until the first object's write is answered.
    expect(bus.committed(GROUP, ORDERS)).toEqual([0]);

    archive.release();
    await until(() => bus.committed(GROUP, ORDERS)[0] === 12);
    await pipeline.stop();

    // A batch is named by its first archived record: [b3, o-4, b5] → 4, [b9, o-7, b11] → 10.
    expect(await archive.stored.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), objectKey(0, 4), objectKey(0, 10)]);
    expect(await idsIn(archive.stored, objectKey(0, 0))).toEqual(['o-0', 'o-2']);
    expect(await idsIn(archive.stored, objectKey(0, 10))).toEqual(['o-7']);
    expect(bus.records(DLQ).map((record) => headerText(record.headers, DLQ_HEADERS.offset))).toEqual(['1', '3', '5', '6', '7', '8', '9', '11']);
    expect(statistics.snapshot(NOW).deadLettered).toBe(8);
  });

  it('does not ack a batch whose dead letter cannot be written, and completes it once the topic is back', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const deadLetters = new FailingDeadLetterSpy(new KafkaDeadLetterSink(bus, DLQ));
    const { pipeline } = aBatchedSink(bus, archive, { maxMessages: 3, deadLetters });
    await bus.publish(ORDERS, [...ordersFrom(0, 1), { key: 'bad', value: Buffer.from('not json') }, ...ordersFrom(2, 1)]);
    await pipeline.start();
    await until(() => archive.size === 1);
    expect(bus.committed(GROUP, ORDERS)).toEqual([0]);

    deadLetters.failing = false;
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(bus.records(DLQ)).toHaveLength(1);
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0)]);
  });

  it('holds batches while the archive fails, and writes each under its own name once it works again', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const stored = new InMemoryOrderArchive();
    const archive = new FlakyOrderArchive(stored, 3);
    const { pipeline, metrics } = aBatchedSink(bus, archive, { maxMessages: 5 });
    await bus.publish(ORDERS, ordersFrom(0, 40));
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    expect(archive.failures).toBe(3);
    expect(metrics.retried).toBeGreaterThanOrEqual(3);
    expect(metrics.healthy).toBe(true);
    const expected = [0, 1].flatMap((partition) => [0, 5, 10, 15].map((start) => objectKey(partition, start)));
    expect(await stored.list(`${PREFIX}/`)).toEqual(expected.sort());
  });

  it('releases the open batch at shutdown without committing it; the next consumer cuts it the same way', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    await bus.publish(ORDERS, ordersFrom(0, 6));
    const first = aBatchedSink(bus, archive, { maxMessages: 4 });
    await first.pipeline.start();
    await until(() => archive.size === 1);
    await first.pipeline.stop();
    expect(bus.committed(GROUP, ORDERS)).toEqual([4]);

    await bus.publish(ORDERS, ordersFrom(6, 2));
    const second = aBatchedSink(bus, archive, { maxMessages: 4 });
    await second.pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await second.pipeline.stop();
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), objectKey(0, 4)]);
    expect(await idsIn(archive, objectKey(0, 4))).toEqual(['o-4', 'o-5', 'o-6', 'o-7']);
  });
});

describe('the batched sink, delivery by delivery', () => {
  const aDelivery = (partition: number, offset: number, generation = 1): Delivery & { ack: jest.Mock; nack: jest.Mock } => ({
    message: anInboundMessage({ partition, offset: String(offset) }),
    generation,
    ack: jest.fn(),
    nack: jest.fn(),
  });

  it('lets go of the open batch when the bus goes back to an earlier offset', () => {
    const { sink } = aBatchedSink(new InMemoryMessageBus(), new InMemoryOrderArchive(), { maxMessages: 5 });
    const held = [aDelivery(0, 7), aDelivery(0, 8)];
    for (const delivery of held) sink.handle(delivery);
    sink.handle(aDelivery(0, 7));
    for (const delivery of held) expect(delivery.nack).toHaveBeenCalledTimes(1);
  });

  it('never extends a batch across generations: a member whose session expired cannot overwrite what the next owner wrote', async () => {
    // issue 9, item 1: A holds 100–150; its session expires and B writes 100–199 and commits 200;
    // the partition comes back to A at 200, in A's next generation.
    const archive = new InMemoryOrderArchive();
    const options = { maxMessages: 100 };
    const memberA = aBatchedSink(new InMemoryMessageBus(), archive, options).sink;
    const memberB = aBatchedSink(new InMemoryMessageBus(), archive, options).sink;
    const anOrderAt = (offset: number, generation: number): Delivery & { ack: jest.Mock; nack: jest.Mock } => ({
      ...aDelivery(0, offset, generation),
      message: anInboundMessage({ partition: 0, offset: String(offset), value: wireBytes(aWireOrder({ id: `o-${offset}` })) }),
    });
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    const heldByA = range(100, 150).map((offset) => anOrderAt(offset, 1));
    heldByA.forEach((delivery) => memberA.handle(delivery));
    const writtenByB = range(100, 199).map((offset) => anOrderAt(offset, 1));
    writtenByB.forEach((delivery) => memberB.handle(delivery));
    await until(() => writtenByB.every((delivery) => delivery.ack.mock.calls.length === 1));
    expect(await idsIn(archive, objectKey(0, 100))).toEqual(range(100, 199).map((offset) => `o-${offset}`));

    // A never heard of a revocation; its next deliveries say they belong to a later generation.
    const backToA = range(200, 248).map((offset) => anOrderAt(offset, 2));
    backToA.forEach((delivery) => memberA.handle(delivery));
    await new Promise((resolve) => setImmediate(resolve));

    expect(await idsIn(archive, objectKey(0, 100))).toEqual(range(100, 199).map((offset) => `o-${offset}`));
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 100)]);
    for (const delivery of heldByA) expect(delivery.nack).toHaveBeenCalledTimes(1);
    for (const delivery of backToA) expect(delivery.nack).not.toHaveBeenCalled();
  });

  it('counts each order of a batch object it writes again as a duplicate', async () => {
    const archive = new InMemoryOrderArchive();
    const { sink, metrics } = aBatchedSink(new InMemoryMessageBus(), archive, { maxMessages: 3 });
    const deliverBatch = () => [0, 1, 2].map((offset) => aDelivery(0, offset)).map((delivery) => (sink.handle(delivery), delivery));
    const first = deliverBatch();
    await until(() => first.every((delivery) => delivery.ack.mock.calls.length === 1));
    expect(metrics.duplicates).toBe(0);

    // The bus went back to offset 0 (a replay after a nack or a reconnect): the same object again.
    const replay = deliverBatch();
    await until(() => replay.every((delivery) => delivery.ack.mock.calls.length === 1));
    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0)]);
    expect(archive.puts).toBe(2);
    expect(metrics.duplicates).toBe(3);
  });

  it('gives every open batch back when the partitions are revoked, and the pipeline tells it when that happens', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const { sink, pipeline } = aBatchedSink(bus, new InMemoryOrderArchive(), { maxMessages: 5 });
    const held = [aDelivery(0, 0), aDelivery(0, 1), aDelivery(1, 0)];
    for (const delivery of held) sink.handle(delivery);
    expect(held.every((delivery) => delivery.nack.mock.calls.length === 0)).toBe(true);
    sink.onPartitionsRevoked();
    for (const delivery of held) expect(delivery.nack).toHaveBeenCalledTimes(1);

    // The pipeline subscribes with it, so the bus calls it before a rebalance.
    const subscribe = bus.subscribe.bind(bus);
    const given: Array<(() => void) | undefined> = [];
    bus.subscribe = (options) => (given.push(options.onPartitionsRevoked), subscribe(options));
    await pipeline.start();
    expect(given).toEqual([sink.onPartitionsRevoked]);
    await pipeline.stop();
  });

  it('releases the longest-idle open batch when open batches reach half the in-flight budget', () => {
    const warnings: string[] = [];
    const logger: LoggerPort = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
    const { sink } = aBatchedSink(new InMemoryMessageBus(), new InMemoryOrderArchive(), { maxMessages: 2, inFlightBudget: 4, logger });
    const idle = aDelivery(0, 0);
    const busy = aDelivery(1, 0);
    sink.handle(idle);
    sink.handle(busy);
    expect(idle.nack).toHaveBeenCalledTimes(1);
    expect(busy.nack).not.toHaveBeenCalled();
    expect(warnings).toEqual([expect.stringContaining('releasing the longest-idle one')]);
  });

  it("keeps open batches under half the subscription's own byte bound too, releasing the longest-idle one", () => {
    const warnings: string[] = [];
    const logger: LoggerPort = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
    const { sink } = aBatchedSink(new InMemoryMessageBus(), new InMemoryOrderArchive(), {
      maxMessages: 100,
      maxBytes: 1024 * 1024,
      subscriptionMaxInFlightBytes: 600,
      logger,
    });
    const idle = aDelivery(0, 0);
    const busy = aDelivery(1, 0);
    sink.handle(idle);
    expect(idle.nack).not.toHaveBeenCalled();
    sink.handle(busy);
    expect(idle.nack).toHaveBeenCalledTimes(1);
    expect(busy.nack).not.toHaveBeenCalled();
    expect(warnings).toEqual([expect.stringContaining('releasing the longest-idle one')]);
  });

  it('refuses an in-flight budget that could never fill one batch', () => {
    expect(() => aBatchedSink(new InMemoryMessageBus(), new InMemoryOrderArchive(), { maxMessages: 10, inFlightBudget: 19 })).toThrow(
      /needs at least twice the batch size/,
    );
  });

  it('nacks whatever arrives after stop', () => {
    const { sink } = aBatchedSink(new InMemoryMessageBus(), new InMemoryOrderArchive());
    const held = aDelivery(0, 0);
    sink.handle(held);
    sink.stop();
    const late = aDelivery(0, 1);
    sink.handle(late);
    expect(held.nack).toHaveBeenCalledTimes(1);
    expect(late.nack).toHaveBeenCalledTimes(1);
  });

  it('cuts by bytes: a record that would push a batch over maxBytes starts the next one, and one that alone reaches it is a batch of its own', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const maxBytes = 2 * 1024 * 1024;
    const { pipeline } = aBatchedSink(bus, archive, { maxMessages: 1000, maxBytes, maxMessageBytes: 4 * 1024 * 1024, inFlightBudget: 4000 });
    const large = (id: number, bytes: number): OutboundMessage => ({
      key: null,
      value: wireBytes(aWireOrder({ id: `o-${id}`, customer: 'c'.repeat(bytes), produced_at: `${DAY}T10:00:00.000Z` })),
    });
    await bus.publish(ORDERS, [...Array.from({ length: 9 }, (_, i) => large(i, 600_000)), large(9, 2_500_000), large(10, 10)]);
    await pipeline.start();
    await until(() => archive.size === 4);
    await pipeline.stop();

    expect(await archive.list(`${PREFIX}/`)).toEqual([objectKey(0, 0), objectKey(0, 3), objectKey(0, 6), objectKey(0, 9)]);
    expect(await idsIn(archive, objectKey(0, 0))).toEqual(['o-0', 'o-1', 'o-2']);
    expect(await idsIn(archive, objectKey(0, 6))).toEqual(['o-6', 'o-7', 'o-8']);
    expect(await idsIn(archive, objectKey(0, 9))).toEqual(['o-9']);
    for (const key of [objectKey(0, 0), objectKey(0, 3), objectKey(0, 6)]) expect((await archive.get(key))!.length).toBeLessThanOrEqual(maxBytes);
    // The last order opened a batch that nothing closed yet.
    expect(bus.committed(GROUP, ORDERS)).toEqual([10]);
  });

  it('sizes its in-flight budget from the partitions assigned, so 24 partitions need no releases', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 24 });
    const archive = new InMemoryOrderArchive();
    const warnings: string[] = [];
    const logger: LoggerPort = { ...silentLogger, warn: (_fields, message) => void warnings.push(message) };
    // The budget the composition root used to give: sized for the 6 partitions `consume` creates.
    const { sink, deps } = aBatchedSink(bus, archive, { maxMessages: 10, inFlightBudget: 2 * 10 * 6, logger });
    let deliveries = 0;
    const counting: BatchStage = {
      kind: 'batch',
      name: sink.name,
      topic: sink.topic,
      handleBatch: (batch) => ((deliveries += batch.messages.length), sink.handleBatch(batch)),
      stop: () => sink.stop(),
      onPartitionsRevoked: sink.onPartitionsRevoked,
      maxInFlight: sink.maxInFlight,
    };
    const pipeline = aStagePipeline(bus, counting, deps, { maxInFlight: 1 });
    await bus.publish(ORDERS, ordersFrom(0, 24 * 20));
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS, 10_000);
    await pipeline.stop();

    expect(sink.maxInFlight(24)).toBe(2 * 10 * 24);
    expect(deliveries).toBe(24 * 20);
    expect(warnings).toEqual([]);
    expect(await archive.list(`${PREFIX}/`)).toHaveLength(48);
  });
});
