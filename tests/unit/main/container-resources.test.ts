import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { buildContainer } from '../../../src/main/container';
import { TOKENS } from '../../../src/main/di-tokens';

/** Kafka and COS settings that name no real server: building the adapters opens nothing. */
const KAFKA_AND_COS: AppConfig = {
  ...EMBEDDED_DEFAULTS,
  logLevel: 'silent',
  bus: 'kafka',
  archive: 'cos',
  kafka: { brokers: ['127.0.0.1:1'], clientId: 'orderflow-test', ssl: false, topicPartitions: 1, createTopics: false, compression: 'none' },
  cos: {
    endpoint: 'http://127.0.0.1:1',
    bucket: 'orders',
    credentials: { kind: 'hmac', accessKeyId: 'id', secretAccessKey: 'secret' },
    forcePathStyle: true,
    maxConcurrency: 4,
    client: 'http',
  },
};

describe('the resources the composition root exposes', () => {
  it('are the archive and the bus on the embedded default', async () => {
    const resources = buildContainer({ ...EMBEDDED_DEFAULTS, logLevel: 'silent', dataDir: '/nonexistent/orderflow' }).get(TOKENS.Resources);
    expect(resources.names).toEqual(['archive', 'message-bus']);
    await resources.close();
  });

  it('are the archive, the topic admin and the bus on Kafka and COS, closed without a server when never started', async () => {
    const container = buildContainer(KAFKA_AND_COS);
    const resources = container.get(TOKENS.Resources);
    expect(resources.names).toEqual(['archive', 'kafka', 'message-bus']);
    expect(resources.entries.map((entry) => entry.resource)).toEqual([
      container.get(TOKENS.Archive),
      container.get(TOKENS.TopicAdmin),
      container.get(TOKENS.MessageBus),
    ]);
    await resources.close();
    await expect(container.get(TOKENS.MessageBus).publish('orders.v1', [])).rejects.toThrow('KafkaMessageBus is closed');
  });

  it("leave out an override that has no lifecycle (a test's stand-in)", () => {
    const resources = buildContainer({ ...EMBEDDED_DEFAULTS, logLevel: 'silent' }, (c) =>
      c.rebindSync(TOKENS.Archive).toConstantValue({ put: async () => undefined }),
    ).get(TOKENS.Resources);
    expect(resources.names).toEqual(['message-bus']);
  });
});
