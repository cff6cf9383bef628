import { CompressionCodecs, CompressionTypes, Kafka, KafkaConfig, LogEntry, logCreator, logLevel, SASLOptions } from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import { LoggerPort } from '../../application/ports/logger.port';
import { correctKafkajsReadCommitted } from './kafka-aborted-transactions';

/**
 * Where and how to reach Kafka, in our words rather than kafkajs's. IBM Event Streams is
 * `ssl: true` plus `sasl: { mechanism: 'plain', username: 'token', password: <API key> }`.
 */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /**
   * `true`: TLS, trusting the system CAs. `{ ca }`: TLS trusting these PEM certificates as well
   * (a private or self-signed CA). Certificates and host names are always verified.
   */
  readonly ssl?: boolean | { readonly ca: string | Buffer };
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  /** ms to open a TCP (and TLS) connection; default 10 000 (a TLS handshake to a remote cluster needs more than kafkajs's 1 s). */
  readonly connectionTimeout?: number;
  /** ms to wait for a response; default 30 000. */
  readonly requestTimeout?: number;
  /** Attempts after the first for retriable failures (kafkajs's retrier); default 5. */
  readonly retries?: number;
}

/** How much of kafkajs's own logging reaches our logger. */
export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface CreateKafkaOptions {
  /**
   * Default 'warn': at 'info' kafkajs logs every pause and resume, which the subscription does
   * under backpressure. The adapters log what matters at info themselves: assignments, drains, replays.
   */
  readonly logLevel?: KafkaLogLevel;
}

const KAFKAJS_LEVEL: Record<KafkaLogLevel, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * A kafkajs client whose logs go to our logger (secrets scrubbed), which reads snappy batches
 * and whose read_committed consumers never see the records of aborted transactions
 * (kafka-aborted-transactions.ts). Without a logger kafkajs stays silent rather than print to the console.
 */
export const createKafka = (connection: KafkaConnection, logger?: LoggerPort, options: CreateKafkaOptions = {}): Kafka => {
  registerSnappyCodec();
  correctKafkajsReadCommitted();
  const config: KafkaConfig = {
    brokers: [...connection.brokers],
    clientId: connection.clientId,
    connectionTimeout: connection.connectionTimeout ?? 10_000,
    requestTimeout: connection.requestTimeout ?? 30_000,
    retry: { retries: connection.retries ?? 5 },
    logLevel: logger === undefined ? logLevel.NOTHING : KAFKAJS_LEVEL[options.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator(logger, secretsOf(connection)),
  };
  if (connection.ssl !== undefined && connection.ssl !== false) {
    config.ssl = connection.ssl === true ? true : { ca: [connection.ssl.ca], rejectUnauthorized: true };
  }
  // kafkajs types each mechanism as its own union member; ours merges them, same shape.
  if (connection.sasl !== undefined) config.sasl = { ...connection.sasl } as SASLOptions;
  return new Kafka(config);
};

/** The values that must never appear in a log line or an error message. */
export const secretsOf = (connection: KafkaConnection): string[] =>
  connection.sasl !== undefined && connection.sasl.password.length > 0 ? [connection.sasl.password] : [];

/**
 * kafkajs decodes snappy only with a codec registered globally; consumers need it as much as a
 * producer that compresses, since the seed's producers write snappy batches.
 */
export const registerSnappyCodec = (): void => {
  CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec;
};

const kafkaLogCreator =
  (logger: LoggerPort | undefined, secrets: readonly string[]): logCreator =>
  () =>
  ({ namespace, level, log }: LogEntry): void => {
    if (logger === undefined) return;
    const { message, timestamp: _timestamp, ...extra } = log;
    const fields = redactSecrets({ component: `kafkajs.${namespace}`, ...extra }, secrets) as Record<string, unknown>;
    const text = redactSecrets(message, secrets) as string;
    if (isRoutine(message, extra)) logger.debug(fields, text);
    else if (level === logLevel.ERROR) logger.error(fields, text);
    else if (level === logLevel.WARN) logger.warn(fields, text);
    else if (level === logLevel.INFO) logger.info(fields, text);
    else logger.debug(fields, text);
  };

/**
 * kafkajs lines that are routine for the transactional producers (KafkaTransactionalPublisher),
 * logged at debug rather than as errors and warnings an operator would chase:
 * - CONCURRENT_TRANSACTIONS, logged twice as an error on the first send of nearly every
 *   transaction that follows another: the coordinator is still writing the previous one's
 *   markers, and kafkajs retries (tulios/kafkajs#1315);
 * - the warning that bounded retries "may invalidate EoS guarantees": only the transactional
 *   producers bound them, and a transaction that runs out of retries is aborted whole.
 */
const isRoutine = (message: string, extra: Record<string, unknown>): boolean =>
  CONCURRENT_TRANSACTIONS.test(message) ||
  (typeof extra.error === 'string' && CONCURRENT_TRANSACTIONS.test(extra.error)) ||
  message.startsWith('Limiting retries for the idempotent producer');
const CONCURRENT_TRANSACTIONS = /another concurrent operation on the same transaction was ongoing/;

const SECRET_KEYS = /^(password|sasl|secret|apiKey|authorization)$/i;
const MAX_DEPTH = 4;

/**
 * Copies a log or error value with every secret replaced, credential-named fields dropped and
 * buffers reduced to their size (a SASL PLAIN request buffer holds the password in clear).
 */
export const redactSecrets = (value: unknown, secrets: readonly string[], depth = 0): unknown => {
  if (typeof value === 'string') return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), value);
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Error) return redactSecrets(`${value.name}: ${value.message}`, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, secrets, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_KEYS.test(key) ? '[redacted]' : redactSecrets(item, secrets, depth + 1)]),
  );
};
