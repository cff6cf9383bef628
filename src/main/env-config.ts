import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import reporter from 'io-ts-reporters';
import { displayEndpoint } from '../adapters/cos/cos-errors';
import { COS_CLIENTS, defaultCosClient } from '../adapters/cos/s3-calls';
import { isValidPrefix } from '../domain/hive-key';
import { AppConfig, ArchiveKind, BusKind, CosSettings, DEFAULT_API_CONFIG, EMBEDDED_DEFAULTS, KafkaSettings } from './config';

/**
 * The service is configured from the environment (and a `.env` file beside it). Decoding
 * reports every missing or invalid variable at once, and never echoes the value of a secret.
 *
 * Several variables have aliases, so that the environments users already have work as they
 * are: the seed's `ES_*` names and the Code Engine binding's `EVENT_STREAMS_*` names.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** What a command needs and what it defaults to. */
export interface CommandProfile {
  readonly bus: BusKind;
  readonly archive: ArchiveKind;
}

const SECRET_VARIABLES = new Set([
  'KAFKA_SASL_PASSWORD',
  'ES_PASSWORD',
  'EVENT_STREAMS_PASSWORD',
  'COS_API_KEY',
  'COS_SECRET_ACCESS_KEY',
  'ORDERFLOW_API_TOKENS',
]);

const ALIASES: Readonly<Record<string, readonly string[]>> = {
  KAFKA_BROKERS: ['KAFKA_BROKERS', 'ES_BOOTSTRAP', 'EVENT_STREAMS_KAFKA_BROKERS_SASL'],
  KAFKA_SASL_USERNAME: ['KAFKA_SASL_USERNAME', 'ES_USERNAME', 'EVENT_STREAMS_USER'],
  KAFKA_SASL_PASSWORD: ['KAFKA_SASL_PASSWORD', 'ES_PASSWORD', 'EVENT_STREAMS_PASSWORD'],
  ORDERS_TOPIC: ['ORDERS_TOPIC', 'ES_TOPIC'],
};

/** Reads `.env` (if present) under the real environment: a variable set in the shell wins. */
export const environmentWithDotEnv = (env: Env = process.env, dotEnvPath = '.env'): Env => {
  if (!existsSync(dotEnvPath)) return env;
  return { ...parseEnv(readFileSync(dotEnvPath, 'utf8')), ...env };
};

// ---- io-ts codecs for single variables ----

export const fromString = <A>(name: string, parse: (s: string) => A | undefined): t.Type<A, string, unknown> =>
  new t.Type<A, string, unknown>(
    name,
    (u): u is A => u !== undefined,
    (u, context) => {
      if (typeof u !== 'string') return t.failure(u, context);
      const parsed = parse(u.trim());
      return parsed === undefined ? t.failure(u, context) : t.success(parsed);
    },
    String,
  );

const Int = (min: number, max: number) =>
  fromString(`an integer from ${min} to ${max}`, (s) => {
    const n = Number(s);
    return /^\d+$/.test(s) && n >= min && n <= max ? n : undefined;
  });

const Bool = fromString('true or false', (s) =>
  /^(true|1|yes|on)$/i.test(s) ? true : /^(false|0|no|off)$/i.test(s) ? false : undefined,
);

const OneOf = <A extends string>(values: readonly A[]) =>
  fromString(values.join(' | '), (s) => values.find((v) => v === s.toLowerCase()));

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
/** `host:port` as CSV or a JSON array (the Code Engine binding uses JSON). */
const Brokers = fromString('host:port list (CSV or JSON array)', (s) => {
  let list: unknown;
  try {
    list = s.startsWith('[') ? JSON.parse(s) : s.split(',');
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const brokers = list.map((b) => (typeof b === 'string' ? b.trim() : '')).filter((b) => b.length > 0);
  return brokers.length > 0 && brokers.every((b) => HOST_PORT.test(b)) ? brokers : undefined;
});

const Url = fromString('an http(s) URL', (s) => {
  try {
    const url = new URL(s.includes('://') ? s : `https://${s}`);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString().replace(/\/$/, '') : undefined;
  } catch {
    return undefined;
  }
});

const Name = fromString('a non-empty name of [A-Za-z0-9._-]', (s) => (/^[A-Za-z0-9._-]{1,249}$/.test(s) ? s : undefined));
const Prefix = fromString('path segments of [A-Za-z0-9._-] without leading or trailing "/"', (s) =>
  isValidPrefix(s) ? s : undefined,
);
const NonEmpty = fromString('a non-empty string', (s) => (s.length > 0 ? s : undefined));
/** Bearer tokens: long enough to be secrets, of the characters a header carries without quoting. */
const Tokens = fromString('comma-separated tokens of 16 or more characters of [A-Za-z0-9._~+/=-]', (s) => {
  const tokens = s.split(',').map((token) => token.trim());
  return tokens.length > 0 && tokens.every((token) => /^[A-Za-z0-9._~+/=-]{16,}$/.test(token)) ? tokens : undefined;
});

const Variables = t.partial({
  ORDERFLOW_BUS: OneOf(['memory', 'kafka'] as const),
  ORDERFLOW_ARCHIVE: OneOf(['memory', 'fs', 'cos'] as const),
  ORDERFLOW_SINK: OneOf(['per-order', 'batched'] as const),
  ORDERFLOW_BATCH_MAX_MESSAGES: Int(1, 100_000),
  ORDERFLOW_BATCH_MAX_SPAN_MS: Int(1, 86_400_000),
  ORDERFLOW_BATCH_MAX_BYTES: Int(1024, 1024 * 1024 * 1024),
  ORDERFLOW_BATCH_IDLE_FLUSH_MS: Int(100, 86_400_000),
  ORDERS_TOPIC: Name,
  DLQ_TOPIC: Name,
  KAFKA_TOPIC_PREFIX: fromString('up to 100 characters of [A-Za-z0-9._-]', (s) => (/^[A-Za-z0-9._-]{0,100}$/.test(s) ? s : undefined)),
  CONSUMER_GROUP: Name,
  COS_PREFIX: Prefix,
  DATA_DIR: NonEmpty,
  HTTP_PORT: Int(0, 65535),
  HTTP_HOST: fromString('an IP address or host name', (s) => (/^[A-Za-z0-9.:-]{1,253}$/.test(s) ? s : undefined)),
  ORDERFLOW_TOPK_SHOW_CUSTOMERS: Bool,
  LOG_FORMAT: OneOf(['json', 'pretty'] as const),
  LOG_LEVEL: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  ORDERFLOW_MAX_IN_FLIGHT: Int(1, 100_000),
  ORDERFLOW_MAX_IN_FLIGHT_BYTES: Int(1024, 4 * 1024 * 1024 * 1024),
  ORDERFLOW_MAX_MESSAGE_BYTES: Int(1, 100 * 1024 * 1024),
  ORDERFLOW_SHUTDOWN_DEADLINE_MS: Int(0, 600_000),
  ORDERFLOW_TOP_K: Int(1, 10_000),
  ORDERFLOW_API_TOKENS: Tokens,
  ORDERFLOW_API_SEND_TIMEOUT_MS: Int(1, 600_000),
  ORDERFLOW_API_MAX_WAITERS: Int(1, 1_000_000),
  KAFKA_BROKERS: Brokers,
  KAFKA_SASL_USERNAME: NonEmpty,
  KAFKA_SASL_PASSWORD: NonEmpty,
  KAFKA_SASL_MECHANISM: OneOf(['plain', 'scram-sha-256', 'scram-sha-512'] as const),
  KAFKA_SSL: Bool,
  KAFKA_SSL_CA_FILE: NonEmpty,
  KAFKA_CLIENT_ID: Name,
  KAFKA_TOPIC_PARTITIONS: Int(1, 10_000),
  KAFKA_CREATE_TOPICS: Bool,
  KAFKA_COMPRESSION: OneOf(['none', 'gzip', 'snappy'] as const),
  KAFKA_MAX_PARTITION_FETCH_BYTES: Int(1_024, 64 * 1024 * 1024),
  KAFKA_FETCH_MIN_BYTES: Int(1, 64 * 1024 * 1024),
  KAFKA_FETCH_MAX_WAIT_MS: Int(1, 60_000),
  KAFKA_COMMIT_INTERVAL_MS: Int(10, 600_000),
  // Kafka brokers accept 6 s to 30 min by default (group.min/max.session.timeout.ms).
  KAFKA_SESSION_TIMEOUT_MS: Int(6_000, 1_800_000),
  COS_ENDPOINT: Url,
  COS_BUCKET: fromString('a bucket name (3-63 of [a-z0-9.-])', (s) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) ? s : undefined)),
  COS_API_KEY: NonEmpty,
  COS_INSTANCE_CRN: NonEmpty,
  COS_IAM_ENDPOINT: Url,
  COS_ACCESS_KEY_ID: NonEmpty,
  COS_SECRET_ACCESS_KEY: NonEmpty,
  COS_FORCE_PATH_STYLE: Bool,
  COS_MAX_CONCURRENCY: Int(1, 1_024),
  COS_CLIENT: OneOf(COS_CLIENTS),
});
type Variables = t.TypeOf<typeof Variables>;

/** Every variable the configuration reads (aliases aside): .env.example and the README list each. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(Variables.props);

/** Resolves aliases to canonical names; an empty string counts as unset. */
const canonical = (env: Env): { values: Record<string, string>; problems: string[] } => {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const key of Object.keys(Variables.props)) {
    const names = ALIASES[key] ?? [key];
    const set = names.filter((name) => (env[name] ?? '').trim() !== '');
    const distinct = new Set(set.map((name) => env[name]));
    if (distinct.size > 1) problems.push(`${set.join(' and ')} are both set, to different values: set only one`);
    if (set[0] !== undefined) values[key] = env[set[0]]!;
  }
  return { values, problems };
};

/**
 * Decodes the configuration of one command. `profile` gives the command's adapter defaults:
 * `consume` defaults to Kafka and COS, `demo` to memory and the filesystem.
 */
export const loadConfig = (env: Env, profile: CommandProfile): AppConfig => {
  const { values, problems } = canonical(env);
  // One pass reports everything: a variable that is invalid (or carries credentials in its
  // address) is named once, the others are decoded anyway, so missing ones are reported too.
  const invalid = refuseUserInfo(values, problems);
  const decoded = Variables.decode(withoutKeys(values, invalid));
  if (isLeft(decoded)) {
    problems.push(...reporter.report(decoded).map((line) => redactLine(line)));
    for (const error of decoded.left) {
      const key = error.context[1]?.key;
      if (key !== undefined) invalid.add(key);
    }
  }
  const again = isLeft(decoded) ? Variables.decode(withoutKeys(values, invalid)) : decoded;
  // Every invalid key is left out now, so this cannot fail; the guard keeps the types honest.
  if (isLeft(again)) throw new ConfigError(problems);
  const v = again.right;
  const bus = v.ORDERFLOW_BUS ?? profile.bus;
  const archive = v.ORDERFLOW_ARCHIVE ?? profile.archive;
  // Every topic and group name gets the prefix, so that deployments and test runs can share a cluster.
  const topicPrefix = v.KAFKA_TOPIC_PREFIX ?? EMBEDDED_DEFAULTS.topicPrefix;
  const ordersTopic = topicPrefix + (v.ORDERS_TOPIC ?? EMBEDDED_DEFAULTS.ordersTopic);

  const kafka = bus === 'kafka' ? kafkaSettings(v, problems, invalid) : undefined;
  const cos = archive === 'cos' ? cosSettings(v, problems, invalid) : undefined;
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...EMBEDDED_DEFAULTS,
    bus,
    archive,
    sink: v.ORDERFLOW_SINK ?? EMBEDDED_DEFAULTS.sink,
    batch: {
      maxMessages: v.ORDERFLOW_BATCH_MAX_MESSAGES ?? EMBEDDED_DEFAULTS.batch.maxMessages,
      maxSpanMs: v.ORDERFLOW_BATCH_MAX_SPAN_MS ?? EMBEDDED_DEFAULTS.batch.maxSpanMs,
      maxBytes: v.ORDERFLOW_BATCH_MAX_BYTES ?? EMBEDDED_DEFAULTS.batch.maxBytes,
      // Off unless asked for: idle cuts trade strict exactly-once by name for bounded latency (adr/0011).
      ...(v.ORDERFLOW_BATCH_IDLE_FLUSH_MS === undefined ? {} : { idleFlushMs: v.ORDERFLOW_BATCH_IDLE_FLUSH_MS }),
    },
    ordersTopic,
    topicPrefix,
    dlqTopic: v.DLQ_TOPIC === undefined ? `${ordersTopic}.dlq` : topicPrefix + v.DLQ_TOPIC,
    consumerGroup: topicPrefix + (v.CONSUMER_GROUP ?? EMBEDDED_DEFAULTS.consumerGroup),
    archivePrefix: v.COS_PREFIX ?? EMBEDDED_DEFAULTS.archivePrefix,
    dataDir: v.DATA_DIR ?? EMBEDDED_DEFAULTS.dataDir,
    httpPort: v.HTTP_PORT ?? EMBEDDED_DEFAULTS.httpPort,
    httpHost: v.HTTP_HOST ?? EMBEDDED_DEFAULTS.httpHost,
    topKShowCustomers: v.ORDERFLOW_TOPK_SHOW_CUSTOMERS ?? EMBEDDED_DEFAULTS.topKShowCustomers,
    logLevel: v.LOG_LEVEL ?? EMBEDDED_DEFAULTS.logLevel,
    logFormat: v.LOG_FORMAT ?? EMBEDDED_DEFAULTS.logFormat,
    maxInFlight: v.ORDERFLOW_MAX_IN_FLIGHT ?? EMBEDDED_DEFAULTS.maxInFlight,
    maxInFlightBytes: v.ORDERFLOW_MAX_IN_FLIGHT_BYTES ?? EMBEDDED_DEFAULTS.maxInFlightBytes,
    maxMessageBytes: v.ORDERFLOW_MAX_MESSAGE_BYTES ?? EMBEDDED_DEFAULTS.maxMessageBytes,
    shutdownDeadlineMs: v.ORDERFLOW_SHUTDOWN_DEADLINE_MS ?? EMBEDDED_DEFAULTS.shutdownDeadlineMs,
    topK: v.ORDERFLOW_TOP_K ?? EMBEDDED_DEFAULTS.topK,
    api: {
      tokens: v.ORDERFLOW_API_TOKENS ?? DEFAULT_API_CONFIG.tokens,
      sendTimeoutMs: v.ORDERFLOW_API_SEND_TIMEOUT_MS ?? DEFAULT_API_CONFIG.sendTimeoutMs,
      maxWaiters: v.ORDERFLOW_API_MAX_WAITERS ?? DEFAULT_API_CONFIG.maxWaiters,
    },
    ...(kafka === undefined ? {} : { kafka }),
    ...(cos === undefined ? {} : { cos }),
  };
};

const kafkaSettings = (v: Variables, problems: string[], invalid: ReadonlySet<string>): KafkaSettings | undefined => {
  if (v.KAFKA_BROKERS === undefined && !invalid.has('KAFKA_BROKERS')) {
    problems.push('KAFKA_BROKERS is required for the Kafka bus (aliases: ES_BOOTSTRAP, EVENT_STREAMS_KAFKA_BROKERS_SASL)');
  }
  const username = v.KAFKA_SASL_USERNAME;
  const password = v.KAFKA_SASL_PASSWORD;
  if ((username === undefined) !== (password === undefined) && !invalid.has('KAFKA_SASL_USERNAME') && !invalid.has('KAFKA_SASL_PASSWORD')) {
    problems.push(
      username === undefined
        ? 'KAFKA_SASL_PASSWORD is set but KAFKA_SASL_USERNAME is not (for Event Streams the username is the literal "token")'
        : 'KAFKA_SASL_USERNAME is set but KAFKA_SASL_PASSWORD is not (for Event Streams it is the API key)',
    );
  }
  if (v.KAFKA_SSL_CA_FILE !== undefined && !existsSync(v.KAFKA_SSL_CA_FILE)) {
    problems.push(`KAFKA_SSL_CA_FILE points at ${v.KAFKA_SSL_CA_FILE}, which does not exist`);
  }
  if (v.KAFKA_BROKERS === undefined) return undefined;
  const sasl =
    username !== undefined && password !== undefined
      ? { mechanism: v.KAFKA_SASL_MECHANISM ?? 'plain', username, password }
      : undefined;
  return {
    brokers: v.KAFKA_BROKERS,
    clientId: v.KAFKA_CLIENT_ID ?? 'orderflow',
    // Event Streams only speaks SASL over TLS, so SASL turns TLS on unless told otherwise.
    ssl: v.KAFKA_SSL ?? sasl !== undefined,
    ...(v.KAFKA_SSL_CA_FILE === undefined ? {} : { caFile: v.KAFKA_SSL_CA_FILE }),
    ...(sasl === undefined ? {} : { sasl }),
    topicPartitions: v.KAFKA_TOPIC_PARTITIONS ?? 6,
    createTopics: v.KAFKA_CREATE_TOPICS ?? true,
    compression: v.KAFKA_COMPRESSION ?? 'snappy',
    // A quarter of kafkajs's 1 MiB: a backlog then costs a quarter of the memory to fetch and
    // decode, for about 10 % less catch-up speed (adr/0010).
    maxPartitionFetchBytes: v.KAFKA_MAX_PARTITION_FETCH_BYTES ?? 256 * 1024,
    ...(v.KAFKA_FETCH_MIN_BYTES === undefined ? {} : { fetchMinBytes: v.KAFKA_FETCH_MIN_BYTES }),
    ...(v.KAFKA_FETCH_MAX_WAIT_MS === undefined ? {} : { fetchMaxWaitMs: v.KAFKA_FETCH_MAX_WAIT_MS }),
    ...(v.KAFKA_COMMIT_INTERVAL_MS === undefined ? {} : { commitIntervalMs: v.KAFKA_COMMIT_INTERVAL_MS }),
    ...(v.KAFKA_SESSION_TIMEOUT_MS === undefined ? {} : { sessionTimeoutMs: v.KAFKA_SESSION_TIMEOUT_MS }),
  };
};

const cosSettings = (v: Variables, problems: string[], invalid: ReadonlySet<string>): CosSettings | undefined => {
  if (v.COS_ENDPOINT === undefined && !invalid.has('COS_ENDPOINT')) problems.push('COS_ENDPOINT is required for the COS archive');
  if (v.COS_BUCKET === undefined && !invalid.has('COS_BUCKET')) problems.push('COS_BUCKET is required for the COS archive');
  const iam = v.COS_API_KEY !== undefined || v.COS_INSTANCE_CRN !== undefined;
  const hmac = v.COS_ACCESS_KEY_ID !== undefined || v.COS_SECRET_ACCESS_KEY !== undefined;
  if (iam && hmac) {
    problems.push('Set either IAM credentials (COS_API_KEY, COS_INSTANCE_CRN) or HMAC credentials (COS_ACCESS_KEY_ID, COS_SECRET_ACCESS_KEY), not both');
  } else if (!iam && !hmac) {
    problems.push('COS credentials are missing: set COS_API_KEY and COS_INSTANCE_CRN (IAM), or COS_ACCESS_KEY_ID and COS_SECRET_ACCESS_KEY (HMAC)');
  } else if (iam && (v.COS_API_KEY === undefined || v.COS_INSTANCE_CRN === undefined)) {
    problems.push(`${v.COS_API_KEY === undefined ? 'COS_API_KEY' : 'COS_INSTANCE_CRN'} is required with IAM credentials`);
  } else if (hmac && (v.COS_ACCESS_KEY_ID === undefined || v.COS_SECRET_ACCESS_KEY === undefined)) {
    problems.push(`${v.COS_ACCESS_KEY_ID === undefined ? 'COS_ACCESS_KEY_ID' : 'COS_SECRET_ACCESS_KEY'} is required with HMAC credentials`);
  }
  if (v.COS_ENDPOINT === undefined || v.COS_BUCKET === undefined) return undefined;
  const credentials =
    v.COS_API_KEY !== undefined && v.COS_INSTANCE_CRN !== undefined
      ? {
          kind: 'iam' as const,
          apiKey: v.COS_API_KEY,
          serviceInstanceId: v.COS_INSTANCE_CRN,
          ...(v.COS_IAM_ENDPOINT === undefined ? {} : { authEndpoint: v.COS_IAM_ENDPOINT }),
        }
      : v.COS_ACCESS_KEY_ID !== undefined && v.COS_SECRET_ACCESS_KEY !== undefined
        ? { kind: 'hmac' as const, accessKeyId: v.COS_ACCESS_KEY_ID, secretAccessKey: v.COS_SECRET_ACCESS_KEY }
        : undefined;
  if (credentials === undefined) return undefined;
  if (v.COS_CLIENT === 'http' && credentials.kind === 'iam') {
    problems.push('COS_CLIENT=http signs with HMAC keys (COS_ACCESS_KEY_ID, COS_SECRET_ACCESS_KEY); IAM API keys need COS_CLIENT=ibm-cos-sdk (or COS_CLIENT unset)');
    return undefined;
  }
  return {
    endpoint: v.COS_ENDPOINT,
    bucket: v.COS_BUCKET,
    credentials,
    // The lighter client where it can sign; only ibm-cos-sdk trades IAM API keys for tokens (adr/0021).
    client: v.COS_CLIENT ?? defaultCosClient(credentials),
    // MinIO needs path-style addressing, and IBM COS accepts it too; virtual-host style is opt-in.
    forcePathStyle: v.COS_FORCE_PATH_STYLE ?? true,
    maxConcurrency: v.COS_MAX_CONCURRENCY ?? 64,
  };
};

/** Variables that hold addresses: credentials have variables of their own, never a place in these. */
const ADDRESS_VARIABLES = ['KAFKA_BROKERS', 'COS_ENDPOINT', 'COS_IAM_ENDPOINT'] as const;

/**
 * `https://key:secret@host` would put a secret where logs, `check` and error messages print
 * addresses: refused, naming the variable and never its value. Returns the refused keys.
 */
const refuseUserInfo = (values: Readonly<Record<string, string>>, problems: string[]): Set<string> => {
  const refused = new Set<string>();
  for (const key of ADDRESS_VARIABLES) {
    const value = values[key];
    if (value === undefined || !hasUserInfo(value)) continue;
    refused.add(key);
    problems.push(
      `${key} must not contain user info ("user:password@" before the host; value hidden): ` +
        'give credentials in their own variables (KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD, COS_ACCESS_KEY_ID/COS_SECRET_ACCESS_KEY or COS_API_KEY)',
    );
  }
  return refused;
};

/** An `@` in the authority of any address in the value (a URL, `host:port`, or a list of either). */
const hasUserInfo = (value: string): boolean =>
  value
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(',')
    .some((address) => {
      const authority = address.trim().replace(/^"|"$/g, '').replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '').split(/[/?#]/, 1)[0] ?? '';
      return authority.includes('@');
    });

const withoutKeys = (values: Readonly<Record<string, string>>, keys: ReadonlySet<string>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).filter(([key]) => !keys.has(key)));

/** io-ts reports quote the offending value; for a secret variable only the name may appear. */
const redactLine = (line: string): string => {
  const variable = /at ([A-Z0-9_]+) but/.exec(line)?.[1];
  const expected = line.replace(/^Expecting (.*) at .*$/s, '$1');
  if (variable !== undefined && SECRET_VARIABLES.has(variable)) return `${variable} is invalid: expected ${expected} (value hidden)`;
  return variable === undefined ? line : `${variable} is invalid: expected ${expected}, got ${line.replace(/^.* but instead got: /s, '')}`;
};

/** A one-line description for the startup log, with every secret left out. */
export const describeConfig = (config: AppConfig): Record<string, unknown> => ({
  bus: config.bus,
  archive: config.archive,
  sink: config.sink,
  ...(config.sink === 'batched' ? { batch: config.batch } : {}),
  ordersTopic: config.ordersTopic,
  dlqTopic: config.dlqTopic,
  ...(config.topicPrefix === '' ? {} : { topicPrefix: config.topicPrefix }),
  consumerGroup: config.consumerGroup,
  archivePrefix: config.archivePrefix,
  maxInFlight: config.maxInFlight,
  maxInFlightBytes: config.maxInFlightBytes,
  ...(config.kafka === undefined
    ? {}
    : {
        kafka: {
          brokers: config.kafka.brokers,
          ssl: config.kafka.ssl,
          sasl: config.kafka.sasl === undefined ? 'off' : `${config.kafka.sasl.mechanism} as ${config.kafka.sasl.username}`,
          compression: config.kafka.compression,
        },
      }),
  ...(config.cos === undefined
    ? {}
    : { cos: { endpoint: displayEndpoint(config.cos.endpoint), bucket: config.cos.bucket, auth: config.cos.credentials.kind, client: config.cos.client } }),
});
