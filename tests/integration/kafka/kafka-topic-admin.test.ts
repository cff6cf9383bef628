import { randomUUID } from 'node:crypto';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { KafkaAdapterError } from '../../../src/adapters/kafka/kafka-errors';
import { readStackEnv } from '../../support/stack-env';
import { describeLifecycleContract } from '../../contract/lifecycle.contract';

const connection = { brokers: readStackEnv().kafkaBrokers.split(','), clientId: 'orderflow-it-admin' };

describe('KafkaTopicAdmin on a real broker', () => {
  const admin = new KafkaTopicAdmin(connection);
  const topic = `it.admin.${randomUUID().slice(0, 8)}`;

  afterAll(async () => {
    await admin.deleteTopics([topic]);
    await admin.close();
  });

  it('creates missing topics once and reports the ones that exist', async () => {
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual({ created: [topic], existing: [] });
    expect(await admin.ensureTopics([{ topic, partitions: 3 }])).toEqual({ created: [], existing: [topic] });
    expect(await admin.listTopics()).toContain(topic);
  });

  it('reports a group lag per partition: from the earliest offset without a commit, from the committed position after', async () => {
    const bus = new KafkaMessageBus(connection, { consuming: { commitIntervalMs: 100 } });
    try {
      // Kafka's partitioner puts these keys on partitions 0, 1, 2 and 2 of three.
      const keys = ['21', 'o-1001', 'a-little-bit-long-string', 'a-little-bit-long-string'];
      await bus.publish(topic, keys.map((key) => ({ key, value: Buffer.from(key) })));
      expect(await admin.consumerLag('it.admin.nobody', topic)).toEqual({
        groupId: 'it.admin.nobody',
        topic,
        total: 4,
        partitions: [
          { partition: 0, committed: null, end: 1, lag: 1 },
          { partition: 1, committed: null, end: 1, lag: 1 },
          { partition: 2, committed: null, end: 2, lag: 2 },
        ],
      });

      let acked = 0;
      const subscription = await bus.subscribe({
        topic,
        groupId: 'it.admin.reader',
        handler: (delivery) => {
          delivery.ack();
          acked++;
        },
      });
      const deadline = Date.now() + 20_000;
      while (acked < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await subscription.stop();
      expect((await admin.consumerLag('it.admin.reader', topic)).total).toBe(0);
      expect(await admin.committedPositions('it.admin.reader', topic)).toEqual([1, 1, 2]);
    } finally {
      await bus.close();
    }
  });
});

describeLifecycleContract('KafkaTopicAdmin', async () => {
  const admin = new KafkaTopicAdmin(connection);
  return { resource: admin, use: async () => void (await admin.listTopics()) };
});

describe('KafkaTopicAdmin readiness', () => {
  it('asks the brokers each time: not ready, with the reason, where none answers', async () => {
    const admin = new KafkaTopicAdmin({ brokers: ['127.0.0.1:1'], clientId: 'orderflow-it-admin', retries: 0, connectionTimeout: 2_000 });
    try {
      const onStart = await admin.start().catch((e: unknown) => e);
      expect(onStart).toBeInstanceOf(KafkaAdapterError);
      expect((onStart as Error).message).toMatch(/^Kafka: connecting the admin client failed: no Kafka broker answered at 127\.0\.0\.1:1/);
      await expect(admin.ready()).rejects.toMatchObject({ reason: 'unreachable' });
    } finally {
      await admin.close();
    }
  });
});
