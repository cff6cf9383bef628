import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Kafka, Producer } from 'kafkajs';
import { KafkaCompression } from '../../../src/adapters/kafka/kafka-batching-publisher';
import { createKafka, KafkaConnection } from '../../../src/adapters/kafka/kafka-connection';
import { KafkaAdapterError } from '../../../src/adapters/kafka/kafka-errors';
import { KafkaConsumerTuning, KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { Delivery, textHeader } from '../../../src/application/ports/message-bus.port';
import { readStackEnv } from '../../support/stack-env';
import { describeMessageBusContract } from '../../contract/message-bus.contract';
import { describeLifecycleContract } from '../../contract/lifecycle.contract';
import { LoggerSpy } from '../../support/logger-spy';

const env = readStackEnv();
const PLAINTEXT: KafkaConnection = { brokers: env.kafkaBrokers.split(','), clientId: 'orderflow-it', retries: 2 };

/** Production defaults stretched for a test: members notice rebalances and commit within a few hundred ms. */
const FAST: KafkaConsumerTuning = {
  commitIntervalMs: 100,
  heartbeatIntervalMs: 300,
  // The broker's minimum (group.min.session.timeout.ms).
  sessionTimeoutMs: 6_000,
  rebalanceTimeoutMs: 10_000,
  rebalanceDrainMs: 3_000,
  maxWaitTimeMs: 100,
};

/** Blocks the event loop, timers and sockets included, for this long. */
const freezeFor = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const admin = new KafkaTopicAdmin(PLAINTEXT);
const createdTopics: string[] = [];

const newTopic = async (partitions: number, topicAdmin = admin): Promise<string> => {
  const topic = `it.bus.${randomUUID().slice(0, 8)}`;
  await topicAdmin.ensureTopics([{ topic, partitions }]);
  createdTopics.push(topic);
  return topic;
};

afterAll(async () => {
  if (createdTopics.length > 0) await admin.deleteTopics(createdTopics);
  await admin.close();
});

describeMessageBusContract('KafkaMessageBus', async () => {
  const bus = new KafkaMessageBus(PLAINTEXT, { consuming: FAST, publishing: { lingerMs: 5 } });
  return {
    bus,
    createTopic: (partitions) => newTopic(partitions),
    committed: (groupId, topic) => admin.committedPositions(groupId, topic),
    // The whole process freezes, as under SIGSTOP: no heartbeat leaves it until the broker has
    // dropped the member, and kafkajs learns only at its next request (UNKNOWN_MEMBER_ID).
    loseSession: async () => freezeFor(FAST.sessionTimeoutMs! + 3_000),
    patienceMs: 20_000,
    cleanup: () => bus.close({ deadlineMs: 0 }),
  };
});


/** Polls until the check passes, or fails after 20 s. */
const eventually = async (what: string, check: () => boolean | Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Collects what a subscription delivers and acks it, the n-th delivery (from 1) after `ackDelayMs(n)`. */
const collector = (ackDelayMs: (nth: number) => number = () => 0) => {
  const received: Delivery[] = [];
  return {
    received,
    values: () => received.map((d) => d.message.value?.toString()),
    handler: (delivery: Delivery) => {
      const delay = ackDelayMs(received.push(delivery));
      if (delay === 0) delivery.ack();
      else setTimeout(() => delivery.ack(), delay);
    },
  };
};

/**
 * A bus on a real client whose producer and consumers are observed: spies pass every call
 * through to kafkajs and listen to its request events (whose `size` is the response's).
 */
const observedBus = (options: ConstructorParameters<typeof KafkaMessageBus>[1]) => {
  const kafka: Kafka = createKafka(PLAINTEXT);
  const observed = { produceRequests: 0, fetchResponseBytes: [] as number[] };
  const producerSpy = jest.spyOn(kafka, 'producer');
  const createConsumer = kafka.consumer.bind(kafka);
  jest.spyOn(kafka, 'consumer').mockImplementation((config) => {
    const consumer = createConsumer(config);
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Fetch') observed.fetchResponseBytes.push(payload.size);
    });
    return consumer;
  });
  const bus = new KafkaMessageBus(kafka, options);
  const producer = producerSpy.mock.results[0]!.value as Producer;
  producer.on(producer.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'Produce') observed.produceRequests++;
  });
  return { bus, observed };
};

describeLifecycleContract('KafkaMessageBus', async () => {
  const bus = new KafkaMessageBus(PLAINTEXT, { publishing: { lingerMs: 5 } });
  const topic = await newTopic(1);
  return { resource: bus, use: () => bus.publish(topic, [{ key: 'o-1', value: Buffer.from('{}') }]) };
});

describe('KafkaMessageBus on a real broker', () => {
  const buses: KafkaMessageBus[] = [];
  const track = (bus: KafkaMessageBus): KafkaMessageBus => {
    buses.push(bus);
    return bus;
  };

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close({ deadlineMs: 0 })));
  });

  it('resumes from the committed positions in a new process (a new client in the same group)', async () => {
    const topic = await newTopic(2);
    const groupId = `${topic}.g`;
    const firstRun = track(new KafkaMessageBus(PLAINTEXT, { consuming: FAST }));
    await firstRun.publish(topic, ['a', 'b', 'c', 'd'].map((v) => ({ key: v, value: Buffer.from(v) })));
    const first = collector();
    await firstRun.subscribe({ topic, groupId, handler: first.handler });
    await eventually('four deliveries', () => first.received.length === 4);
    await firstRun.close();
    expect((await admin.consumerLag(groupId, topic)).total).toBe(0);

    const secondRun = track(new KafkaMessageBus(PLAINTEXT, { consuming: FAST }));
    await secondRun.publish(topic, [{ key: 'e', value: Buffer.from('e') }]);
    const second = collector();
    await secondRun.subscribe({ topic, groupId, handler: second.handler });
    await eventually('the new message', () => second.received.length === 1);
    expect(second.values()).toEqual(['e']);
  });

  it('coalesces concurrent publishes into one produce request, each publish resolving once acknowledged', async () => {
    const topic = await newTopic(3);
    const { bus, observed } = observedBus({ publishing: { lingerMs: 20 } });
    track(bus);
    await bus.publish(topic, [{ key: 'warm-up', value: Buffer.from('connects the producer') }]);
    observed.produceRequests = 0;

    await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish(topic, [{ key: `o-${i}`, value: Buffer.from(`${i}`) }])));

    expect(observed.produceRequests).toBe(1);
    const lag = await admin.consumerLag(`${topic}.nobody`, topic);
    expect(lag.partitions.reduce((sum, p) => sum + p.end, 0)).toBe(51);
  });

  it('fails a publish not acknowledged within the delivery timeout, and drops it if it had not been sent yet', async () => {
    const topic = await newTopic(1);
    const bus = new KafkaMessageBus(PLAINTEXT, { publishing: { lingerMs: 200, deliveryTimeoutMs: 20 } });
    const error = await bus.publish(topic, [{ key: 'late', value: Buffer.from('late') }]).catch((e: unknown) => e);
    await bus.close();
    expect(error).toMatchObject({ reason: 'timeout', message: expect.stringContaining('within 20 ms') });
    expect((await admin.consumerLag(`${topic}.nobody`, topic)).partitions[0]!.end).toBe(0);
  });

  it.each<[KafkaCompression, number, number]>([
    ['snappy', 0, 0.2],
    ['gzip', 0, 0.2],
    ['none', 1, 1.2],
  ])('round-trips %s-compressed batches (fetched bytes between %d and %d times the values)', async (compression, min, max) => {
    const topic = await newTopic(1);
    const { bus, observed } = observedBus({ consuming: FAST, publishing: { compression } });
    track(bus);
    const values = Array.from({ length: 100 }, (_, i) => Buffer.from(`${i}:`.padEnd(1_000, 'order-')));
    await bus.publish(topic, values.map((value) => ({ key: null, value })));
    expect(observed.produceRequests).toBe(1);

    const received = collector();
    await bus.subscribe({ topic, groupId: `${topic}.g`, handler: received.handler });
    await eventually('every message', () => received.received.length === 100);
    expect(received.received.map((d) => d.message.value)).toEqual(values);
    // The broker stores and serves the batch as the producer compressed it.
    const raw = values.reduce((sum, value) => sum + value.length, 0);
    const fetched = Math.max(...observed.fetchResponseBytes);
    expect(fetched / raw).toBeGreaterThan(min);
    expect(fetched / raw).toBeLessThan(max);
  });

  it.each([
    ['drains in-flight messages and commits them before a rebalance hands their partitions over', FAST.rebalanceDrainMs!, 0],
    ['redelivers what is still in flight when a rebalance may not wait for it (no drain)', 0, 1],
  ])('%s', async (_title, rebalanceDrainMs, minimumDuplicates) => {
    const topic = await newTopic(2);
    const groupId = `${topic}.g`;
    const bus = track(new KafkaMessageBus(PLAINTEXT, { consuming: { ...FAST, rebalanceDrainMs } }));
    await bus.publish(topic, Array.from({ length: 12 }, (_, i) => ({ key: `k-${i}`, value: Buffer.from(`${i}`) })));
    // The first member is at its window, its acks due in 1.5 s, when the second joins: it learns of
    // the rebalance at a heartbeat while it waits for capacity, with four messages in flight.
    const first = collector((nth) => (nth <= 4 ? 1_500 : 0));
    await bus.subscribe({ topic, groupId, maxInFlight: 4, handler: first.handler });
    await eventually('a full window', () => first.received.length === 4);
    const second = collector();
    await bus.subscribe({ topic, groupId, handler: second.handler });
    await eventually('every message', async () => (await admin.consumerLag(groupId, topic)).total === 0);

    const deliveries = [...first.received, ...second.received].map(({ message }) => `${message.partition}:${message.offset}`);
    expect(new Set(deliveries).size).toBe(12);
    const duplicates = deliveries.length - 12;
    if (minimumDuplicates === 0) expect(duplicates).toBe(0);
    else expect(duplicates).toBeGreaterThanOrEqual(minimumDuplicates);
  });

  describe('over SASL_SSL, as IBM Event Streams', () => {
    const sasl = env.sasl;
    const secure = (password = sasl!.password): KafkaConnection => ({
      brokers: sasl!.brokers.split(','),
      clientId: 'orderflow-it-sasl',
      ssl: { ca: readFileSync(sasl!.caFile) },
      sasl: { mechanism: 'plain', username: sasl!.username, password },
      retries: 0,
    });

    beforeAll(() => {
      if (sasl === undefined) throw new Error(`The ${env.source} stack has no SASL_SSL listener; these tests need one`);
    });

    it('publishes and consumes end to end with the CA file and the API key', async () => {
      const saslAdmin = new KafkaTopicAdmin(secure());
      try {
        const topic = await newTopic(1, saslAdmin);
        const bus = track(new KafkaMessageBus(secure(), { consuming: FAST }));
        await bus.publish(topic, [{ key: 'o-1001', value: Buffer.from('{"id":"o-1001"}'), headers: [textHeader('source', 'sasl')] }]);
        const received = collector();
        await bus.subscribe({ topic, groupId: `${topic}.g`, handler: received.handler });
        await eventually('the message', () => received.received.length === 1);
        expect(received.received[0]!.message).toMatchObject({ key: Buffer.from('o-1001'), headers: [textHeader('source', 'sasl')] });
        await eventually('the commit', async () => (await saslAdmin.consumerLag(`${topic}.g`, topic)).total === 0);
      } finally {
        await saslAdmin.close();
      }
    });

    it('reports a wrong password as an authentication failure that neither the error nor the logs contain', async () => {
      const wrong = `wrong-${randomUUID()}`;
      const logs = new LoggerSpy();
      const bus = track(new KafkaMessageBus(secure(wrong), { logger: logs, kafkaLogLevel: 'debug' }));
      const failures = await Promise.all([
        bus.publish('orders.v1', [{ key: 'k', value: Buffer.from('v') }]).catch((error: unknown) => error),
        track(new KafkaMessageBus(secure(wrong), { logger: logs, kafkaLogLevel: 'debug' })).start().catch((error: unknown) => error),
        new KafkaTopicAdmin(secure(wrong), logs).start().catch((error: unknown) => error),
        bus.subscribe({ topic: 'orders.v1', groupId: 'it.sasl.wrong', handler: () => undefined }).catch((error: unknown) => error),
        new KafkaTopicAdmin(secure(wrong), logs).listTopics().catch((error: unknown) => error),
      ]);
      for (const error of failures) {
        expect(error).toBeInstanceOf(KafkaAdapterError);
        expect(error).toMatchObject({ reason: 'authentication' });
        expect((error as Error).message).toMatch(/rejected the credentials \(SASL PLAIN, user "token"\)/);
      }
      expect(logs.lines.length).toBeGreaterThan(0);
      for (const secret of [wrong, sasl!.password]) {
        for (const error of failures) expect(inspect(error, { depth: 10 })).not.toContain(secret);
        expect(logs.text().join('\n')).not.toContain(secret);
      }
    });

    it('explains a broker certificate that is not trusted', async () => {
      const bus = track(new KafkaMessageBus({ ...secure(), ssl: true }));
      const error = await bus.publish('orders.v1', [{ key: 'k', value: Buffer.from('v') }]).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: 'tls' });
      expect((error as Error).message).toMatch(/TLS handshake with localhost:\d+ failed/);
      expect((error as Error).message).not.toContain(sasl!.password);
    });
  });

  it('fails subscribe with the broker\'s reason when the group refuses the member (a fatal kafkajs crash)', async () => {
    const topic = await newTopic(1);
    // Below the broker's group.min.session.timeout.ms: JoinGroup answers INVALID_SESSION_TIMEOUT, which kafkajs does not retry.
    const bus = track(new KafkaMessageBus(PLAINTEXT, { consuming: { ...FAST, sessionTimeoutMs: 1_000 } }));
    const error = await bus.subscribe({ topic, groupId: `${topic}.g`, handler: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdapterError);
    expect((error as Error).message).toMatch(/^Kafka: consuming it\.bus\.\w+ failed: .*session timeout/i);
  });

  it('connects the producer at start, so a broker that does not answer fails the start, explained', async () => {
    const bus = track(new KafkaMessageBus({ brokers: ['127.0.0.1:1'], clientId: 'orderflow-it', retries: 0, connectionTimeout: 2_000 }));
    const error = await bus.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdapterError);
    expect(error).toMatchObject({ reason: 'unreachable' });
    expect((error as Error).message).toMatch(/^Kafka: connecting the producer failed: no Kafka broker answered at 127\.0\.0\.1:1/);
    await expect(bus.ready()).rejects.toMatchObject({ reason: 'unreachable' });
  });

  it('stops its subscriptions at close: their done resolves, what was acked is committed, and the bus stays closed', async () => {
    const topic = await newTopic(1);
    const bus = new KafkaMessageBus(PLAINTEXT, { consuming: FAST });
    await bus.start();
    await bus.publish(topic, [{ key: 'o-1', value: Buffer.from('{}') }]);
    const received = collector();
    const subscription = await bus.subscribe({ topic, groupId: `${topic}.g`, handler: received.handler });
    await eventually('the message', () => received.received.length === 1);
    await bus.close();
    await expect(subscription.done).resolves.toBeUndefined();
    expect(await admin.committedPositions(`${topic}.g`, topic)).toEqual([1]);
    await expect(bus.start()).rejects.toThrow('KafkaMessageBus is closed');
    await expect(bus.ready()).rejects.toThrow('the Kafka message bus is closed');
  });

  it.each<[string, string, string]>([
    ['a port nobody listens on', '127.0.0.1:1', 'unreachable'],
    ['a host that does not resolve', 'kafka.invalid:9092', 'dns'],
  ])('explains %s', async (_case, broker, reason) => {
    // An unreachable broker is waited for (a restart looks the same) until the delivery timeout.
    const bus = track(
      new KafkaMessageBus(
        { brokers: [broker], clientId: 'orderflow-it', retries: 0, connectionTimeout: 2_000 },
        { publishing: { deliveryTimeoutMs: 5_000 } },
      ),
    );
    const error = await bus.publish('orders.v1', [{ key: 'k', value: Buffer.from('v') }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason });
    expect((error as Error).message).toContain(broker.split(':')[0]!);
  });
});

