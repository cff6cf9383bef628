import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { closePostgresPool, createPostgresPool, quoteIdentifier } from '../../src/adapters/postgres/postgres-connection';
import { migrate } from '../../src/adapters/postgres/postgres-migrations';
import { LoggerSpy } from './logger-spy';
import { readStackEnv } from './stack-env';

export interface PostgresSchema {
  readonly schema: string;
  readonly url: string;
  /** A pool working in the schema; available from beforeAll on. */
  readonly pool: Pool;
}

/**
 * Gives a test file its own migrated schema in the integration stack's database, dropped
 * afterwards: suites and reruns never see each other's rows. Call at the top of a describe.
 */
export const useMigratedSchema = (maxConnections = 10): PostgresSchema => {
  const schema = `it_${randomUUID().slice(0, 8)}`;
  const url = readStackEnv().databaseUrl;
  let pool: Pool | undefined;
  beforeAll(async () => {
    pool = createPostgresPool({ url, schema, maxConnections }, new LoggerSpy());
    await migrate(pool, new LoggerSpy(), { schema });
  });
  afterAll(async () => {
    if (pool === undefined) return;
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    await closePostgresPool(pool);
  });
  return {
    schema,
    url,
    get pool(): Pool {
      if (pool === undefined) throw new Error('useMigratedSchema: the pool exists from beforeAll on');
      return pool;
    },
  };
};
