import type { Pool } from 'pg';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';

/** Where the database is and how many connections one process may hold. */
export interface PostgresSettings {
  /** `postgres://user:password@host:port/database` (validated by the configuration). */
  readonly url: string;
  /**
   * Connections per process. Every stage's side effect is one short transaction, so a handful
   * serves hundreds of effects a second; a 100-connection server then fits ten processes.
   */
  readonly maxConnections?: number;
  /** A schema to work in instead of `public` (the integration suites get one each). */
  readonly schema?: string;
}

export const DEFAULT_MAX_CONNECTIONS = 8;

export type PostgresFailureReason = 'unreachable' | 'dns' | 'authentication' | 'no-database' | 'unavailable' | 'timeout' | 'other';

/** A PostgreSQL failure explained for an operator. Neither the message nor the cause holds the password. */
export class PostgresAdapterError extends Error {
  override readonly name = 'PostgresAdapterError';

  constructor(
    readonly reason: PostgresFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface UrlParts {
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly database: string;
  /** As decoded, and as written in the URL (percent-encoded): either may show in a message. */
  readonly passwords: readonly string[];
}

const partsOf = (url: string): UrlParts => {
  try {
    const parsed = new URL(url);
    return {
      host: parsed.hostname,
      port: parsed.port || '5432',
      user: decodeURIComponent(parsed.username),
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username),
      passwords: [...new Set([decodeURIComponent(parsed.password), parsed.password])].filter((p) => p.length > 0),
    };
  } catch {
    return { host: '(unparseable DATABASE_URL)', port: '?', user: '?', database: '?', passwords: [] };
  }
};

/** `user@host:port/database`: the URL as logs and errors may show it, without its password. */
export const describeDatabaseUrl = (url: string): string => {
  const { host, port, user, database } = partsOf(url);
  return `${user}@${host}:${port}/${database}`;
};

/** SQLSTATEs a connection attempt can end with (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
const AUTHENTICATION = new Set(['28P01', '28000']);
const STARTING_OR_STOPPING = new Set(['57P01', '57P02', '57P03', '53300']);

/** Explains an error thrown while `action` (e.g. "connecting") against the database at `url`. */
export const explainPostgresError = (error: unknown, action: string, url: string): PostgresAdapterError => {
  if (error instanceof PostgresAdapterError) return error;
  const { host, port, user, database, passwords } = partsOf(url);
  const redact = (text: string): string => passwords.reduce((redacted, secret) => redacted.split(secret).join('[redacted]'), text);
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const raw = typeof message === 'string' ? message : String(error);
  const detail = redact(raw);
  const at = `PostgreSQL at ${host}:${port}`;
  const [reason, explanation]: [PostgresFailureReason, string] =
    code === 'ECONNREFUSED'
      ? ['unreachable', `${at} refused the connection; is it running?`]
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? ['dns', `the host ${host} could not be resolved; check DATABASE_URL`]
        : typeof code === 'string' && AUTHENTICATION.has(code)
          ? ['authentication', `authentication failed for user ${user}; check the password in DATABASE_URL`]
          : code === '3D000'
            ? ['no-database', `${at} has no database ${database}; create it or fix DATABASE_URL`]
            : typeof code === 'string' && STARTING_OR_STOPPING.has(code)
              ? ['unavailable', `${at} is starting up, shutting down or full; retry`]
              : code === 'ECONNRESET' || code === 'EPIPE' || /Connection terminated/i.test(detail)
                ? ['unavailable', `${at} closed the connection`]
                : /timeout/i.test(detail)
                  ? ['timeout', `${at} did not answer in time`]
                  : ['other', `unexpected error from ${at}`];
  // The original error stays as the cause unless the password shows in it (pg's errors never
  // carry it, but a connection-string parser's message might).
  const cause = detail === raw ? error : new Error(detail);
  return new PostgresAdapterError(reason, `PostgreSQL: ${action} failed: ${explanation} (${detail})`, { cause });
};

/** pg, loaded on first use rather than at import: a process without DATABASE_URL never loads it (adr/0023). */
export const loadPg = (): typeof import('pg') => require('pg') as typeof import('pg');

/**
 * A pool for one process. An idle connection the server drops (a restart, a failover) makes
 * pg emit `error` on the pool, which would crash the process unheard: it is logged, explained,
 * and the pool opens a new connection on the next query.
 */
export const createPostgresPool = (settings: PostgresSettings, logger: LoggerPort): Pool => {
  const pool = new (loadPg().Pool)({
    connectionString: settings.url,
    max: settings.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    // A database that does not answer fails the query (the caller retries) instead of queueing forever.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'orderflow',
    ...(settings.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(settings.schema)}` }),
  });
  pool.on('error', (error) => {
    logger.warn({ database: describeDatabaseUrl(settings.url) }, explainPostgresError(error, 'an idle connection', settings.url).message);
  });
  return pool;
};

/** Checks that the database answers, with an explained error when it does not. */
export const pingPostgres = async (pool: Pool, url: string): Promise<void> => {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw explainPostgresError(error, 'connecting', url);
  }
};

/** Ends every connection once the queries in flight are done; safe to call twice. */
export const closePostgresPool = async (pool: Pool): Promise<void> => {
  if (pool.ended) return;
  await pool.end();
};

/**
 * The owner of a process's pool, and so of its lifecycle: the adapters that query (PostgresInventory,
 * PostgresPaymentLedger, migrate) are handed `pool` and never end it. A pool connects as queries need
 * connections; start() makes the first one, so a wrong URL or password fails the start, explained.
 * Once closed, it stays closed.
 */
export class PostgresConnectionPool implements LifecyclePort {
  readonly pool: Pool;
  private ending: Promise<void> | undefined;

  constructor(
    private readonly settings: PostgresSettings,
    logger: LoggerPort,
  ) {
    this.pool = createPostgresPool(settings, logger);
  }

  start(): Promise<void> {
    return this.ready();
  }

  /** The database answers a query. */
  async ready(): Promise<void> {
    if (this.ending !== undefined) throw new Error(`the PostgreSQL pool for ${describeDatabaseUrl(this.settings.url)} is closed`);
    await pingPostgres(this.pool, this.settings.url);
  }

  /** Ends every connection once the queries in flight are done; a second call waits for the first (pg refuses a second end). */
  close(): Promise<void> {
    this.ending ??= closePostgresPool(this.pool);
    return this.ending;
  }
}

export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
