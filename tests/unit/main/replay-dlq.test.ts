import { KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { rejection, RejectionCode } from '../../../src/domain/rejection';
import { headerText, textHeader } from '../../../src/application/ports/message-bus.port';
import { REPLAY_SOURCE_HEADER, replayDeadLetters, ReplayOptions, ReplayPositions, TRUNCATED_VALUE_HEADER } from '../../../src/main/commands/replay-dlq';
import { anInboundMessage } from '../../support/builders';

const DLQ = 'orders.v1.dlq';
const TARGET = 'orders.v1';

/** Dead letters as the pipeline writes them: the sink, on the same kind of bus. */
const deadLetter = async (bus: InMemoryMessageBus, offset: number, code: RejectionCode) => {
  const original = anInboundMessage({
    key: Buffer.from(`key-${offset}`),
    value: Buffer.from(`value-${offset}`),
    offset: String(offset),
    headers: [textHeader('traceparent', `trace-${offset}`)],
  });
  await new KafkaDeadLetterSink(bus, DLQ).send({ original, rejection: rejection(code, 'score', `reason ${offset}`) });
};

const positionsOn = (bus: InMemoryMessageBus): ReplayPositions => ({
  endOffsets: async () => bus.endOffsets(DLQ),
  committed: async (groupId) => bus.committed(groupId, DLQ),
});

const replay = (bus: InMemoryMessageBus, options: Partial<ReplayOptions> = {}) =>
  replayDeadLetters(bus, positionsOn(bus), { from: DLQ, to: TARGET, groupId: 'replay', dryRun: false, ...options });

describe('replayDeadLetters', () => {
  it('publishes the selected dead letters as they were sent, without the error headers, saying where they came from', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await deadLetter(bus, 2, 'MESSAGE.INVALID_JSON');
    await deadLetter(bus, 3, 'ORDER.UNKNOWN_CHANNEL');

    const summary = await replay(bus, { codes: ['ORDER.UNKNOWN_CHANNEL'] });

    expect(summary).toEqual({ read: 3, replayed: 2, notReplayable: 0, byCode: { 'ORDER.UNKNOWN_CHANNEL': 2 } });
    const replayed = bus.records(TARGET);
    expect(replayed.map((r) => [r.key?.toString(), r.value?.toString()])).toEqual([
      ['key-1', 'value-1'],
      ['key-3', 'value-3'],
    ]);
    expect(replayed[0]!.headers).toEqual([textHeader('traceparent', 'trace-1'), textHeader(REPLAY_SOURCE_HEADER, `${DLQ}/0/0`)]);
    expect(replayed[0]!.timestamp).toBe(bus.records(DLQ)[0]!.timestamp);
  });

  it('continues after what an earlier run replayed, so nothing is replayed twice', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await replay(bus);
    await deadLetter(bus, 2, 'ORDER.UNKNOWN_CHANNEL');

    expect(await replay(bus)).toEqual({ read: 1, replayed: 1, notReplayable: 0, byCode: { 'ORDER.UNKNOWN_CHANNEL': 1 } });
    expect(bus.records(TARGET).map((r) => r.key?.toString())).toEqual(['key-1', 'key-2']);
  });

  it('counts by code on a dry run, and publishes nothing', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await deadLetter(bus, 2, 'MESSAGE.INVALID_JSON');

    expect(await replay(bus, { dryRun: true, groupId: 'dry-run' })).toEqual({
      read: 2,
      replayed: 2,
      notReplayable: 0,
      byCode: { 'MESSAGE.INVALID_JSON': 1, 'ORDER.UNKNOWN_CHANNEL': 1 },
    });
    expect(bus.records(TARGET)).toEqual([]);
  });

  it('ends at once on an empty dead-letter topic', async () => {
    expect(await replay(new InMemoryMessageBus())).toEqual({ read: 0, replayed: 0, notReplayable: 0, byCode: {} });
  });

  it('keeps header values byte for byte and repeated names, through the dead letter and the replay', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    const binary = { key: 'bin', value: Buffer.from([0xff, 0x00, 0xfe]) };
    const original = anInboundMessage({
      key: Buffer.from('key-1'),
      headers: [binary, textHeader('tag', 'a'), textHeader('tag', 'b')],
    });
    await new KafkaDeadLetterSink(bus, DLQ).send({ original, rejection: rejection('ORDER.UNKNOWN_CHANNEL', 'score', 'fax') });

    const [deadLetter] = bus.records(DLQ);
    // The original headers first, then the reason.
    expect(deadLetter!.headers.slice(0, 3)).toEqual([binary, textHeader('tag', 'a'), textHeader('tag', 'b')]);
    expect(headerText(deadLetter!.headers, '__connect.errors.exception.class.name')).toBe('ORDER.UNKNOWN_CHANNEL');

    await replay(bus);
    expect(bus.records(TARGET)[0]!.headers).toEqual([
      binary,
      textHeader('tag', 'a'),
      textHeader('tag', 'b'),
      textHeader(REPLAY_SOURCE_HEADER, `${DLQ}/0/0`),
    ]);
  });

  it('stops at the end the dead-letter topic had when it began: a replay that fails again waits for the next run', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await deadLetter(bus, 2, 'ORDER.UNKNOWN_CHANNEL');
    // The consumer of the target topic still rejects them: every replayed order is dead-lettered again.
    const consumer = await bus.subscribe({
      topic: TARGET,
      groupId: 'consumer',
      handler: async (delivery) => {
        await new KafkaDeadLetterSink(bus, DLQ).send({
          original: delivery.message,
          rejection: rejection('ORDER.UNKNOWN_CHANNEL', 'score', 'still unknown'),
        });
        delivery.ack();
      },
    });

    const first = await replay(bus);
    await bus.caughtUp('consumer', TARGET);

    expect(first).toMatchObject({ read: 2, replayed: 2 });
    expect(bus.committed('replay', DLQ)).toEqual([2]);
    expect(bus.endOffsets(DLQ)).toEqual([4]);
    // The next run takes the two that failed again, and only those.
    expect(await replay(bus)).toMatchObject({ read: 2, replayed: 2 });
    await consumer.stop();
  });

  it('does not replay a dead letter whose value was truncated, and reports it', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'MESSAGE.TOO_LARGE');
    await bus.publish(DLQ, [
      {
        key: 'big',
        value: Buffer.from('{"id":"o-big","cust'),
        headers: [
          textHeader('__connect.errors.exception.class.name', 'MESSAGE.TOO_LARGE'),
          textHeader('orderflow.errors.code', 'MESSAGE.TOO_LARGE'),
          textHeader(TRUNCATED_VALUE_HEADER, 'true'),
          textHeader('orderflow.errors.value.bytes', '9000000'),
        ],
      },
    ]);

    const summary = await replay(bus);

    expect(summary).toEqual({ read: 2, replayed: 1, notReplayable: 1, byCode: { 'MESSAGE.TOO_LARGE': 1 } });
    expect(bus.records(TARGET).map((record) => record.key?.toString())).toEqual(['key-1']);
    expect(bus.committed('replay', DLQ)).toEqual([2]);
  });
});
