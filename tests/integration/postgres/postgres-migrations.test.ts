import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import type * as NodePgMigrate from 'node-pg-migrate/dist/bundle/index';
import { closePostgresPool, createPostgresPool, quoteIdentifier } from '../../../src/adapters/postgres/postgres-connection';
import { migrate, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../../src/adapters/postgres/postgres-migrations';
import { LoggerSpy } from '../../support/logger-spy';
import { readStackEnv, REPO_ROOT } from '../../support/stack-env';

const run = promisify(execFile);
const EXPECTED_TABLES = ['api_idempotency_records', 'api_order_claims', 'order_view', 'order_view_held', 'payments', 'refunds', 'reservations', 'spend_judgements', 'stock'];
const MIGRATIONS = ['1764547200000_stock-reservations-payments', '1764633600000_spend-judgements', '1764720000000_order-view', '1764806400000_api-requests'];

describe('migrate (node-pg-migrate, SQL files)', () => {
  const url = readStackEnv().databaseUrl;
  const schemas: string[] = [];
  const pools: Pool[] = [];
  const freshSchema = (): string => {
    const schema = `it_mig_${randomUUID().slice(0, 8)}`;
    schemas.push(schema);
    return schema;
  };
  const poolFor = (schema: string): Pool => {
    const pool = createPostgresPool({ url, schema, maxConnections: 2 }, new LoggerSpy());
    pools.push(pool);
    return pool;
  };
  const tablesIn = async (pool: Pool, schema: string): Promise<string[]> =>
    (
      await pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> $2 ORDER BY table_name`,
        [schema, MIGRATIONS_TABLE],
      )
    ).rows.map((row) => row.table_name);

  afterAll(async () => {
    const admin = new Pool({ connectionString: url, max: 1 });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
    await admin.end();
    await Promise.all(pools.map(closePostgresPool));
  });

  it('applies every migration to an empty schema, then has nothing left to apply', async () => {
    const schema = freshSchema();
    const pool = poolFor(schema);
    const logger = new LoggerSpy();
    expect(await migrate(pool, logger, { schema })).toEqual(MIGRATIONS);
    expect(await tablesIn(pool, schema)).toEqual(EXPECTED_TABLES);
    expect(await migrate(pool, logger, { schema })).toEqual([]);
    expect(logger.messages('info')).toEqual(['database migrated']);
  });

  it('lets five processes starting at once migrate safely: one applies, the others wait and find it done', async () => {
    const schema = freshSchema();
    // One pool per "process": each holds its own connections, as separate processes would.
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(poolFor(schema), new LoggerSpy(), { schema })));
    expect(results.flat()).toEqual(MIGRATIONS);
    const pool = poolFor(schema);
    expect(await tablesIn(pool, schema)).toEqual(EXPECTED_TABLES);
    const applied = await pool.query(`SELECT name FROM ${quoteIdentifier(schema)}.${MIGRATIONS_TABLE}`);
    expect(applied.rowCount).toBe(MIGRATIONS.length);
  });

  it('upgrades a database at the first version to the newest, keeping its rows', async () => {
    const schema = freshSchema();
    const pool = poolFor(schema);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runner } = require('node-pg-migrate') as typeof NodePgMigrate;
    const client = await pool.connect();
    try {
      const quiet = { debug() {}, info() {}, warn() {}, error() {} };
      await runner({ dbClient: client, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'up', count: 1, schema, createSchema: true, logger: quiet });
    } finally {
      client.release(true);
    }
    await pool.query(`INSERT INTO stock (sku, available) VALUES ('kept', 7)`);
    expect(await migrate(pool, new LoggerSpy(), { schema })).toEqual(MIGRATIONS.slice(1));
    expect(await tablesIn(pool, schema)).toEqual(EXPECTED_TABLES);
    expect((await pool.query(`SELECT available FROM stock WHERE sku = 'kept'`)).rows).toEqual([{ available: 7 }]);
  });

  it('returns its connection destroyed, so no pooled connection keeps the search_path or the lock it used', async () => {
    const schema = freshSchema();
    const pool = poolFor(schema);
    await migrate(pool, new LoggerSpy(), { schema });
    expect(pool.totalCount).toBe(0);
  });

  it('runs from the build output: `npm run build` ships the SQL files and dist code finds them', async () => {
    const schema = freshSchema();
    await run('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, timeout: 120_000 });
    // A plain Node process, outside jest: the way `orderflow` runs, node-pg-migrate's ES module included.
    const script = `
      const { createPostgresPool, closePostgresPool } = require('./dist/adapters/postgres/postgres-connection');
      const { migrate } = require('./dist/adapters/postgres/postgres-migrations');
      const quiet = { debug() {}, info() {}, warn() {}, error() {} };
      const pool = createPostgresPool({ url: process.env.DATABASE_URL, schema: process.env.SCHEMA }, quiet);
      migrate(pool, quiet, { schema: process.env.SCHEMA })
        .then((names) => { console.log(JSON.stringify(names)); return closePostgresPool(pool); })
        .catch((error) => { console.error(error.message); process.exit(1); });`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: url, SCHEMA: schema },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toEqual(MIGRATIONS);
    for (const name of MIGRATIONS) expect(existsSync(path.join(REPO_ROOT, `dist/adapters/postgres/migrations/${name}.sql`))).toBe(true);
  });
});
