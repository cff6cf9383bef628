import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, describeConfig, environmentWithDotEnv, loadConfig } from '../../../src/main/env-config';
import { LIFECYCLE_VARIABLES } from '../../../src/main/lifecycle-config';

const SERVICE = { bus: 'kafka', archive: 'cos' } as const;
const DEMO = { bus: 'memory', archive: 'fs' } as const;

const eventStreams = {
  KAFKA_BROKERS: 'broker-0.example.eventstreams.cloud.ibm.com:9093,broker-1.example.eventstreams.cloud.ibm.com:9093',
  KAFKA_SASL_USERNAME: 'token',
  KAFKA_SASL_PASSWORD: 'es-api-key-s3cr3t',
  COS_ENDPOINT: 'https://s3.eu-de.cloud-object-storage.appdomain.cloud',
  COS_BUCKET: 'orders-archive',
  COS_API_KEY: 'cos-api-key-s3cr3t',
  COS_INSTANCE_CRN: 'crn:v1:bluemix:public:cloud-object-storage:global:a/123::',
};

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration from the environment', () => {
  it('needs nothing for the embedded demo', () => {
    expect(loadConfig({}, DEMO)).toMatchObject({ bus: 'memory', archive: 'fs', ordersTopic: 'orders.v1', dlqTopic: 'orders.v1.dlq' });
  });

  it('configures Event Streams over SASL_SSL and COS with IAM', () => {
    const config = loadConfig(eventStreams, SERVICE);
    expect(config.kafka).toEqual({
      brokers: ['broker-0.example.eventstreams.cloud.ibm.com:9093', 'broker-1.example.eventstreams.cloud.ibm.com:9093'],
      clientId: 'orderflow',
      ssl: true,
      sasl: { mechanism: 'plain', username: 'token', password: 'es-api-key-s3cr3t' },
      topicPartitions: 6,
      createTopics: true,
      compression: 'snappy',
      maxPartitionFetchBytes: 262_144,
    });
    expect(config.cos).toMatchObject({ bucket: 'orders-archive', credentials: { kind: 'iam' }, forcePathStyle: true });
    expect(config).toMatchObject({ consumerGroup: 'order-consumer-group', archivePrefix: 'orders', httpPort: 8080 });
  });

  it('bounds in-flight bytes at 64 MiB unless ORDERFLOW_MAX_IN_FLIGHT_BYTES says otherwise, and names a bad value', () => {
    expect(loadConfig({}, DEMO).maxInFlightBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ ORDERFLOW_MAX_IN_FLIGHT_BYTES: '1048576' }, DEMO).maxInFlightBytes).toBe(1_048_576);
    expect(problemsOf(() => loadConfig({ ORDERFLOW_MAX_IN_FLIGHT_BYTES: '12MB' }, DEMO))).toEqual([
      expect.stringContaining('ORDERFLOW_MAX_IN_FLIGHT_BYTES'),
    ]);
  });

  it("accepts the seed's ES_* names", () => {
    const config = loadConfig(
      { ES_BOOTSTRAP: 'b0:9093', ES_USERNAME: 'token', ES_PASSWORD: 'k', ES_TOPIC: 'orders.v2', ORDERFLOW_ARCHIVE: 'memory' },
      SERVICE,
    );
    expect(config.kafka?.brokers).toEqual(['b0:9093']);
    expect(config.kafka?.sasl?.username).toBe('token');
    expect(config.ordersTopic).toBe('orders.v2');
    expect(config.dlqTopic).toBe('orders.v2.dlq');
  });

  it("accepts the Code Engine binding's JSON broker list", () => {
    const config = loadConfig(
      {
        EVENT_STREAMS_KAFKA_BROKERS_SASL: '["b0.svc:9093","b1.svc:9093"]',
        EVENT_STREAMS_USER: 'token',
        EVENT_STREAMS_PASSWORD: 'k',
        ORDERFLOW_ARCHIVE: 'memory',
      },
      SERVICE,
    );
    expect(config.kafka?.brokers).toEqual(['b0.svc:9093', 'b1.svc:9093']);
  });

  it('reports every missing variable at once', () => {
    const problems = problemsOf(() => loadConfig({}, SERVICE));
    expect(problems).toEqual([
      expect.stringContaining('KAFKA_BROKERS is required'),
      expect.stringContaining('COS_ENDPOINT is required'),
      expect.stringContaining('COS_BUCKET is required'),
      expect.stringContaining('COS credentials are missing'),
    ]);
  });

  it('reports every invalid variable at once, naming each', () => {
    const problems = problemsOf(() =>
      loadConfig({ ...eventStreams, HTTP_PORT: 'eighty', KAFKA_BROKERS: 'no-port', KAFKA_SSL: 'maybe', COS_PREFIX: '/x/' }, SERVICE),
    );
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/HTTP_PORT is invalid: expected an integer from 0 to 65535, got "eighty"/);
    expect(problems.join('\n')).toMatch(/KAFKA_BROKERS is invalid/);
    expect(problems.join('\n')).toMatch(/KAFKA_SSL is invalid/);
    expect(problems.join('\n')).toMatch(/COS_PREFIX is invalid/);
  });

  it('reports format errors and missing variables in one pass', () => {
    const problems = problemsOf(() => loadConfig({ HTTP_PORT: 'eighty', KAFKA_SSL: 'maybe' }, SERVICE));
    expect(problems).toEqual([
      expect.stringContaining('HTTP_PORT is invalid'),
      expect.stringContaining('KAFKA_SSL is invalid'),
      expect.stringContaining('KAFKA_BROKERS is required'),
      expect.stringContaining('COS_ENDPOINT is required'),
      expect.stringContaining('COS_BUCKET is required'),
      expect.stringContaining('COS credentials are missing'),
    ]);
  });

  it('names an invalid required variable once, as invalid, not also as missing', () => {
    const problems = problemsOf(() => loadConfig({ ...eventStreams, KAFKA_BROKERS: 'no-port', COS_BUCKET: 'A' }, SERVICE));
    expect(problems.sort()).toEqual([expect.stringContaining('COS_BUCKET is invalid'), expect.stringContaining('KAFKA_BROKERS is invalid')]);
  });

  it('refuses user info in endpoints and brokers, without printing it', () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          ...eventStreams,
          COS_ENDPOINT: 'https://AKIAKEY:hmac-s3cr3t@s3.eu-de.cloud-object-storage.appdomain.cloud',
          COS_IAM_ENDPOINT: 'iam-user:iam-s3cr3t@iam.cloud.ibm.com',
          KAFKA_BROKERS: '["token:es-s3cr3t@broker-0.example:9093"]',
          HTTP_PORT: 'eighty',
        },
        SERVICE,
      ),
    );
    expect(problems).toHaveLength(4);
    for (const variable of ['KAFKA_BROKERS', 'COS_ENDPOINT', 'COS_IAM_ENDPOINT']) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${variable} must not contain user info`)));
    }
    expect(problems.join('\n')).not.toMatch(/s3cr3t|AKIAKEY|iam-user|token:/);
    // An @ in the path or query is no user info.
    expect(loadConfig({ ...eventStreams, COS_ENDPOINT: 'https://s3.example/a@b' }, SERVICE).cos?.endpoint).toBe('https://s3.example/a@b');
  });

  it('describes the COS endpoint without user info, even in a hand-built config', () => {
    const config = loadConfig(eventStreams, SERVICE);
    const handBuilt = { ...config, cos: { ...config.cos!, endpoint: 'https://key:s3cr3t@s3.example:8443/path' } };
    expect(describeConfig(handBuilt)).toMatchObject({ cos: { endpoint: 'https://s3.example:8443' } });
  });

  it('never prints a secret, even when a secret variable is the one that is wrong', () => {
    const error = (() => {
      try {
        loadConfig({ ...eventStreams, COS_ACCESS_KEY_ID: 'AKIA', COS_SECRET_ACCESS_KEY: 'hmac-s3cr3t', ES_PASSWORD: 'other-s3cr3t' }, SERVICE);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error.message).toMatch(/either IAM credentials .* or HMAC credentials/);
    expect(error.message).toMatch(/KAFKA_SASL_PASSWORD and ES_PASSWORD are both set/);
    expect(error.message).not.toMatch(/s3cr3t/);
  });

  it('requires both halves of a credential pair', () => {
    expect(problemsOf(() => loadConfig({ ...eventStreams, KAFKA_SASL_PASSWORD: '' }, SERVICE))).toEqual([
      expect.stringContaining('KAFKA_SASL_USERNAME is set but KAFKA_SASL_PASSWORD is not'),
    ]);
    const { COS_INSTANCE_CRN: _omitted, ...withoutCrn } = eventStreams;
    expect(problemsOf(() => loadConfig(withoutCrn, SERVICE))).toEqual([expect.stringContaining('COS_INSTANCE_CRN is required')]);
  });

  it('uses HMAC credentials for MinIO, and plaintext Kafka without SASL', () => {
    const config = loadConfig(
      { KAFKA_BROKERS: '127.0.0.1:19092', COS_ENDPOINT: 'http://127.0.0.1:19000', COS_BUCKET: 'orderflow', COS_ACCESS_KEY_ID: 'a', COS_SECRET_ACCESS_KEY: 'b' },
      SERVICE,
    );
    expect(config.kafka).toMatchObject({ ssl: false });
    expect(config.kafka?.sasl).toBeUndefined();
    expect(config.cos).toMatchObject({ endpoint: 'http://127.0.0.1:19000', credentials: { kind: 'hmac', accessKeyId: 'a' } });
  });

  it('signs HMAC keys with the http client and IAM API keys with ibm-cos-sdk unless COS_CLIENT says otherwise', () => {
    const hmac = { KAFKA_BROKERS: '127.0.0.1:19092', COS_ENDPOINT: 'http://127.0.0.1:19000', COS_BUCKET: 'orderflow', COS_ACCESS_KEY_ID: 'a', COS_SECRET_ACCESS_KEY: 'b' };
    expect(loadConfig(hmac, SERVICE).cos?.client).toBe('http');
    expect(loadConfig({ ...hmac, COS_CLIENT: 'ibm-cos-sdk' }, SERVICE).cos?.client).toBe('ibm-cos-sdk');
    expect(describeConfig(loadConfig(hmac, SERVICE))).toMatchObject({ cos: { auth: 'hmac', client: 'http' } });
    expect(loadConfig(eventStreams, SERVICE).cos?.client).toBe('ibm-cos-sdk');
    expect(loadConfig({ ...eventStreams, COS_CLIENT: 'ibm-cos-sdk' }, SERVICE).cos?.client).toBe('ibm-cos-sdk');
  });

  it('refuses an unknown COS_CLIENT, and the http client with IAM credentials, saying what to set', () => {
    expect(problemsOf(() => loadConfig({ ...eventStreams, COS_CLIENT: 'aws-sdk' }, SERVICE))).toEqual([
      'COS_CLIENT is invalid: expected http | ibm-cos-sdk, got "aws-sdk"',
    ]);
    const problems = problemsOf(() => loadConfig({ ...eventStreams, COS_CLIENT: 'http' }, SERVICE));
    expect(problems).toEqual([expect.stringContaining('COS_CLIENT=http signs with HMAC keys')]);
    expect(problems[0]).toContain('IAM API keys need COS_CLIENT=ibm-cos-sdk');
    expect(problems.join(' ')).not.toContain(eventStreams.COS_API_KEY);
  });

  it('writes one object per order unless the batched sink is chosen', () => {
    expect(loadConfig({}, DEMO)).toMatchObject({ sink: 'per-order', batch: { maxMessages: 1000, maxSpanMs: 60_000 } });
    const config = loadConfig({ ORDERFLOW_SINK: 'batched', ORDERFLOW_BATCH_MAX_MESSAGES: '5000', ORDERFLOW_BATCH_MAX_SPAN_MS: '10000' }, DEMO);
    expect(config).toMatchObject({ sink: 'batched', batch: { maxMessages: 5000, maxSpanMs: 10_000 } });
    expect(describeConfig(config)).toMatchObject({ sink: 'batched', batch: { maxMessages: 5000, maxSpanMs: 10_000 } });
    expect(config.batch.idleFlushMs).toBeUndefined();
    expect(loadConfig({ ORDERFLOW_SINK: 'batched', ORDERFLOW_BATCH_IDLE_FLUSH_MS: '2000' }, DEMO).batch).toMatchObject({ idleFlushMs: 2_000 });
    expect(loadConfig({}, DEMO).batch.maxBytes).toBe(16 * 1024 * 1024);
    expect(loadConfig({ ORDERFLOW_BATCH_MAX_BYTES: '4194304' }, DEMO).batch.maxBytes).toBe(4_194_304);
    expect(problemsOf(() => loadConfig({ ORDERFLOW_BATCH_MAX_BYTES: '10' }, DEMO))).toEqual([
      'ORDERFLOW_BATCH_MAX_BYTES is invalid: expected an integer from 1024 to 1073741824, got "10"',
    ]);
    expect(problemsOf(() => loadConfig({ ORDERFLOW_SINK: 'bulk', ORDERFLOW_BATCH_MAX_MESSAGES: '0' }, DEMO)).sort()).toEqual([
      'ORDERFLOW_BATCH_MAX_MESSAGES is invalid: expected an integer from 1 to 100000, got "0"',
      'ORDERFLOW_SINK is invalid: expected per-order | batched, got "bulk"',
    ]);
  });

  it('takes the consumer tuning from KAFKA_MAX_PARTITION_FETCH_BYTES (256 KiB by default), KAFKA_FETCH_MIN_BYTES, KAFKA_FETCH_MAX_WAIT_MS and KAFKA_COMMIT_INTERVAL_MS', () => {
    const minio = { KAFKA_BROKERS: '127.0.0.1:19092', ORDERFLOW_ARCHIVE: 'memory' };
    expect(loadConfig(minio, SERVICE).kafka?.maxPartitionFetchBytes).toBe(262_144);
    expect(loadConfig({ ...minio, KAFKA_MAX_PARTITION_FETCH_BYTES: '1048576' }, SERVICE).kafka?.maxPartitionFetchBytes).toBe(1_048_576);
    expect(loadConfig(minio, SERVICE).kafka?.commitIntervalMs).toBeUndefined();
    expect(loadConfig({ ...minio, KAFKA_COMMIT_INTERVAL_MS: '5000' }, SERVICE).kafka?.commitIntervalMs).toBe(5_000);
    expect(loadConfig(minio, SERVICE).kafka?.fetchMinBytes).toBeUndefined();
    expect(loadConfig(minio, SERVICE).kafka?.fetchMaxWaitMs).toBeUndefined();
    const batchedFetches = loadConfig({ ...minio, KAFKA_FETCH_MIN_BYTES: '65536', KAFKA_FETCH_MAX_WAIT_MS: '10' }, SERVICE).kafka;
    expect([batchedFetches?.fetchMinBytes, batchedFetches?.fetchMaxWaitMs]).toEqual([65_536, 10]);
    expect(problemsOf(() => loadConfig({ ...minio, KAFKA_FETCH_MIN_BYTES: '0', KAFKA_FETCH_MAX_WAIT_MS: '0' }, SERVICE))).toEqual([
      'KAFKA_FETCH_MAX_WAIT_MS is invalid: expected an integer from 1 to 60000, got "0"',
      'KAFKA_FETCH_MIN_BYTES is invalid: expected an integer from 1 to 67108864, got "0"',
    ]);
    expect(loadConfig(minio, SERVICE).kafka?.sessionTimeoutMs).toBeUndefined();
    expect(loadConfig({ ...minio, KAFKA_SESSION_TIMEOUT_MS: '10000' }, SERVICE).kafka?.sessionTimeoutMs).toBe(10_000);
    expect(() => loadConfig({ ...minio, KAFKA_SESSION_TIMEOUT_MS: '1000' }, SERVICE)).toThrow(/KAFKA_SESSION_TIMEOUT_MS/);
    expect(problemsOf(() => loadConfig({ ...minio, KAFKA_MAX_PARTITION_FETCH_BYTES: '512' }, SERVICE))).toEqual([
      expect.stringContaining('KAFKA_MAX_PARTITION_FETCH_BYTES is invalid: expected an integer from 1024 to 67108864'),
    ]);
  });

  it('refuses a CA file that does not exist', () => {
    expect(problemsOf(() => loadConfig({ ...eventStreams, KAFKA_SSL_CA_FILE: '/nope/ca.pem' }, SERVICE))).toEqual([
      expect.stringContaining('KAFKA_SSL_CA_FILE points at /nope/ca.pem'),
    ]);
  });

  it('reads .env under the real environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orderflow-env-'));
    const file = path.join(dir, '.env');
    writeFileSync(file, 'ORDERS_TOPIC=from-file\nCONSUMER_GROUP=from-file\n');
    const env = environmentWithDotEnv({ CONSUMER_GROUP: 'from-shell' }, file);
    expect(loadConfig(env, DEMO)).toMatchObject({ ordersTopic: 'from-file', consumerGroup: 'from-shell' });
  });

  it('has every variable in .env.example and in the README', () => {
    const example = readFileSync(path.join(__dirname, '../../../.env.example'), 'utf8');
    const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
    const variables = [...CONFIG_VARIABLES, ...LIFECYCLE_VARIABLES];
    expect(variables.filter((name) => !new RegExp(`^#?${name}=`, 'm').test(example))).toEqual([]);
    expect(variables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
