import { EventEmitter } from 'node:events';
import { Pool } from 'pg';
import { migrate } from '../../../src/adapters/postgres/postgres-migrations';
import { PostgresConnectionPool } from '../../../src/adapters/postgres/postgres-connection';
import { runStages } from '../../../src/main/commands/run';
import { AppConfig, EMBEDDED_DEFAULTS } from '../../../src/main/config';
import { TOKENS } from '../../../src/main/di-tokens';
import { DEFAULT_LIFECYCLE_CONFIG } from '../../../src/main/lifecycle-config';
import { LoggerSpy } from '../../support/logger-spy';

// The real migrations need a server (tests/integration/postgres); here only what `run` asks of them.
jest.mock('../../../src/adapters/postgres/postgres-migrations', () => ({ migrate: jest.fn(async () => []) }));

const configWith = (schema: string | undefined): AppConfig => ({
  ...EMBEDDED_DEFAULTS,
  archive: 'memory',
  httpPort: 0,
  logLevel: 'silent',
  lifecycle: {
    ...DEFAULT_LIFECYCLE_CONFIG,
    postgres: { url: 'postgres://orderflow:secret@127.0.0.1:1/orderflow', ...(schema === undefined ? {} : { schema }) },
  },
});

describe('orderflow run prepares the database', () => {
  beforeEach(() => jest.mocked(migrate).mockClear());

  it.each([
    ['the configured schema, its record of migrations included', 'tenant_a', { schema: 'tenant_a' }],
    ['the default schema (public) when none is configured', undefined, {}],
  ])('migrates into %s', async (_, schema, options) => {
    const signals = new EventEmitter();
    const logger = new LoggerSpy();
    // A pool that never connects: nothing but the migration, which is mocked, would use it.
    const pool = { options: {} } as Pool;
    const exitCode = runStages(configWith(schema), ['fulfillment'], {
      signals: { on: (s, l) => signals.on(s, l), off: (s, l) => signals.off(s, l) },
      exit: () => undefined,
      overrides: (c) => {
        c.rebindSync(TOKENS.Logger).toConstantValue(logger);
        c.rebindSync(TOKENS.Postgres).toConstantValue({ pool } as PostgresConnectionPool);
      },
    });
    const deadline = Date.now() + 5_000;
    while (!logger.hasLogged(/^Serving/) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    signals.emit('SIGTERM', 'SIGTERM');
    await expect(exitCode).resolves.toBe(0);
    expect(jest.mocked(migrate).mock.calls.map(([calledWith, , given]) => [calledWith === pool, given ?? {}])).toEqual([[true, options]]);
  });
});
