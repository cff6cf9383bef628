import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import S3 from 'ibm-cos-sdk/clients/s3';
import { CosCredentials } from '../src/adapters/cos/cos-order-archive';
import { readStackEnvFile } from '../scripts/stack/stack-env-file';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Where the benchmark's Kafka and S3 server are, and which processes they are (to account their CPU). */
export interface BenchStack {
  /** Where the servers come from, as the report says it. */
  readonly source: string;
  readonly kafkaBrokers: readonly string[];
  readonly cosEndpoint: string;
  readonly cosCredentials: CosCredentials & { kind: 'hmac' };
  readonly pids: { readonly kafka?: number; readonly minio?: number };
  /** The native stack's directory (its env file, its data); undefined for servers from the environment. */
  readonly stackDir?: string;
}

/**
 * The bench's own native stack, apart from the one the integration tests use: its own ports, and
 * its state (MinIO's drive, Kafka's log, PostgreSQL's data) in tmpfs when the host has one. On a
 * disk, MinIO's synced writes bound the PUT rate, not the CPU: in one session, the bare PUT loop
 * (64 in flight) made 330–394 PUTs/s on the disk against 732–970 on tmpfs, with MinIO's CPU per
 * PUT no lower, so B3, B4 and B5 measured the virtual disk (adr/0020). BENCH_STACK_DIR moves it.
 */
export const benchStackEnv = () => ({
  STACK_DIR: process.env.BENCH_STACK_DIR ?? (existsSync('/dev/shm') ? '/dev/shm/orderflow-bench-stack' : path.join(REPO_ROOT, '.local-stack-bench')),
  KAFKA_PORT: '19292',
  KAFKA_CONTROLLER_PORT: '19293',
  KAFKA_SASL_PORT: '19294',
  MINIO_PORT: '19200',
  MINIO_CONSOLE_PORT: '19201',
  POSTGRES_PORT: '19532',
});

/**
 * The servers named by KAFKA_BROKERS and COS_ENDPOINT (with HMAC keys) when they are set, as the
 * integration tests do; otherwise the bench's native stack (benchStackEnv), started if it is not
 * running (`up` is idempotent, and installs Kafka and MinIO on a fresh clone). It stays up after the
 * run, as the tests' stack does: `STACK_DIR=/dev/shm/orderflow-bench-stack bash scripts/stack/stack.sh down`.
 */
export const ensureStack = (): BenchStack => {
  const { KAFKA_BROKERS, COS_ENDPOINT, COS_ACCESS_KEY_ID, COS_SECRET_ACCESS_KEY } = process.env;
  if (KAFKA_BROKERS && COS_ENDPOINT && COS_ACCESS_KEY_ID && COS_SECRET_ACCESS_KEY) {
    return {
      source: 'environment',
      kafkaBrokers: KAFKA_BROKERS.split(','),
      cosEndpoint: COS_ENDPOINT,
      cosCredentials: { kind: 'hmac', accessKeyId: COS_ACCESS_KEY_ID, secretAccessKey: COS_SECRET_ACCESS_KEY },
      pids: {},
    };
  }
  const env = benchStackEnv();
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts/stack/stack.sh'), 'up'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 20 * 60_000,
    env: { ...process.env, ...env },
  });
  const stackDir = env.STACK_DIR;
  const get = readStackEnvFile(path.join(stackDir, 'env'));
  return {
    source: stackDir.startsWith('/dev/shm/')
      ? `bench's own native stack (scripts/stack/stack.sh), its data in tmpfs (${stackDir}): MinIO's drive is memory, so the figures measure CPU, not the virtual disk`
      : `bench's own native stack (scripts/stack/stack.sh) in ${stackDir}`,
    kafkaBrokers: get('KAFKA_BROKERS').split(','),
    cosEndpoint: get('COS_ENDPOINT'),
    cosCredentials: { kind: 'hmac', accessKeyId: get('COS_ACCESS_KEY_ID'), secretAccessKey: get('COS_SECRET_ACCESS_KEY') },
    pids: { kafka: pidFrom(path.join(stackDir, 'kafka.pid')), minio: pidFrom(path.join(stackDir, 'minio.pid')) },
    stackDir,
  };
};

const pidFrom = (file: string): number | undefined => {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

const s3Of = (stack: BenchStack): S3 =>
  new S3({
    endpoint: stack.cosEndpoint,
    s3ForcePathStyle: true,
    region: 'us-east-1',
    signatureVersion: 'v4',
    accessKeyId: stack.cosCredentials.accessKeyId,
    secretAccessKey: stack.cosCredentials.secretAccessKey,
  });

/** Each run writes into a bucket of its own, so that no other suite's listing sees a benchmark's objects. */
export const createBucket = async (stack: BenchStack, bucket: string): Promise<void> => {
  await s3Of(stack).createBucket({ Bucket: bucket }).promise();
};

/**
 * A run leaves about 100,000 objects, which MinIO deletes at about 1,600 a second one by one.
 * MinIO's force-delete removes a bucket with its contents at once; other S3 servers refuse the
 * header, and then the objects go in batches of 1,000.
 */
export const deleteBucket = async (stack: BenchStack, bucket: string): Promise<void> => {
  const s3 = s3Of(stack);
  try {
    await s3
      .deleteBucket({ Bucket: bucket })
      .on('build', (request) => {
        request.httpRequest.headers['x-minio-force-delete'] = 'true';
      })
      .promise();
    return;
  } catch {
    // Not MinIO: empty it the portable way.
  }
  for (;;) {
    const page = await s3.listObjectsV2({ Bucket: bucket, MaxKeys: 1000 }).promise();
    const objects = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
    if (objects.length === 0) break;
    await s3.deleteObjects({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }).promise();
  }
  await s3.deleteBucket({ Bucket: bucket }).promise();
};
