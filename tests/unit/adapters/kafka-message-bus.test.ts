import { Consumer, ConsumerConfig, Kafka, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, logLevel } from 'kafkajs';
import { LoggerSpy } from '../../support/logger-spy';
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

/** A consumer whose first join fails as kafkajs reports it: a CRASH it will not restart from, then run() resolves. */
const aConsumerThatCrashes = (error: Error): Consumer => {
  const listeners = new Map<string, (event: { payload: unknown }) => void>();
  return {
    ...aConsumerDouble(),
    on: (event: string, listener: (event: { payload: unknown }) => void) => {
      listeners.set(event, listener);
      return () => undefined;
    },
    run: async () => listeners.get('consumer.crash')?.({ payload: { error, restart: false } }),
  } as unknown as Consumer;
};

/** As kafkajs throws it once its retries of COORDINATOR_NOT_AVAILABLE ran out (its types declare no message). */
const coordinatorNotFound = (): Error => new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)('Failed to find group coordinator');

describe('KafkaMessageBus', () => {
  it("joins again while the group's coordinator is not found yet (a cluster's first groups), with a new consumer each time", async () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const consumers = [aConsumerThatCrashes(coordinatorNotFound()), aConsumerDouble()];
    const created = jest.spyOn(kafka, 'consumer').mockImplementation(() => consumers.shift()!);
    const logger = new LoggerSpy();
    const bus = new KafkaMessageBus(kafka, { logger });

    const subscription = await bus.subscribe({ topic: 'orders', groupId: 'group', handler: () => undefined });
    expect(created).toHaveBeenCalledTimes(2);
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => [line.message, line.fields.groupId])).toEqual([
      ['Kafka group coordinator not available yet; joining again', 'group'],
    ]);
    await subscription.stop({ deadlineMs: 0 });
    await bus.close();
  });

  it('does not join again after any other failure of the first join', async () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const created = jest.spyOn(kafka, 'consumer').mockImplementation(() => aConsumerThatCrashes(new KafkaJSNonRetriableError('Not authorized to access group')));
    const bus = new KafkaMessageBus(kafka);

    await expect(bus.subscribe({ topic: 'orders', groupId: 'group', handler: () => undefined })).rejects.toThrow(/Not authorized to access group/);
    expect(created).toHaveBeenCalledTimes(1);
    await bus.close();
  });

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
