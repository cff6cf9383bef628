import { randomUUID } from 'node:crypto';
import { KafkaDeadLetterSink } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { Delivery, Header, textHeader } from '../../../src/application/ports/message-bus.port';
import { rejection } from '../../../src/domain/rejection';
import { REPLAY_SOURCE_HEADER, replayDeadLetters } from '../../../src/main/commands/replay-dlq';
import { readStackEnv } from '../../support/stack-env';

const connection = { brokers: readStackEnv().kafkaBrokers.split(','), clientId: 'orderflow-it-dlq' };
const FAST = { commitIntervalMs: 100, heartbeatIntervalMs: 300, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 10_000, rebalanceDrainMs: 3_000, maxWaitTimeMs: 100 };

/** The first message of a topic, read with a group of its own. */
const firstOf = async (bus: KafkaMessageBus, topic: string): Promise<Delivery> => {
  let resolve!: (delivery: Delivery) => void;
  const received = new Promise<Delivery>((r) => (resolve = r));
  const subscription = await bus.subscribe({ topic, groupId: `${topic}.reader`, handler: (delivery) => resolve(delivery) });
  try {
    return await received;
  } finally {
    await subscription.stop({ deadlineMs: 0 });
  }
};

describe('dead letters and replay-dlq on a real broker', () => {
  const admin = new KafkaTopicAdmin(connection);
  const run = `it.dlq.${randomUUID().slice(0, 8)}`;
  const [orders, dlq, target] = [`${run}.orders`, `${run}.orders.dlq`, `${run}.replayed`];
  const bus = new KafkaMessageBus(connection, { consuming: FAST, publishing: { lingerMs: 5 } });

  beforeAll(() => admin.ensureTopics([orders, dlq, target].map((topic) => ({ topic, partitions: 1 }))));
  afterAll(async () => {
    await bus.close({ deadlineMs: 0 });
    await admin.deleteTopics([orders, dlq, target]);
    await admin.close();
  });

  it('keeps binary header values and repeated names through the broker, the dead letter and the replay', async () => {
    const original: Header[] = [{ key: 'binary', value: Buffer.from([0xff, 0x00, 0xfe]) }, textHeader('tag', 'a'), textHeader('tag', 'b')];
    await bus.publish(orders, [{ key: 'o-fax', value: Buffer.from('{"id":"o-fax","channel":"fax"}'), headers: original }]);
    const consumed = await firstOf(bus, orders);
    expect(consumed.message.headers).toEqual(original);

    await new KafkaDeadLetterSink(bus, dlq).send({ original: consumed.message, rejection: rejection('ORDER.UNKNOWN_CHANNEL', 'score', 'fax') });
    const deadLetter = await firstOf(bus, dlq);
    expect(deadLetter.message.headers.slice(0, 3)).toEqual(original);

    const summary = await replayDeadLetters(
      bus,
      { endOffsets: () => admin.endOffsets(dlq), committed: (groupId) => admin.committedPositions(groupId, dlq) },
      { from: dlq, to: target, groupId: `${run}.replay`, dryRun: false },
    );
    expect(summary).toEqual({ read: 1, replayed: 1, notReplayable: 0, byCode: { 'ORDER.UNKNOWN_CHANNEL': 1 } });
    const replayed = await firstOf(bus, target);
    expect(replayed.message.headers).toEqual([...original, textHeader(REPLAY_SOURCE_HEADER, `${dlq}/0/0`)]);
    expect(replayed.message.value?.toString()).toBe('{"id":"o-fax","channel":"fax"}');
  });
});
