import { DLQ_HEADERS, KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { InMemoryOrderArchive } from '../../../src/adapters/memory/in-memory-order-archive';
import { Sleep } from '../../../src/application/retry';
import { headerText, textHeader } from '../../../src/application/ports/message-bus.port';
import { aWireOrder, headersAsText, wireBytes } from '../../support/builders';
import { aPipeline, aStagePipeline, crash, DLQ, FailingDeadLetterSpy, FlakyOrderArchive, GROUP, ORDERS } from '../../support/pipeline';
import { LoggerSpy } from '../../support/logger-spy';

const publishOrders = async (bus: InMemoryMessageBus, count: number, prefix = 'o'): Promise<string[]> => {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await bus.publish(
    ORDERS,
    ids.map((id) => ({ key: id, value: wireBytes(aWireOrder({ id })) })),
  );
  return ids;
};

const keyOf = (id: string): string => `orders/dt=2026-11-22/orderId=${id}.json`;

/**
 * The at-least-once invariant, checked from the outside: every offset below a partition's
 * committed position has its order in the archive or its message on the DLQ.
 */
const assertNoCommitPassesAFailedWrite = (bus: InMemoryMessageBus, storedKeys: Set<string>): void => {
  const committed = bus.committed(GROUP, ORDERS);
  const deadLettered = new Set(bus.records(DLQ).map((r) => `${headerText(r.headers, DLQ_HEADERS.partition)}:${headerText(r.headers, DLQ_HEADERS.offset)}`));
  for (const record of bus.records(ORDERS)) {
    if (Number(record.offset) >= committed[record.partition]!) continue;
    const id = record.key?.toString() ?? '';
    const done = storedKeys.has(keyOf(id)) || deadLettered.has(`${record.partition}:${record.offset}`);
    if (!done) throw new Error(`Offset ${record.partition}:${record.offset} (${id}) was committed before it was stored`);
  }
};

describe('process orders on the in-memory bus', () => {
  it('archives every order under its Hive key with the enriched record, then commits', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 3 });
    const archive = new InMemoryOrderArchive();
    const { pipeline, statistics } = aPipeline(bus, archive);
    await pipeline.start();
    await bus.publish(ORDERS, [{ key: 'o-1002', value: wireBytes(aWireOrder({ id: 'o-1002', total: 879, channel: 'partner' })) }]);
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    const stored = JSON.parse((await archive.get(keyOf('o-1002')))!.toString());
    expect(stored).toMatchObject({ id: 'o-1002', total: 879, channel: 'partner', risk_score: 0.3, high_risk: true });
    expect(typeof stored.latency_ms).toBe('number');
    expect(archive.contentTypeOf(keyOf('o-1002'))).toBe('application/json');
    expect(statistics.snapshot(Date.now()).topOrders.map((o) => o.id)).toEqual(['o-1002']);
  });

  it('retries failed writes until they succeed and in the end stores every order exactly once by key', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 4 });
    const stored = new InMemoryOrderArchive();
    const archive = new FlakyOrderArchive(stored, 25);
    const { pipeline, metrics } = aPipeline(bus, archive);
    const ids = await publishOrders(bus, 200);
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    expect(archive.failures).toBe(25);
    expect(await stored.list('orders/')).toEqual(ids.map(keyOf).sort());
    expect(metrics.archived).toBeGreaterThanOrEqual(200);
    expect(bus.records(DLQ)).toHaveLength(0);
  });

  it('never commits past a failed write, even while later messages succeed', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const stored = new InMemoryOrderArchive();
    const storedKeys = new Set<string>();
    let checks = 0;
    const archive = new FlakyOrderArchive(
      {
        put: async (key: string, body: Buffer, type: string) => {
          await stored.put(key, body, type);
          storedKeys.add(key);
        },
      } as InMemoryOrderArchive,
      0,
      () => {
        checks++;
        assertNoCommitPassesAFailedWrite(bus, storedKeys);
      },
    );
    const { pipeline } = aPipeline(bus, archive, { maxInFlight: 10 });
    await publishOrders(bus, 300);
    await pipeline.start();
    // Knock the archive out twice while work is in flight.
    for (let outage = 0; outage < 2; outage++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      archive.down = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
      archive.down = false;
    }
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    assertNoCommitPassesAFailedWrite(bus, storedKeys);
    expect(archive.failures).toBeGreaterThan(0);
    expect(checks).toBeGreaterThan(300);
    expect(storedKeys.size).toBe(300);
  });

  it('holds the position at the first failure: with 10 in flight and #3 failing, 4..10 are stored but not committed', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const stored = new InMemoryOrderArchive();
    const archive = {
      put: async (key: string, body: Buffer, type: string) => {
        if (key === keyOf('o-3')) throw new Error('503');
        await stored.put(key, body, type);
      },
    };
    const { pipeline } = aPipeline(bus, archive, { maxInFlight: 10 });
    await publishOrders(bus, 10);
    await pipeline.start();
    const deadline = Date.now() + 2_000;
    while (stored.size < 9 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    await pipeline.stop();

    expect(stored.size).toBe(9);
    expect(await stored.get(keyOf('o-3'))).toBeUndefined();
    expect(bus.committed(GROUP, ORDERS)).toEqual([3]);
  });

  it('loses nothing when a consumer crashes mid-run and another takes over', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 6 });
    const archive = new InMemoryOrderArchive();
    const ids = await publishOrders(bus, 2_000);
    const first = aPipeline(bus, archive, { maxInFlight: 50 });
    const subscription = await first.pipeline.start();
    while (archive.size < 700) await new Promise((resolve) => setTimeout(resolve, 1));
    crash(subscription);
    expect(bus.lag(GROUP, ORDERS)).toBeGreaterThan(0);

    const second = aPipeline(bus, archive, { maxInFlight: 50 });
    await second.pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await second.pipeline.stop();

    expect(await archive.list('orders/')).toEqual(ids.map(keyOf).sort());
    // Redelivered in-flight work is rewritten, not duplicated: more puts than keys, one object per key.
    expect(archive.puts).toBeGreaterThanOrEqual(2_000);
    expect(archive.size).toBe(2_000);
  });

  it('bounds concurrency: never more archive writes in flight than maxInFlight', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 6 });
    const archive = new FlakyOrderArchive();
    const { pipeline } = aPipeline(bus, archive, { maxInFlight: 7 });
    await publishOrders(bus, 500);
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(archive.maxConcurrent).toBeLessThanOrEqual(7);
    expect(archive.maxConcurrent).toBeGreaterThan(1);
  });

  it('dead-letters a poison message with its reason and keeps the partition moving', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const { pipeline, statistics } = aPipeline(bus, archive);
    await bus.publish(ORDERS, [
      { key: 'o-1', value: wireBytes(aWireOrder({ id: 'o-1' })) },
      { key: 'bad', value: Buffer.from('{"id": "o-2", "total": "abc"'), headers: [textHeader('traceparent', 't-1')] },
      { key: 'fax', value: wireBytes(aWireOrder({ id: 'o-3', channel: 'fax' })) },
      { key: 'o-4', value: wireBytes(aWireOrder({ id: 'o-4' })) },
    ]);
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    expect(await archive.list('orders/')).toEqual([keyOf('o-1'), keyOf('o-4')]);
    const dlq = bus.records(DLQ);
    expect(dlq.map((r) => r.key?.toString())).toEqual(['bad', 'fax']);
    expect(dlq[0]!.value?.toString()).toBe('{"id": "o-2", "total": "abc"');
    expect(headersAsText(dlq[0]!.headers)).toMatchObject({
      traceparent: 't-1',
      [DLQ_HEADERS.topic]: ORDERS,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '1',
      [DLQ_HEADERS.stage]: 'decode',
      [DLQ_HEADERS.exceptionClass]: 'MESSAGE.INVALID_JSON',
    });
    expect(headerText(dlq[1]!.headers, DLQ_HEADERS.exceptionMessage)).toMatch(/Unknown channel "fax"/);
    expect(bus.committed(GROUP, ORDERS)).toEqual([4]);
    expect(statistics.snapshot(Date.now()).deadLetteredByCode).toEqual({ 'MESSAGE.INVALID_JSON': 1, 'ORDER.UNKNOWN_CHANNEL': 1 });
  });

  it('does not advance past a poison message while the dead-letter topic cannot be written', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const deadLetters = new FailingDeadLetterSpy(new KafkaDeadLetterSink(bus, DLQ));
    const { pipeline } = aPipeline(bus, archive, { deadLetters });
    await bus.publish(ORDERS, [
      { key: 'o-1', value: wireBytes(aWireOrder({ id: 'o-1' })) },
      { key: 'bad', value: Buffer.from('not json') },
      { key: 'o-3', value: wireBytes(aWireOrder({ id: 'o-3' })) },
    ]);
    await pipeline.start();
    while (archive.size < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(bus.committed(GROUP, ORDERS)).toEqual([1]);

    deadLetters.failing = false;
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(bus.records(DLQ)).toHaveLength(1);
    expect(bus.committed(GROUP, ORDERS)).toEqual([3]);
  });

  it('reports the dead-letter topic unhealthy while it refuses writes, and healthy once one succeeds', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const deadLetters = new FailingDeadLetterSpy(new KafkaDeadLetterSink(bus, DLQ));
    const { pipeline, metrics } = aPipeline(bus, new InMemoryOrderArchive(), { deadLetters });
    await bus.publish(ORDERS, [{ key: 'bad', value: Buffer.from('not json') }]);
    await pipeline.start();
    while (metrics.deadLettersHealthy) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(metrics.healthy).toBe(true);

    deadLetters.failing = false;
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(metrics.deadLettersHealthy).toBe(true);
  });

  it('dead-letters a message over the size limit without reading it', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const archive = new InMemoryOrderArchive();
    const { pipeline } = aPipeline(bus, archive);
    await bus.publish(ORDERS, [{ key: 'big', value: Buffer.alloc(65 * 1024, 0x20) }]);
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(headerText(bus.records(DLQ)[0]!.headers, DLQ_HEADERS.exceptionClass)).toBe('MESSAGE.TOO_LARGE');
  });
});


const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('process orders while a store fails', () => {
  it('holds every message of an outage behind one probe at a time: nothing acked or committed, unhealthy, one log line per probe', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 3 });
    const stored = new InMemoryOrderArchive();
    const archive = new FlakyOrderArchive(stored);
    archive.down = true;
    const logger = new LoggerSpy();
    const { pipeline, metrics } = aPipeline(bus, archive, { maxInFlight: 20, logger, backoff: { baseDelayMs: 1, maxDelayMs: 4 } });
    const ids = await publishOrders(bus, 100);
    await pipeline.start();

    // The 20 messages in flight all fail once; after that the archive sees one probe at a time.
    await until(() => archive.failures >= 20);
    archive.maxConcurrent = 0;
    await until(() => archive.failures >= 20 + 30);
    expect(archive.maxConcurrent).toBe(1);
    expect(bus.committed(GROUP, ORDERS)).toEqual([0, 0, 0]);
    expect(metrics.healthy).toBe(false);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1 + (archive.failures - 20));
    expect(warnings[0]!.message).toMatch(/holding archive writes/);

    archive.down = false;
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();
    expect(metrics.healthy).toBe(true);
    expect(await stored.list('orders/')).toEqual(ids.map(keyOf).sort());
    // Held, not handed back to the bus: nothing was redelivered, so nothing was written twice.
    expect(stored.puts).toBe(100);
    expect(logger.lines.find((line) => line.message === 'Archive writes succeed again')?.fields).toMatchObject({ released: 19 });
  });

  it('stops at once during an outage, committing nothing; the restart after the outage stores every order', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 2 });
    const stored = new InMemoryOrderArchive();
    const archive = new FlakyOrderArchive(stored);
    archive.down = true;
    // A wait for the next probe that only the stop can end: were it not ended, stop() would never return.
    const untilStopped: Sleep = (_ms, signal) => new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    const first = aPipeline(bus, archive, { sleep: untilStopped });
    const ids = await publishOrders(bus, 30);
    await first.pipeline.start();
    await until(() => archive.failures >= 10);
    // No drain deadline to fall back on (the longest a timer waits, some 24 days): held writes must end.
    await first.pipeline.stop(2 ** 31 - 1);
    expect(bus.committed(GROUP, ORDERS)).toEqual([0, 0]);

    archive.down = false;
    const second = aPipeline(bus, archive);
    await second.pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await second.pipeline.stop();
    expect(await stored.list('orders/')).toEqual(ids.map(keyOf).sort());
  });

  it('logs at most 1,000 characters of a rejection reason, however much the codec says', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const logger = new LoggerSpy();
    const { pipeline } = aPipeline(bus, new InMemoryOrderArchive(), { logger });
    const everyFieldWrong = { id: 'x'.repeat(5_000), customer: ['y'.repeat(5_000)], total: 'z'.repeat(5_000), channel: { c: 'w'.repeat(5_000) } };
    await bus.publish(ORDERS, [{ key: 'bad', value: wireBytes(everyFieldWrong) }]);
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    const reason = logger.lines.find((line) => line.message === 'Message dead-lettered')!.fields.reason as string;
    expect(reason).toHaveLength(1_000);
    expect(reason.endsWith('…')).toBe(true);
  });
});

describe('duplicates', () => {
  it('counts a rewrite of a key this process archived before, and nothing else', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 3 });
    const archive = new InMemoryOrderArchive();
    const { pipeline, metrics } = aPipeline(bus, archive);
    const ids = await publishOrders(bus, 50);
    // The same five orders once more, as a producer retry or a client resubmitting would send them.
    await bus.publish(ORDERS, ids.slice(0, 5).map((id) => ({ key: id, value: wireBytes(aWireOrder({ id })) })));
    await pipeline.start();
    await bus.caughtUp(GROUP, ORDERS);
    await pipeline.stop();

    expect(metrics.archived).toBe(55);
    expect(metrics.duplicates).toBe(5);
  });

  it('counts the rewrites of a redelivery within the process, e.g. after its consumer rejoined the group', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const stored = new InMemoryOrderArchive();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // o-50's write hangs, so the position stays at 50 while o-51..o-99 are written and acked.
    const archive = {
      put: async (key: string, body: Buffer, type: string) => {
        if (key === keyOf('o-50')) await held;
        await stored.put(key, body, type);
      },
    };
    const first = aPipeline(bus, archive, { maxInFlight: 20 });
    await publishOrders(bus, 100);
    const subscription = await first.pipeline.start();
    await until(() => stored.size === 99);
    expect(bus.committed(GROUP, ORDERS)).toEqual([50]);

    // The member drops out; o-50's write lands after all, and the group redelivers from 50.
    crash(subscription);
    release();
    const rejoined = aStagePipeline(bus, first.processOrders, first.deps, { maxInFlight: 20 });
    await rejoined.start();
    await bus.caughtUp(GROUP, ORDERS);
    await rejoined.stop();

    expect(stored.size).toBe(100);
    expect(stored.puts - stored.size).toBe(50);
    expect(first.metrics.duplicates).toBe(50);
  });
});
