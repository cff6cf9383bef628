import { randomUUID } from 'node:crypto';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../src/main/config';
import { loadConfig } from '../../src/main/env-config';
import { loadLifecycleConfig } from '../../src/main/lifecycle-config';
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
      // What loadConfig chooses for HMAC keys (COS_CLIENT unset).
      client: 'http',
    },
    ...overrides,
  };
};

/**
 * `orderflow run` (or `api`) on the integration stack as its environment configures it: every
 * topic and group under KAFKA_TOPIC_PREFIX `<run>.`, the archive under `<run>/orders`, the
 * stack's PostgreSQL in a schema of the run's own, HTTP on a free port. `lifecycleEnv` gives the
 * lifecycle's variables (ORDERFLOW_PAYMENT_LIMIT, ORDERFLOW_STOCK_FILE…), `env` the service's.
 */
export const lifecycleRunConfig = (run: string, schema: string, lifecycleEnv: Record<string, string>, env: Record<string, string> = {}): AppConfig => {
  const stack = readStackEnv();
  const base = loadConfig(
    {
      KAFKA_BROKERS: stack.kafkaBrokers,
      KAFKA_CLIENT_ID: `orderflow-${run}`,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      COS_ENDPOINT: stack.cosEndpoint,
      COS_BUCKET: stack.cosBucket,
      COS_ACCESS_KEY_ID: stack.cosAccessKeyId,
      COS_SECRET_ACCESS_KEY: stack.cosSecretAccessKey,
      COS_PREFIX: `${run}/orders`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ORDERFLOW_SHUTDOWN_DEADLINE_MS: '20000',
      ...env,
    },
    { bus: 'kafka', archive: 'cos' },
  );
  const lifecycle = loadLifecycleConfig({ DATABASE_URL: stack.databaseUrl, ...lifecycleEnv });
  return { ...base, lifecycle: { ...lifecycle, postgres: { ...lifecycle.postgres!, schema } } };
};

/** Polls until `probe` returns true, or fails with what it last saw. */
export const eventually = async (probe: () => Promise<boolean>, what: () => Promise<string> | string, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
