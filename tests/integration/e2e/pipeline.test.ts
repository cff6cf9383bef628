import { Kafka } from 'kafkajs';
import { CosOrderArchive } from '../../../src/adapters/cos/cos-order-archive';
import { DLQ_HEADERS } from '../../../src/adapters/kafka/kafka-dead-letter-sink';
import { KafkaMessageBus } from '../../../src/adapters/kafka/kafka-message-bus';
import { KafkaTopicAdmin } from '../../../src/adapters/kafka/kafka-topic-admin';
import { OrderGenerator } from '../../../src/application/order-generator';
import { OutboundMessage } from '../../../src/application/ports/message-bus.port';
import { createOrder } from '../../../src/domain/order';
import { RiskScorerRegistry } from '../../../src/domain/risk';
import { AppConfig } from '../../../src/main/config';
import { buildContainer } from '../../../src/main/container';
import { TOKENS } from '../../../src/main/di-tokens';
import { IoTsOrderCodec } from '../../../src/adapters/io-ts/io-ts-order-codec';
import { eventually, stackConfig } from '../../support/integration-config';

const ORDERS = 5_000;

const MALFORMED: readonly OutboundMessage[] = [
  { key: 'bad-json', value: Buffer.from('{"id": "o-x", "total": ') },
  { key: 'bad-channel', value: Buffer.from('{"id":"o-fax","customer":"C-1","total":10,"channel":"fax"}') },
  { key: 'bad-id', value: Buffer.from('{"id":"../../etc/passwd","customer":"C-1","total":10,"channel":"web"}') },
  { key: 'bad-total', value: Buffer.from('{"id":"o-neg","customer":"C-1","total":-3,"channel":"web"}') },
  { key: 'bad-utf8', value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) },
];

/** The service as `orderflow consume` wires it, on the real broker and the real MinIO. */
const startService = async (config: AppConfig) => {
  const container = buildContainer(config);
  const admin = container.get(TOKENS.TopicAdmin);
  await admin.ensureTopics([
    { topic: config.ordersTopic, partitions: 6 },
    { topic: config.dlqTopic, partitions: 1 },
  ]);
  const pipeline = container.get(TOKENS.ArchivePipeline);
  await pipeline.start();
  return {
    container,
    stop: async () => {
      await pipeline.stop(10_000);
      await (container.get(TOKENS.MessageBus) as KafkaMessageBus).close();
      (container.get(TOKENS.Archive) as CosOrderArchive).close();
      await admin.close();
    },
  };
};

/** Reads a whole topic with a plain kafkajs consumer: the test's own eyes, not the service's. */
const readTopic = async (brokers: readonly string[], topic: string, expected: number) => {
  const consumer = new Kafka({ brokers: [...brokers], clientId: 'it-reader', logLevel: 0 }).consumer({ groupId: `reader-${topic}` });
  const records: Array<{ key: string | null; value: Buffer | null; headers: Record<string, string> }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      records.push({ key: message.key?.toString() ?? null, value: message.value, headers });
    },
  });
  await eventually(async () => records.length >= expected, () => `${expected} records on ${topic}, saw ${records.length}`, 30_000);
  await consumer.disconnect();
  return records;
};

describe('orderflow end to end on Kafka and MinIO', () => {
  it('archives 5,000 orders under their Hive keys with correct risk, dead-letters the malformed ones, and commits past all', async () => {
    const config = stackConfig();
    const service = await startService(config);
    const publisher = new KafkaMessageBus({ brokers: config.kafka!.brokers, clientId: 'it-producer' });
    const archive = new CosOrderArchive({
      endpoint: config.cos!.endpoint,
      bucket: config.cos!.bucket,
      credentials: config.cos!.credentials,
    });
    const admin = new KafkaTopicAdmin({ brokers: config.kafka!.brokers, clientId: 'it-admin' });
    const codec = new IoTsOrderCodec();
    try {
      const generator = new OrderGenerator({ seed: 7, runId: 'e2e' });
      const orders = Array.from({ length: ORDERS }, () => {
        const order = createOrder(generator.next());
        if (!order.ok) throw new Error(order.error.message);
        return order.value;
      });
      const messages: OutboundMessage[] = orders.map((order) => ({ key: order.id, value: codec.encode(order) }));
      // Malformed messages in the middle of the stream: the partitions must keep moving past them.
      messages.splice(2_500, 0, ...MALFORMED);
      for (let i = 0; i < messages.length; i += 500) await publisher.publish(config.ordersTopic, messages.slice(i, i + 500));

      const prefix = `${config.archivePrefix}/`;
      let keys: string[] = [];
      await eventually(
        async () => (keys = await archive.list(prefix)).length >= ORDERS,
        () => `${ORDERS} objects under ${prefix}, saw ${keys.length}`,
        120_000,
      );
      await eventually(
        async () => (await admin.consumerLag(config.consumerGroup, config.ordersTopic)).total === 0,
        async () => `lag 0, saw ${(await admin.consumerLag(config.consumerGroup, config.ordersTopic)).total}`,
      );

      const expectedKeys = orders.map((o) => `${prefix}dt=${new Date(o.producedAt!).toISOString().slice(0, 10)}/orderId=${o.id}.json`);
      expect(keys).toEqual([...expectedKeys].sort());

      const registry = new RiskScorerRegistry();
      for (const order of orders.filter((_, i) => i % 250 === 0)) {
        const key = expectedKeys[orders.indexOf(order)]!;
        const stored = JSON.parse((await archive.get(key))!.toString());
        const risk = registry.score(order);
        expect(stored).toMatchObject({ id: order.id, total: order.total, channel: order.channel, high_risk: order.total >= 500 });
        expect(risk.ok && stored.risk_score).toBe(risk.ok ? risk.value : 'unreachable');
      }

      const dead = await readTopic(config.kafka!.brokers, config.dlqTopic, MALFORMED.length);
      expect(dead.map((r) => r.key).sort()).toEqual(MALFORMED.map((m) => m.key).sort());
      const byKey = new Map(dead.map((r) => [r.key, r]));
      expect(byKey.get('bad-channel')!.headers[DLQ_HEADERS.exceptionClass]).toBe('ORDER.UNKNOWN_CHANNEL');
      expect(byKey.get('bad-id')!.headers[DLQ_HEADERS.exceptionClass]).toBe('ORDER.INVALID_ID');
      expect(byKey.get('bad-utf8')!.headers[DLQ_HEADERS.exceptionClass]).toBe('MESSAGE.INVALID_UTF8');
      expect(byKey.get('bad-utf8')!.value?.equals(MALFORMED[4]!.value)).toBe(true);
      for (const record of dead) {
        expect(record.headers[DLQ_HEADERS.topic]).toBe(config.ordersTopic);
        expect(record.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
        expect(record.headers[DLQ_HEADERS.exceptionMessage]!.length).toBeGreaterThan(0);
      }
      // No object escaped the prefix, whatever the hostile ids asked for.
      expect((await archive.list('')).filter((k) => k.includes('passwd'))).toEqual([]);
    } finally {
      await service.stop();
      await publisher.close();
      await admin.close();
      archive.close();
    }
  });
});
