import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { KafkaSubscription } from '../../../src/adapters/kafka/kafka-subscription';
import { Delivery, DeliveryBatch, SubscriptionOptions } from '../../../src/application/ports/message-bus.port';
import { silentLogger } from '../../support/pipeline';

const TOPIC = 'orders';
const EVENTS = { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' };

/** A kafkajs consumer driven by the test: it emits the group events and hands over the batches kafkajs would. */
class ScriptedConsumer {
  readonly events = EVENTS;
  readonly listeners = new Map<string, (event: { payload: unknown }) => void>();
  eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  commitError: Error | undefined;
  /** Every offset the subscription resolved, and every position it committed, as `partition:offset`. */
  readonly resolved: string[] = [];
  readonly commits: string[] = [];
  readonly seeks: string[] = [];

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
  seek({ partition, offset }: { partition: number; offset: string }): void {
    this.seeks.push(`${partition}:${offset}`);
  }
  async commitOffsets(offsets: Array<{ partition: number; offset: string }>): Promise<void> {
    if (this.commitError !== undefined) throw this.commitError;
    this.commits.push(...offsets.map(({ partition, offset }) => `${partition}:${offset}`));
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
      resolveOffset: (offset: string) => void this.resolved.push(`${partition}:${offset}`),
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
    SETTINGS,
  );
  return { subscription, events, held };
};

const SETTINGS = { commitIntervalMs: 5, rebalanceDrainMs: 10, heartbeatIntervalMs: 5, logger: silentLogger, explain: (error: unknown) => error as Error };

/** A subscription with a batch handler that records every batch and reacts as the test says (holds them by default). */
const aBatchSubscription = async (consumer: ScriptedConsumer, options: Partial<SubscriptionOptions> = {}, react: (batch: DeliveryBatch) => void = () => undefined) => {
  const batches: DeliveryBatch[] = [];
  const subscription = await KafkaSubscription.start(
    consumer as unknown as Consumer,
    {
      topic: TOPIC,
      groupId: 'g',
      batchHandler: (batch) => {
        batches.push(batch);
        react(batch);
      },
      ...options,
    },
    SETTINGS,
  );
  const shapes = (): string[] => batches.map((batch) => `${batch.generation}/${batch.partition}: ${batch.messages.map((m) => m.offset).join()}`);
  return { subscription, batches, shapes };
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

describe('KafkaSubscription with a batch handler', () => {
  it('hands a kafkajs batch over in one call, split only where maxInFlight requires, resolving what it handed over', async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, shapes } = await aBatchSubscription(consumer, { maxInFlight: 2 }, (batch) => batch.ackThrough(batch.messages.length - 1));
    consumer.join([0, 1]);
    await consumer.fetched(0, [0, 1, 2, 3, 4]);
    await consumer.fetched(1, [7, 9]);

    expect(shapes()).toEqual(['1/0: 0,1', '1/0: 2,3', '1/0: 4', '1/1: 7,9']);
    expect(consumer.resolved).toEqual(['0:1', '0:3', '0:4', '1:9']);
    await until(() => consumer.commits.includes('0:5') && consumer.commits.includes('1:10'));
    await subscription.stop({ deadlineMs: 0 });
  });

  it('holds a run that is not settled, and hands over the rest of the kafkajs batch once capacity is free', async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, batches, shapes } = await aBatchSubscription(consumer, { maxInFlight: 3 });
    consumer.join([0]);
    const fetched = consumer.fetched(0, [0, 1, 2, 3, 4]);
    await until(() => batches.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(shapes()).toEqual(['1/0: 0,1,2']);
    expect(consumer.resolved).toEqual(['0:2']);

    batches[0]!.ackThrough(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // One free slot is below the resume threshold of the fetch, but enough for the waiting batch.
    expect(shapes()).toEqual(['1/0: 0,1,2', '1/0: 3']);
    batches[0]!.ackThrough(2);
    batches[1]!.ackThrough(0);
    await fetched;
    expect(shapes()).toEqual(['1/0: 0,1,2', '1/0: 3', '1/0: 4']);
    await until(() => consumer.commits.includes('0:4'));
    await subscription.stop({ deadlineMs: 0 });
  });

  it("ignores the settlement of an older generation's batch, which still frees its capacity", async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, batches, shapes } = await aBatchSubscription(consumer, { maxInFlight: 2 });
    consumer.join([0]);
    void consumer.fetched(0, [0, 1]);
    await until(() => batches.length === 1);
    consumer.join([0]);
    void consumer.fetched(0, [0, 1]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(shapes()).toEqual(['1/0: 0,1']);

    batches[0]!.ackThrough(1);
    await until(() => batches.length === 2);
    expect(shapes()).toEqual(['1/0: 0,1', '2/0: 0,1']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(consumer.commits).toEqual([]);
    batches[1]!.ackThrough(0);
    await until(() => consumer.commits.includes('0:1'));
    await subscription.stop({ deadlineMs: 0 });
  });

  it('nacks the unacked rest when the handler throws, and hands nothing more of the partition over until it replays', async () => {
    const consumer = new ScriptedConsumer();
    const { subscription, shapes } = await aBatchSubscription(consumer, { maxInFlight: 2 }, (batch) => {
      if (batch.messages[0]!.offset !== '0') return;
      batch.ackThrough(0);
      throw new Error('store down');
    });
    consumer.join([0]);
    await consumer.fetched(0, [0, 1, 2, 3]);
    expect(shapes()).toEqual(['1/0: 0,1']);
    await until(() => consumer.seeks.length === 1);
    expect(consumer.seeks).toEqual(['0:1']);
    void consumer.fetched(0, [1, 2, 3]);
    await until(() => shapes().length === 2);
    expect(shapes()).toEqual(['1/0: 0,1', '1/0: 1,2']);
    await subscription.stop({ deadlineMs: 0 });
  });

  it('refuses both handlers, and neither', async () => {
    const consumer = new ScriptedConsumer();
    await expect(aBatchSubscription(consumer, { handler: () => undefined })).rejects.toThrow(/not both/);
    await expect(aBatchSubscription(consumer, { batchHandler: undefined })).rejects.toThrow(/neither was given/);
  });
});
