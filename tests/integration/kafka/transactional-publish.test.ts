import { randomUUID } from 'node:crypto';
import { createKafka, KafkaConnection } from '../../../src/adapters/kafka/kafka-connection';
import { KafkaAdapterError } from '../../../src/adapters/kafka/kafka-errors';
import { KafkaConsumerTuning, KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { transactionalIdOf } from '../../../src/adapters/kafka/kafka-transactional-publisher';
import { Delivery } from '../../../src/application/ports/message-bus.port';
import { readStackEnv } from '../../support/stack-env';
import { describeTransactionalPublishContract } from '../../contract/transactional-publish.contract';

const env = readStackEnv();
const PLAINTEXT: KafkaConnection = { brokers: env.kafkaBrokers.split(','), clientId: 'orderflow-it-tx', retries: 2 };

/** As the message-bus suite's: members join, commit and notice rebalances within a few hundred ms. */
const FAST: KafkaConsumerTuning = {
  commitIntervalMs: 100,
  heartbeatIntervalMs: 300,
  sessionTimeoutMs: 6_000,
  rebalanceTimeoutMs: 10_000,
  rebalanceDrainMs: 3_000,
  maxWaitTimeMs: 100,
};

const admin = new KafkaTopicAdmin(PLAINTEXT);
const createdTopics: string[] = [];

const newTopic = async (partitions: number, maxMessageBytes?: number): Promise<string> => {
  const topic = `it.tx.${randomUUID().slice(0, 8)}`;
  await admin.ensureTopics([{ topic, partitions, maxMessageBytes }]);
  createdTopics.push(topic);
  return topic;
};

afterAll(async () => {
  if (createdTopics.length > 0) await admin.deleteTopics(createdTopics);
  await admin.close();
});

describeTransactionalPublishContract('KafkaMessageBus', async () => {
  const buses = [new KafkaMessageBus(PLAINTEXT, { consuming: FAST })];
  return {
    bus: buses[0]!,
    anotherBus: async () => {
      const another = new KafkaMessageBus(PLAINTEXT, { consuming: FAST });
      buses.push(another);
      return another;
    },
    createTopic: (partitions, options) => newTopic(partitions, options?.maxMessageBytes),
    missingTopic: () => `it.tx.missing.${randomUUID().slice(0, 8)}`,
    topicExists: async (topic) => (await admin.listTopics()).includes(topic),
    committed: (groupId, topic) => admin.committedPositions(groupId, topic),
    patienceMs: 20_000,
    cleanup: async () => void (await Promise.all(buses.map((bus) => bus.close({ deadlineMs: 0 })))),
  };
});

describe('KafkaMessageBus hand-offs on a real broker', () => {
  const kafka = createKafka(PLAINTEXT);
  const buses: KafkaMessageBus[] = [];
  const aBus = (): KafkaMessageBus => {
    const bus = new KafkaMessageBus(PLAINTEXT, { consuming: FAST });
    buses.push(bus);
    return bus;
  };

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close({ deadlineMs: 0 })));
  });

  it('subscribes read_committed: the records of an aborted transaction are never delivered', async () => {
    const topic = await newTopic(1);
    const producer = kafka.producer({ transactionalId: `it-tx-aborted-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ value: 'aborted' }] });
      await transaction.abort();
    } finally {
      await producer.disconnect();
    }
    const bus = aBus();
    await bus.publish(topic, [{ key: null, value: Buffer.from('after') }]);
    const seen: string[] = [];
    const handler = (delivery: Delivery): void => {
      seen.push(delivery.message.value!.toString());
      delivery.ack();
    };
    await bus.subscribe({ topic, groupId: `${topic}.g`, handler });

    // 'after' follows the aborted record and its marker in the partition: a reader that saw it has passed them.
    await eventually('the record after the aborted transaction', () => seen.length > 0);
    expect(seen).toEqual(['after']);
  });

  it('never delivers an aborted record when two producers\' transactions abort in another order than they began (kafkajs alone delivers one)', async () => {
    // What a killed stage leaves on its output partitions: one open transaction per input
    // partition, aborted one by one by its successor's producers, in whatever order they start.
    const topic = await newTopic(1);
    const producerOf = async (name: string) => {
      const producer = kafka.producer({ transactionalId: `it-tx-order-${topic}-${name}`, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      return producer;
    };
    const [first, second] = await Promise.all([producerOf('first'), producerOf('second')]);
    try {
      const begunFirst = await first.transaction();
      await begunFirst.send({ topic, messages: [{ value: 'aborted 1' }] });
      const begunSecond = await second.transaction();
      await begunSecond.send({ topic, messages: [{ value: 'aborted 2' }] });
      await begunFirst.send({ topic, messages: [{ value: 'aborted 3' }] });
      // The broker lists aborted transactions in the order they were aborted: second (from offset 1), then first (from 0).
      await begunSecond.abort();
      await begunFirst.abort();
    } finally {
      await Promise.all([first.disconnect(), second.disconnect()]);
    }
    const bus = aBus();
    await bus.publish(topic, [{ key: null, value: Buffer.from('after') }]);
    const seen: string[] = [];
    await bus.subscribe({
      topic,
      groupId: `${topic}.g`,
      handler: (delivery) => {
        seen.push(delivery.message.value!.toString());
        delivery.ack();
      },
    });

    await eventually('the record after the aborted transactions', () => seen.includes('after'));
    expect(seen).toEqual(['after']);
  });

  it('uses <group>:<topic>:<partition> as the transactional id, so any producer that takes the id over fences the bus', async () => {
    const input = await newTopic(1);
    const outputs = await newTopic(1);
    const bus = aBus();
    await bus.publish(input, [{ key: null, value: Buffer.from('in') }]);
    const held: Delivery[] = [];
    await bus.subscribe({ topic: input, groupId: `${input}.stage`, handler: (delivery) => void held.push(delivery) });
    await eventually('the input', () => held.length === 1);
    const through = { groupId: `${input}.stage`, topic: input, partition: 0, nextOffset: '1', generation: held[0]!.generation };
    expect(transactionalIdOf(through)).toBe(`${input}.stage:${input}:0`);
    await bus.publishTransactionally(through, [{ topic: outputs, messages: [{ key: null, value: Buffer.from('first') }] }]);

    // Another application's producer with the id: its InitProducerId bumps the epoch.
    const usurper = kafka.producer({ transactionalId: transactionalIdOf(through), idempotent: true, maxInFlightRequests: 1 });
    await usurper.connect();
    try {
      await (await usurper.transaction()).abort();
      const failure = await bus.publishTransactionally(through, [{ topic: outputs, messages: [{ key: null, value: Buffer.from('fenced') }] }]).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(KafkaAdapterError);
      expect((failure as KafkaAdapterError).reason).toBe('fenced');
      expect((failure as Error).message).toContain(transactionalIdOf(through));
    } finally {
      await usurper.disconnect();
    }
  });
});

const eventually = async (what: string, check: () => boolean | Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
