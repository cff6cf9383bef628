import { createServer, Server } from 'node:net';
import {
  closePostgresPool,
  createPostgresPool,
  pingPostgres,
  PostgresAdapterError,
  PostgresConnectionPool,
} from '../../../src/adapters/postgres/postgres-connection';
import { describeLifecycleContract } from '../../contract/lifecycle.contract';
import { LoggerSpy } from '../../support/logger-spy';
import { eventually } from '../../support/integration-config';
import { readStackEnv } from '../../support/stack-env';

/** A port nothing listens on: bound, then released. */
const freePort = async (): Promise<number> => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
};

describe('the PostgreSQL connection against a real server', () => {
  const url = readStackEnv().databaseUrl;

  it('connects, answers and closes cleanly (twice is fine)', async () => {
    const pool = createPostgresPool({ url }, new LoggerSpy());
    await pingPostgres(pool, url);
    await closePostgresPool(pool);
    await closePostgresPool(pool);
    expect(pool.ended).toBe(true);
  });

  it('explains a wrong password by naming the user, without printing either password', async () => {
    const parsed = new URL(url);
    const realPassword = decodeURIComponent(parsed.password);
    parsed.password = 'not-the-password-x9';
    const wrong = parsed.toString();
    const pool = createPostgresPool({ url: wrong }, new LoggerSpy());
    try {
      const error = await pingPostgres(pool, wrong).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(new RegExp(`authentication failed for user ${decodeURIComponent(parsed.username)}`));
      expect(error?.message).not.toContain('not-the-password-x9');
      expect(error?.message).not.toContain(realPassword);
    } finally {
      await closePostgresPool(pool);
    }
  });

  it('explains a refused connection with the host and port', async () => {
    const parsed = new URL(url);
    parsed.port = String(await freePort());
    const pool = createPostgresPool({ url: parsed.toString() }, new LoggerSpy());
    try {
      await expect(pingPostgres(pool, parsed.toString())).rejects.toThrow(
        `PostgreSQL at 127.0.0.1:${parsed.port} refused the connection; is it running?`,
      );
    } finally {
      await closePostgresPool(pool);
    }
  });
});

describe('an idle connection the server drops', () => {
  it('is logged as a warning and replaced, not left to crash the process', async () => {
    const url = readStackEnv().databaseUrl;
    const logger = new LoggerSpy();
    const pool = createPostgresPool({ url, maxConnections: 1 }, logger);
    try {
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const admin = createPostgresPool({ url, maxConnections: 1 }, new LoggerSpy());
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await closePostgresPool(admin);
      await eventually(async () => logger.messages('warn').length > 0, () => 'a warning about the dropped connection');
      expect(logger.messages('warn')[0]).toMatch(/^PostgreSQL: an idle connection failed: /);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await closePostgresPool(pool);
    }
  });
});

describeLifecycleContract('PostgresConnectionPool', async () => {
  const database = new PostgresConnectionPool({ url: readStackEnv().databaseUrl, maxConnections: 2 }, new LoggerSpy());
  return { resource: database, use: async () => void (await database.pool.query('SELECT 1')) };
});

describe('PostgresConnectionPool', () => {
  it('fails the start on a wrong password, naming the user and neither password; not ready then either', async () => {
    const parsed = new URL(readStackEnv().databaseUrl);
    const realPassword = decodeURIComponent(parsed.password);
    parsed.password = 'not-the-password-y7';
    const database = new PostgresConnectionPool({ url: parsed.toString() }, new LoggerSpy());
    try {
      const error = await database.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PostgresAdapterError);
      expect(error).toMatchObject({ reason: 'authentication' });
      await expect(database.ready()).rejects.toMatchObject({ reason: 'authentication' });
      for (const secret of ['not-the-password-y7', realPassword]) expect((error as Error).message).not.toContain(secret);
    } finally {
      await database.close();
    }
  });

  it('ends the pool at close, and says it is closed afterwards without the password', async () => {
    const url = readStackEnv().databaseUrl;
    const database = new PostgresConnectionPool({ url }, new LoggerSpy());
    await database.start();
    await database.close();
    expect(database.pool.ended).toBe(true);
    const error = await database.ready().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^the PostgreSQL pool for .+@127\.0\.0\.1:\d+\/.+ is closed$/);
    expect(error?.message).not.toContain(decodeURIComponent(new URL(url).password));
  });
});
