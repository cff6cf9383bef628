import { createHash, randomBytes } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { TRUNCATION_HEADERS } from '../../../src/adapters/kafka/dead-letter-fit';
import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { textHeader } from '../../../src/application/ports/message-bus.port';
import { buildContainer } from '../../../src/main/container';
import { TOKENS } from '../../../src/main/di-tokens';
import { aWireOrder, wireBytes } from '../../support/builders';
import { eventually, stackConfig } from '../../support/integration-config';

const DLQ_LIMIT = 100_000;
const HUGE = 500_000;

describe('a dead letter larger than its topic takes, on the real broker', () => {
  it('ends on the DLQ truncated, with its key, headers, size and sha256, and the partition moves on', async () => {
    // Messages over 64 KiB are dead-lettered unread; the orders topic takes 2 MiB, the DLQ only 100 kB.
    const config = stackConfig({ maxMessageBytes: 64 * 1024, archive: 'memory' });
    const brokers = config.kafka!.brokers;
    const admin = new KafkaTopicAdmin({ brokers, clientId: 'it-dlq-admin' });
    const producer = new KafkaMessageBus({ brokers, clientId: 'it-dlq-producer' });
    const container = buildContainer(config);
    const pipeline = container.get(TOKENS.ArchivePipeline);
    const reader = new Kafka({ brokers: [...brokers], clientId: 'it-dlq-reader', logLevel: 0 }).consumer({ groupId: `${config.consumerGroup}-reader` });
    try {
      await admin.ensureTopics([
        { topic: config.ordersTopic, partitions: 1, maxMessageBytes: 2 * 1024 * 1024 },
        { topic: config.dlqTopic, partitions: 1, maxMessageBytes: DLQ_LIMIT },
      ]);
      expect(await admin.maxMessageBytes(config.dlqTopic)).toBe(DLQ_LIMIT);

      // Random, so that compression (snappy) cannot shrink the record below the DLQ's limit.
      const huge = randomBytes(HUGE);
      await producer.publish(config.ordersTopic, [
        { key: 'o-before', value: wireBytes(aWireOrder({ id: 'o-before' })) },
        { key: 'o-huge', value: huge, headers: [textHeader('traceparent', 't-huge')] },
        { key: 'o-after', value: wireBytes(aWireOrder({ id: 'o-after' })) },
      ]);
      await pipeline.start();
      await eventually(
        async () => (await admin.consumerLag(config.consumerGroup, config.ordersTopic)).total === 0,
        async () => `the group to commit past the huge message, lag ${(await admin.consumerLag(config.consumerGroup, config.ordersTopic)).total}`,
        60_000,
      );

      const records: Array<{ key: string | null; value: Buffer; headers: Record<string, string> }> = [];
      await reader.connect();
      await reader.subscribe({ topic: config.dlqTopic, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          records.push({ key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), headers });
        },
      });
      await eventually(async () => records.length >= 1, () => `a record on ${config.dlqTopic}`, 30_000);

      expect(records).toHaveLength(1);
      const [dead] = records;
      expect(dead!.key).toBe('o-huge');
      expect(dead!.headers).toMatchObject({
        traceparent: 't-huge',
        [DLQ_HEADERS.code]: 'MESSAGE.TOO_LARGE',
        [DLQ_HEADERS.offset]: '1',
        [TRUNCATION_HEADERS.truncated]: 'true',
        [TRUNCATION_HEADERS.bytes]: String(HUGE),
        [TRUNCATION_HEADERS.sha256]: createHash('sha256').update(huge).digest('hex'),
      });
      expect(dead!.value.length).toBeGreaterThan(DLQ_LIMIT / 2);
      expect(dead!.value.length).toBeLessThan(DLQ_LIMIT);
      expect(dead!.value.equals(huge.subarray(0, dead!.value.length))).toBe(true);
      expect(container.get(TOKENS.Prometheus).failing).toEqual([]);
    } finally {
      await reader.disconnect();
      await pipeline.stop(10_000);
      await (container.get(TOKENS.MessageBus) as KafkaMessageBus).close();
      await container.get(TOKENS.TopicAdmin).close();
      await producer.close();
      await admin.deleteTopics([config.ordersTopic, config.dlqTopic]).catch(() => undefined);
      await admin.close();
    }
  });
});
