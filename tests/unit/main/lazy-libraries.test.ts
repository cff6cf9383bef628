import { PassThrough } from 'node:stream';
import type { CosOrderArchive as CosOrderArchiveClass } from '../../../src/adapters/cos/cos-order-archive';
import type * as PinoLoggerModule from '../../../src/adapters/pino/pino-logger';
import type * as PostgresConnectionModule from '../../../src/adapters/postgres/postgres-connection';
import type * as ConfigModule from '../../../src/main/config';
import type * as ContainerModule from '../../../src/main/container';
import type * as TokensModule from '../../../src/main/di-tokens';

/**
 * The libraries that only some configurations use are loaded by the adapter that uses them, when
 * it is made, not by the composition root's imports (adr/0023): a per-order archive on the
 * signed-HTTP client never loads ibm-cos-sdk, fastify, pg or pino-pretty, which cost about 12 MB of
 * RSS and 0.3 s of start-up CPU together.
 */
const OPTIONAL_LIBRARIES = ['ibm-cos-sdk/clients/s3', 'fastify', '@fastify/swagger', '@fastify/swagger-ui', 'pg', 'pino-pretty'] as const;

let loaded: Set<string>;

/** A fresh module registry in which each optional library notes when it is first required. */
const freshModules = (): void => {
  loaded = new Set();
  jest.resetModules();
  for (const name of OPTIONAL_LIBRARIES) {
    jest.doMock(name, () => {
      loaded.add(name);
      return jest.requireActual(name);
    });
  }
};

const load = <T>(path: string): T => require(path) as T;

const hmac = { kind: 'hmac', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' } as const;

beforeEach(freshModules);
afterAll(() => jest.resetModules());

describe('libraries that only some configurations use', () => {
  it('are not loaded by the composition root for the per-order archive on Kafka and COS with HMAC keys', () => {
    const { buildContainer } = load<typeof ContainerModule>('../../../src/main/container');
    const { EMBEDDED_DEFAULTS } = load<typeof ConfigModule>('../../../src/main/config');
    const { TOKENS } = load<typeof TokensModule>('../../../src/main/di-tokens');
    const container = buildContainer({
      ...EMBEDDED_DEFAULTS,
      bus: 'kafka',
      kafka: { brokers: ['127.0.0.1:1'], clientId: 'lazy-test', ssl: false, topicPartitions: 6, createTopics: false, compression: 'snappy' },
      archive: 'cos',
      cos: { endpoint: 'http://127.0.0.1:1', bucket: 'orders', credentials: hmac, forcePathStyle: true, maxConcurrency: 64, client: 'http' },
      logLevel: 'silent',
    });
    container.get(TOKENS.Logger);
    container.get(TOKENS.Archive);
    container.get(TOKENS.ArchivePipeline);

    expect([...loaded]).toEqual([]);
  });

  it('are loaded by the adapter that uses them, when it is made', async () => {
    const { CosOrderArchive } = load<{ CosOrderArchive: typeof CosOrderArchiveClass }>('../../../src/adapters/cos/cos-order-archive');
    const { logDestination } = load<typeof PinoLoggerModule>('../../../src/adapters/pino/pino-logger');
    const { createPostgresPool } = load<typeof PostgresConnectionModule>('../../../src/adapters/postgres/postgres-connection');
    expect([...loaded]).toEqual([]);

    await new CosOrderArchive({ endpoint: 'http://127.0.0.1:1', bucket: 'orders', credentials: hmac, client: 'ibm-cos-sdk' }).close();
    logDestination({ format: 'pretty', fd: 1 }, new PassThrough());
    const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    await createPostgresPool({ url: 'postgres://user:pw@127.0.0.1:1/db' }, silent).end();
    const { anOrderApi } = load<typeof import('../../support/order-api')>('../../support/order-api');
    await (await anOrderApi()).api.close();

    expect([...loaded].sort()).toEqual([...OPTIONAL_LIBRARIES].sort());
  });
});
