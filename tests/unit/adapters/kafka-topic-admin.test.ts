import { Kafka } from 'kafkajs';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { topicMaxMessageBytes } from '../../../src/main/stage-topics';

/**
 * A broker that has just started (or just moved a group's coordinator) answers group requests
 * with coordinator errors for a few seconds. kafkajs's admin client does not retry them, so the
 * adapter does; a real broker produces these only at unpredictable moments, hence a scripted admin.
 */
// kafkajs's own constructor of protocol errors from their wire codes; not in its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };

const scriptedKafka = (failures: number[]) => {
  let calls = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchOffsets: async () => {
      const code = failures[calls++];
      if (code !== undefined) throw createErrorFromCode(code);
      return [{ topic: 't', partitions: [{ partition: 0, offset: '7' }] }];
    },
    fetchTopicOffsets: async () => [{ partition: 0, offset: '10', high: '10', low: '0' }],
  };
  const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: 0 });
  (kafka as unknown as { admin: () => typeof admin }).admin = () => admin;
  return { kafka, calls: () => calls };
};

describe('KafkaTopicAdmin', () => {
  it('retries while the group coordinator loads or moves', async () => {
    const { kafka, calls } = scriptedKafka([14, 16, 15]);
    const lag = await new KafkaTopicAdmin(kafka).consumerLag('g', 't');
    expect(lag).toMatchObject({ total: 3, partitions: [{ partition: 0, committed: 7, end: 10, lag: 3 }] });
    expect(calls()).toBe(4);
  });

  it('gives up after a bounded number of attempts, with an explained error', async () => {
    const { kafka, calls } = scriptedKafka(Array.from({ length: 10 }, () => 16));
    await expect(new KafkaTopicAdmin(kafka).consumerLag('g', 't')).rejects.toThrow(/reading the lag of group g on t failed/);
    expect(calls()).toBe(6);
  });

  it('does not retry other protocol errors', async () => {
    const { kafka, calls } = scriptedKafka([30]); // GROUP_AUTHORIZATION_FAILED
    await expect(new KafkaTopicAdmin(kafka).consumerLag('g', 't')).rejects.toThrow(/not authorized/);
    expect(calls()).toBe(1);
  });

  it('creates missing topics with the max.message.bytes they must hold, and reads a topic\'s back', async () => {
    const created: unknown[] = [];
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => [],
      createTopics: async (request: { topics: unknown[] }) => void created.push(...request.topics),
      describeConfigs: async () => ({ resources: [{ configEntries: [{ configName: 'max.message.bytes', configValue: '100000' }] }] }),
    };
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: 0 });
    (kafka as unknown as { admin: () => typeof admin }).admin = () => admin;
    const topics = new KafkaTopicAdmin(kafka);
    await topics.ensureTopics([{ topic: 'orders', partitions: 6, maxMessageBytes: topicMaxMessageBytes(4 * 1024 * 1024) }]);
    expect(created).toEqual([
      expect.objectContaining({ topic: 'orders', configEntries: [{ name: 'max.message.bytes', value: String(4 * 1024 * 1024 + 64 * 1024) }] }),
    ]);
    expect(await topics.maxMessageBytes('orders.dlq')).toBe(100_000);
    // Never below Kafka's own default, which a small ORDERFLOW_MAX_MESSAGE_BYTES would otherwise lower.
    expect(topicMaxMessageBytes(1024)).toBe(1_048_588);
  });
});
