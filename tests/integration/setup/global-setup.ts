import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { STACK_ENV_FILE, StackEnv, REPO_ROOT } from '../../support/stack-env';
import { readStackEnvFile } from '../../../scripts/stack/stack-env-file';

/**
 * Gives the integration project a real Kafka broker, a real S3 server and a real PostgreSQL, in
 * this order:
 * 1. endpoints from the environment (KAFKA_BROKERS and COS_ENDPOINT set, DATABASE_URL then too):
 *    use them as they are;
 * 2. a Docker daemon: Redpanda, MinIO and postgres:15 through testcontainers;
 * 3. otherwise the native stack (scripts/stack/stack.sh: Kafka from Maven Central jars, MinIO
 *    built with go install), started here and stopped in the teardown.
 * It never skips: without a broker and a bucket the integration suites fail, loudly.
 */
export default async function globalSetup(): Promise<void> {
  const env = fromEnvironment() ?? (dockerAvailable() ? await fromTestcontainers() : fromNativeStack());
  mkdirSync(path.dirname(STACK_ENV_FILE), { recursive: true });
  writeFileSync(STACK_ENV_FILE, JSON.stringify(env, null, 2));
  Object.assign(process.env, { ORDERFLOW_TEST_STACK: env.source });
  process.stderr.write(`\n[integration] Kafka ${env.kafkaBrokers}, S3 ${env.cosEndpoint}, PostgreSQL ${postgresHost(env.databaseUrl)} (${env.source})\n`);
}

const fromEnvironment = (): StackEnv | undefined => {
  const { KAFKA_BROKERS, COS_ENDPOINT } = process.env;
  if (!KAFKA_BROKERS || !COS_ENDPOINT) return undefined;
  return {
    source: 'environment',
    kafkaBrokers: KAFKA_BROKERS,
    cosEndpoint: COS_ENDPOINT,
    cosBucket: process.env.COS_BUCKET ?? 'orderflow',
    cosAccessKeyId: required('COS_ACCESS_KEY_ID'),
    cosSecretAccessKey: required('COS_SECRET_ACCESS_KEY'),
    databaseUrl: required('DATABASE_URL'),
    ...(process.env.LOCAL_KAFKA_SASL_BROKERS
      ? {
          sasl: {
            brokers: process.env.LOCAL_KAFKA_SASL_BROKERS,
            username: required('LOCAL_KAFKA_SASL_USERNAME'),
            password: required('LOCAL_KAFKA_SASL_PASSWORD'),
            caFile: required('LOCAL_KAFKA_SSL_CA_FILE'),
          },
        }
      : {}),
    stackScript: false,
  };
};

const required = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`Integration tests: ${name} must be set when KAFKA_BROKERS and COS_ENDPOINT are`);
  return value;
};

const dockerAvailable = (): boolean =>
  process.env.ORDERFLOW_NO_DOCKER !== '1' && spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

const fromTestcontainers = async (): Promise<StackEnv> => {
  // Loaded lazily: machines without Docker never need these modules.
  const { RedpandaContainer } = await import('@testcontainers/redpanda');
  const { MinioContainer } = await import('@testcontainers/minio');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const redpanda = await new RedpandaContainer('docker.redpanda.com/redpandadata/redpanda:v24.2.7').start();
  const minio = await new MinioContainer('minio/minio:RELEASE.2025-04-22T22-12-26Z')
    .withUsername('orderflow')
    .withPassword('orderflow-secret')
    .start();
  const postgres = await new PostgreSqlContainer('postgres:15')
    .withDatabase('orderflow')
    .withUsername('orderflow')
    .withPassword('orderflow-secret')
    .start();
  (globalThis as Record<string, unknown>).__ORDERFLOW_CONTAINERS__ = [redpanda, minio, postgres];
  return {
    source: 'testcontainers',
    kafkaBrokers: redpanda.getBootstrapServers(),
    cosEndpoint: minio.getConnectionUrl(),
    cosBucket: 'orderflow',
    cosAccessKeyId: 'orderflow',
    cosSecretAccessKey: 'orderflow-secret',
    databaseUrl: postgres.getConnectionUri(),
    createBucket: true,
    stackScript: false,
  };
};

const fromNativeStack = (): StackEnv => {
  const script = path.join(REPO_ROOT, 'scripts/stack/stack.sh');
  execFileSync('bash', [script, 'up'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  const stackDir = process.env.STACK_DIR ?? path.join(REPO_ROOT, '.local-stack');
  const get = readStackEnvFile(path.join(stackDir, 'env'));
  return {
    source: 'native-stack',
    kafkaBrokers: get('KAFKA_BROKERS'),
    cosEndpoint: get('COS_ENDPOINT'),
    cosBucket: get('COS_BUCKET'),
    cosAccessKeyId: get('COS_ACCESS_KEY_ID'),
    cosSecretAccessKey: get('COS_SECRET_ACCESS_KEY'),
    databaseUrl: get('DATABASE_URL'),
    sasl: {
      brokers: get('LOCAL_KAFKA_SASL_BROKERS'),
      username: get('LOCAL_KAFKA_SASL_USERNAME'),
      password: get('LOCAL_KAFKA_SASL_PASSWORD'),
      caFile: get('LOCAL_KAFKA_SSL_CA_FILE'),
    },
    stackScript: true,
    stackDir,
  };
};

/** host:port of a database URL, for the log line: the URL itself carries the password. */
const postgresHost = (url: string): string => {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || 5432}`;
  } catch {
    return '(DATABASE_URL is not a URL)';
  }
};
