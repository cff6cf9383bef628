import { inspect } from 'node:util';
import { describeDatabaseUrl, explainPostgresError } from '../../../src/adapters/postgres/postgres-connection';

const PASSWORD = 's3cr3t-Pa55word';
const URL = `postgresql://orderflow:${PASSWORD}@db.example.com:6432/orders`;

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('explainPostgresError', () => {
  it('says a refused connection means the server is not running there', () => {
    const error = explainPostgresError(pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6432'), 'connecting', URL);
    expect(error.reason).toBe('unreachable');
    expect(error.message).toBe(
      'PostgreSQL: connecting failed: PostgreSQL at db.example.com:6432 refused the connection; is it running? (connect ECONNREFUSED 10.0.0.1:6432)',
    );
  });

  it('names the user whose password was refused, and never the password', () => {
    const error = explainPostgresError(pgError('28P01', 'password authentication failed for user "orderflow"'), 'connecting', URL);
    expect(error.reason).toBe('authentication');
    expect(error.message).toContain('authentication failed for user orderflow');
  });

  it('redacts the password wherever it shows, in the message and in the cause', () => {
    const error = explainPostgresError(new Error(`invalid connection string ${URL}`), 'connecting', URL);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).toContain('[redacted]');
    expect(inspect(error, { depth: 8 })).not.toContain(PASSWORD);
  });

  it('redacts a percent-encoded password both as written and as decoded', () => {
    const url = 'postgresql://orderflow:p%40ss%2Fword@localhost:5432/orderflow';
    const error = explainPostgresError(new Error(`bad url ${url} (password p@ss/word)`), 'connecting', url);
    expect(error.message).not.toMatch(/p%40ss%2Fword|p@ss\/word/);
  });

  it('keeps an error without the password as its cause', () => {
    const original = pgError('3D000', 'database "orders" does not exist');
    const error = explainPostgresError(original, 'connecting', URL);
    expect(error.reason).toBe('no-database');
    expect(error.message).toContain('has no database orders');
    expect(error.cause).toBe(original);
  });

  it('classifies name resolution, shutdowns and timeouts', () => {
    expect(explainPostgresError(pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db.example.com'), 'x', URL).reason).toBe('dns');
    expect(explainPostgresError(pgError('57P01', 'terminating connection due to administrator command'), 'x', URL).reason).toBe(
      'unavailable',
    );
    expect(explainPostgresError(new Error('timeout expired'), 'x', URL).reason).toBe('timeout');
  });
});

describe('describeDatabaseUrl', () => {
  it('shows user, host, port and database, never the password', () => {
    expect(describeDatabaseUrl(URL)).toBe('orderflow@db.example.com:6432/orders');
    expect(describeDatabaseUrl('postgres://u:p%40ss@localhost/db')).toBe('u@localhost:5432/db');
  });
});
