import { KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { InMemoryMessageBus } from '../../../src/adapters/memory/in-memory-message-bus';
import { rejection } from '../../../src/domain/rejection';
import { REPLAY_SOURCE_HEADER, replayDeadLetters, ReplayOptions } from '../../../src/main/commands/replay-dlq';
import { anInboundMessage } from '../../support/builders';

const DLQ = 'orders.v1.dlq';
const TARGET = 'orders.v1';

/** Dead letters as the pipeline writes them: the sink, on the same kind of bus. */
const deadLetter = async (bus: InMemoryMessageBus, offset: number, code: 'ORDER.UNKNOWN_CHANNEL' | 'MESSAGE.INVALID_JSON') => {
  const original = anInboundMessage({
    key: Buffer.from(`key-${offset}`),
    value: Buffer.from(`value-${offset}`),
    offset: String(offset),
    headers: { traceparent: `trace-${offset}` },
  });
  await new KafkaDeadLetterSink(bus, DLQ).send({ original, rejection: rejection(code, 'score', `reason ${offset}`) });
};

const replay = (bus: InMemoryMessageBus, options: Partial<ReplayOptions> = {}) =>
  replayDeadLetters(bus, async (groupId) => bus.lag(groupId, DLQ) === 0, { from: DLQ, to: TARGET, groupId: 'replay', dryRun: false, ...options });

describe('replayDeadLetters', () => {
  it('publishes the selected dead letters as they were sent, without the error headers, saying where they came from', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await deadLetter(bus, 2, 'MESSAGE.INVALID_JSON');
    await deadLetter(bus, 3, 'ORDER.UNKNOWN_CHANNEL');

    const summary = await replay(bus, { codes: ['ORDER.UNKNOWN_CHANNEL'] });

    expect(summary).toEqual({ read: 3, replayed: 2, byCode: { 'ORDER.UNKNOWN_CHANNEL': 2 } });
    const replayed = bus.records(TARGET);
    expect(replayed.map((r) => [r.key?.toString(), r.value?.toString()])).toEqual([
      ['key-1', 'value-1'],
      ['key-3', 'value-3'],
    ]);
    expect(replayed[0]!.headers).toEqual({ traceparent: 'trace-1', [REPLAY_SOURCE_HEADER]: `${DLQ}/0/0` });
    expect(replayed[0]!.timestamp).toBe(bus.records(DLQ)[0]!.timestamp);
  });

  it('continues after what an earlier run replayed, so nothing is replayed twice', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await replay(bus);
    await deadLetter(bus, 2, 'ORDER.UNKNOWN_CHANNEL');

    expect(await replay(bus)).toEqual({ read: 1, replayed: 1, byCode: { 'ORDER.UNKNOWN_CHANNEL': 1 } });
    expect(bus.records(TARGET).map((r) => r.key?.toString())).toEqual(['key-1', 'key-2']);
  });

  it('counts by code on a dry run, and publishes nothing', async () => {
    const bus = new InMemoryMessageBus({ defaultPartitions: 1 });
    await deadLetter(bus, 1, 'ORDER.UNKNOWN_CHANNEL');
    await deadLetter(bus, 2, 'MESSAGE.INVALID_JSON');

    expect(await replay(bus, { dryRun: true, groupId: 'dry-run' })).toEqual({
      read: 2,
      replayed: 2,
      byCode: { 'MESSAGE.INVALID_JSON': 1, 'ORDER.UNKNOWN_CHANNEL': 1 },
    });
    expect(bus.records(TARGET)).toEqual([]);
  });

  it('ends at once on an empty dead-letter topic', async () => {
    expect(await replay(new InMemoryMessageBus())).toEqual({ read: 0, replayed: 0, byCode: {} });
  });
});
