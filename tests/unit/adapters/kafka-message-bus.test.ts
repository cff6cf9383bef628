import { Consumer, ConsumerConfig, Kafka, logLevel } from 'kafkajs';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';

/** Just enough of a kafkajs consumer for a subscription to start and stop without a broker. */
const aConsumerDouble = (): Consumer =>
  ({
    events: { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' },
    on: () => () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    commitOffsets: async () => undefined,
    disconnect: async () => undefined,
  }) as unknown as Consumer;

describe('KafkaMessageBus', () => {
  it('lets kafkajs restart a crashed consumer while its subscription runs, never once it has stopped (tulios/kafkajs#1639)', async () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    let config: ConsumerConfig | undefined;
    jest.spyOn(kafka, 'consumer').mockImplementation((given) => {
      config = given;
      return aConsumerDouble();
    });
    const bus = new KafkaMessageBus(kafka);
    const subscription = await bus.subscribe({ topic: 'orders', groupId: 'group', handler: () => undefined });
    const restartOnFailure = config!.retry!.restartOnFailure!;

    expect(await restartOnFailure(new Error('Connection error'))).toBe(true);
    await subscription.stop({ deadlineMs: 0 });
    expect(await restartOnFailure(new Error('Closed connection'))).toBe(false);
    await bus.close();
  });
});
