import { randomUUID } from 'node:crypto';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../src/main/config';
import { readStackEnv } from './stack-env';

/**
 * A service configuration pointing at the integration stack, with topics, group and key prefix
 * unique to this run, so suites and reruns never see each other's data.
 */
export const stackConfig = (overrides: Partial<AppConfig> = {}): AppConfig => {
  const env = readStackEnv();
  const run = `it-${randomUUID().slice(0, 8)}`;
  return {
    ...EMBEDDED_DEFAULTS,
    bus: 'kafka',
    archive: 'cos',
    ordersTopic: `${run}.orders`,
    dlqTopic: `${run}.orders.dlq`,
    consumerGroup: `${run}-group`,
    archivePrefix: `${run}/orders`,
    logLevel: 'error',
    httpPort: 0,
    backoff: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
    kafka: {
      brokers: env.kafkaBrokers.split(','),
      clientId: `orderflow-${run}`,
      ssl: false,
      topicPartitions: 6,
      createTopics: true,
      compression: 'snappy',
    },
    cos: {
      endpoint: env.cosEndpoint,
      bucket: env.cosBucket,
      credentials: { kind: 'hmac', accessKeyId: env.cosAccessKeyId, secretAccessKey: env.cosSecretAccessKey },
      forcePathStyle: true,
      maxConcurrency: 64,
    },
    ...overrides,
  };
};

/** Polls until `probe` returns true, or fails with what it last saw. */
export const eventually = async (probe: () => Promise<boolean>, what: () => Promise<string> | string, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
