import * as path from 'node:path';
import type { Pool } from 'pg';
import type * as NodePgMigrate from 'node-pg-migrate/dist/bundle/index';
import { LoggerPort } from '../../application/ports/logger.port';
import { explainPostgresError } from './postgres-connection';

/**
 * The versioned SQL migrations (`<timestamp>_<name>.sql`, node-pg-migrate's format: an
 * `-- Up Migration` and a `-- Down Migration` part). `npm run build` copies them next to the
 * compiled code, so this path holds from `src/` (tests) and from `dist/` alike.
 */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** The table node-pg-migrate records applied migrations in. */
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  /** Apply into this schema (created if missing) instead of `public`; the tests use one each. */
  readonly schema?: string;
}

/**
 * Brings the database up to the newest migration; resolves to the names of those it applied
 * (none when it was current). Safe for several processes starting at once: node-pg-migrate
 * holds a session advisory lock for the whole run, and here a process waits for that lock
 * instead of failing (node-pg-migrate's default), then finds the work done. All pending
 * migrations apply in one transaction, so a crash leaves the previous version, not half of one.
 */
export const migrate = async (pool: Pool, logger: LoggerPort, options: MigrateOptions = {}): Promise<string[]> => {
  // node-pg-migrate 9 is an ES module, which Node >= 20.19 loads with require(); loaded here,
  // not at the top, so that code which never migrates never pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runner } = require('node-pg-migrate') as typeof NodePgMigrate;
  const client = await pool.connect().catch((error: unknown) => {
    throw explainPostgresError(error, 'connecting to migrate', pool.options.connectionString ?? '');
  });
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      count: Infinity,
      singleTransaction: true,
      checkOrder: true,
      advisoryLockMode: 'wait',
      ...(options.schema === undefined ? {} : { schema: options.schema, createSchema: true }),
      logger: {
        debug: (message: string) => logger.debug({}, `migrations: ${message}`),
        info: (message: string) => logger.debug({}, `migrations: ${message}`),
        warn: (message: string) => logger.warn({}, `migrations: ${message}`),
        error: (message: string) => logger.error({}, `migrations: ${message}`),
      },
    });
    const names = applied.map((migration) => migration.name);
    if (names.length > 0) logger.info({ migrations: names }, 'database migrated');
    return names;
  } catch (error) {
    throw explainPostgresError(error, 'migrating', pool.options.connectionString ?? '');
  } finally {
    // Destroyed, not returned to the pool: the run may leave session state behind (the
    // search_path it set, or its advisory lock should the unlock have failed), which the next
    // borrower must never inherit.
    client.release(true);
  }
};
