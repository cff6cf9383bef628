import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { KafkaSubscription } from '../../../src/adapters/kafka/kafka-subscription';
import { Delivery } from '../../../src/application/ports/message-bus.port';
import { silentLogger } from '../../support/pipeline';

const TOPIC = 'orders';
const EVENTS = { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' };

/** A kafkajs consumer driven by the test: it emits the group events and hands over the batches kafkajs would. */
class ScriptedConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, (event: { payload: unknown }) => void>();
  eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  commitError: Error | undefined;

  on(event: string, listener: (event: { payload: unknown }) => void): () => void {
    this.listeners.set(event, listener);
    return () => undefined;
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run({ eachBatch }: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = eachBatch;
  }
  pause(): void {}
  resume(): void {}
  seek(): void {}
  async commitOffsets(): Promise<void> {
    if (this.commitError !== undefined) throw this.commitError;
  }
  async disconnect(): Promise<void> {}

  join(partitions: number[]): void {
    this.listeners.get(EVENTS.GROUP_JOIN)!({ payload: { groupId: 'g', memberAssignment: { [TOPIC]: partitions } } });
  }
  crash(error: Error): void {
    this.listeners.get(EVENTS.CRASH)!({ payload: { error, restart: true } });
  }
  fetched(partition: number, offsets: number[]): Promise<void> {
    const messages = offsets.map((offset) => ({ offset: String(offset), key: null, value: Buffer.from(`m${offset}`), headers: {}, timestamp: '0' }));
    return this.eachBatch!({
      batch: { topic: TOPIC, partition, messages: messages as unknown as KafkaMessage[] },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

const kafkaError = (type: string): Error => Object.assign(new Error(type), { type });

const aSubscription = async (consumer: ScriptedConsumer) => {
  const events: string[] = [];
  const held: Delivery[] = [];
  const subscription = await KafkaSubscription.start(
    consumer as unknown as Consumer,
    {
      topic: TOPIC,
      groupId: 'g',
      handler: (delivery) => {
        held.push(delivery);
        events.push(`delivered ${delivery.message.offset} in ${delivery.generation}`);
      },
      onPartitionsRevoked: () => events.push('revoked'),
      onPartitionsAssigned: (partitions, generation) => events.push(`assigned ${partitions.join()} in ${generation}`),
    },
    { commitIntervalMs: 5, rebalanceDrainMs: 10, heartbeatIntervalMs: 5, logger: silentLogger, explain: (error) => error as Error },
  );
  return { subscription, events, held };
};

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
};

describe('KafkaSubscription generations', () => {
  it('revokes on a join that no revocation preceded (kafkajs rejoining after UNKNOWN_MEMBER_ID), before the next generation delivers', async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, events } = await aSubscription(consumer);
    consumer.join([0]);
    await consumer.fetched(0, [0, 1]);
    consumer.join([0]);
    await consumer.fetched(0, [0, 1]);

    expect(events).toEqual(['assigned 0 in 1', 'delivered 0 in 1', 'delivered 1 in 1', 'revoked', 'assigned 0 in 2', 'delivered 0 in 2', 'delivered 1 in 2']);
    await subscription.stop({ deadlineMs: 0 });
  });

  it('revokes when kafkajs crashes and restarts the consumer', async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, events } = await aSubscription(consumer);
    consumer.join([0, 1]);
    await consumer.fetched(1, [7]);
    consumer.crash(new Error('Connection closed'));
    consumer.join([1]);

    expect(events).toEqual(['assigned 0,1 in 1', 'delivered 7 in 1', 'revoked', 'assigned 1 in 2']);
    await subscription.stop({ deadlineMs: 0 });
  });

  it.each(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'])(
    'treats %s from a commit as a rebalance: revoked once, nothing more delivered in that generation',
    async (type) => {
      const consumer = new ScriptedConsumer();
      const { subscription, events, held } = await aSubscription(consumer);
      consumer.join([0]);
      await consumer.fetched(0, [0]);
      consumer.commitError = kafkaError(type);
      held[0]!.ack();
      await until(() => events.includes('revoked'));
      await consumer.fetched(0, [1]);

      expect(events).toEqual(['assigned 0 in 1', 'delivered 0 in 1', 'revoked']);
      await subscription.stop({ deadlineMs: 0 });
    },
  );
});
