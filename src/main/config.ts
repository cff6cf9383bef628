import type { CosClient, CosCredentials } from '../adapters/cos/cos-order-archive';
import type { SimulatedPaymentSettings } from '../adapters/payment/simulated-payment-gateway';
import type { PostgresSettings } from '../adapters/postgres/postgres-connection';
import type { SpendLimitSettings } from '../application/spend-limit';
import type { HeldEventBounds } from '../application/ports/order-view.port';
import { DEFAULT_BACKOFF, BackoffPolicy } from '../application/retry';
import { BatchRotationPolicy } from '../domain/batch-rotation';
import { DEFAULT_ARCHIVE_PREFIX } from '../domain/hive-key';

export type BusKind = 'memory' | 'kafka';
export type ArchiveKind = 'memory' | 'fs' | 'cos';
/** One object per order (the seed's layout), or one NDJSON object per partition per batch (adr/0011). */
export type SinkKind = 'per-order' | 'batched';
export type LogFormat = 'json' | 'pretty';

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  /** A PEM file with the CA that signed the brokers' certificates, for private CAs. */
  readonly caFile?: string;
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: string };
  /** Partitions of the topics `consume` creates when they are missing. */
  readonly topicPartitions: number;
  readonly createTopics: boolean;
  readonly compression: 'none' | 'gzip' | 'snappy';
  /**
   * Bytes fetched per partition per request (Kafka's max.partition.fetch.bytes). A backlog is
   * fetched and decoded this much at a time per partition, so it bounds the consumer's memory.
   * Absent: the Kafka adapter's default.
   */
  readonly maxPartitionFetchBytes?: number;
  /**
   * A fetch is answered once this many bytes are ready, or after fetchMaxWaitMs (Kafka's
   * fetch.min.bytes and fetch.max.wait.ms). Absent: the Kafka adapter's defaults.
   */
  readonly fetchMinBytes?: number;
  readonly fetchMaxWaitMs?: number;
  /** How often acked positions are committed; absent: the Kafka adapter's default (1 s). */
  readonly commitIntervalMs?: number;
  /**
   * How long the group waits for a silent member before handing its partitions to the others:
   * the pause a crashed consumer costs its partitions. Absent: the Kafka adapter's default (30 s).
   */
  readonly sessionTimeoutMs?: number;
}

export interface CosSettings {
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: CosCredentials;
  readonly forcePathStyle: boolean;
  readonly maxConcurrency: number;
  /** COS_CLIENT: who makes the S3 requests (adr/0021); `http` only with HMAC keys. */
  readonly client: CosClient;
}

/** Everything the composition root needs to choose and build adapters. */
export interface AppConfig {
  readonly bus: BusKind;
  readonly archive: ArchiveKind;
  readonly sink: SinkKind;
  /** Rotation of the batched sink; its objects go under `<archivePrefix>-batched/`. */
  readonly batch: BatchRotationPolicy;
  /** KAFKA_TOPIC_PREFIX, already applied to ordersTopic, dlqTopic and consumerGroup; the stages' topics and groups get it too. */
  readonly topicPrefix: string;
  readonly ordersTopic: string;
  readonly dlqTopic: string;
  readonly consumerGroup: string;
  readonly archivePrefix: string;
  /** Root directory of the filesystem archive. */
  readonly dataDir: string;
  readonly maxInFlight: number;
  /** Key and value bytes of delivered-but-unacked messages at most (one larger message still goes alone). */
  readonly maxInFlightBytes: number;
  readonly maxMessageBytes: number;
  readonly backoff: BackoffPolicy;
  readonly topK: number;
  readonly logLevel: string;
  /** `json` (one object per line, for collectors) or `pretty` (one readable line, for terminals). */
  readonly logFormat: LogFormat;
  /**
   * Where logs go. The service logs to stdout; commands whose stdout is a report (produce, check,
   * replay-dlq) log to stderr, so the report can be piped.
   */
  readonly logDestination: 'stdout' | 'stderr';
  /**
   * The Kafka client's own log lines (connection retries with stack traces) at debug level: for
   * commands that report a failure in their summary anyway, so they do not say it 100 times first.
   */
  readonly clientLogsAtDebug: boolean;
  /** Address the status server binds; `0.0.0.0` (every IPv4 interface) keeps it reachable from a pod's probes. */
  readonly httpHost: string;
  readonly httpPort: number;
  /** /topk shows customer ids only when asked; masked otherwise (personal data on an unauthenticated port). */
  readonly topKShowCustomers: boolean;
  /** How long a graceful shutdown may take before unfinished work is left for redelivery. */
  readonly shutdownDeadlineMs: number;
  /** Present when bus is 'kafka'. */
  readonly kafka?: KafkaSettings;
  /** Present when archive is 'cos'. */
  readonly cos?: CosSettings;
  /** `orderflow api`'s settings (ORDERFLOW_API_*); absent: DEFAULT_API_CONFIG. */
  readonly api?: ApiConfig;
  /** The lifecycle stages' stores and rules (DATABASE_URL…); absent: in memory, with the defaults. */
  readonly lifecycle?: LifecycleConfig;
}

/** The HTTP order API's own settings (adr/0019). */
export interface ApiConfig {
  /** ORDERFLOW_API_TOKENS: bearer tokens, any of which lets a request in; none: no authentication. Secrets. */
  readonly tokens: readonly string[];
  /** ORDERFLOW_API_SEND_TIMEOUT_MS: how long POST and PUT wait for the broker's acknowledgement before a 503. */
  readonly sendTimeoutMs: number;
  /** ORDERFLOW_API_MAX_WAITERS: GET ?wait= requests waiting at once, at most; the next gets a 503. */
  readonly maxWaiters: number;
}

export const DEFAULT_API_CONFIG: ApiConfig = { tokens: [], sendTimeoutMs: 5_000, maxWaiters: 1_000 };

/** The embedded default: in-memory bus, filesystem archive under ./data, no servers needed. */
export const EMBEDDED_DEFAULTS: AppConfig = {
  bus: 'memory',
  archive: 'fs',
  sink: 'per-order',
  // 16 MiB: 1,000 typical orders (about 250 bytes each) are far below it; 1,000 of 600 KB are cut into 28 objects.
  batch: { maxMessages: 1000, maxSpanMs: 60_000, maxBytes: 16 * 1024 * 1024 },
  topicPrefix: '',
  ordersTopic: 'orders.v1',
  dlqTopic: 'orders.v1.dlq',
  consumerGroup: 'order-consumer-group',
  archivePrefix: DEFAULT_ARCHIVE_PREFIX,
  dataDir: 'data',
  maxInFlight: 256,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxMessageBytes: 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
  topK: 10,
  logLevel: 'info',
  logFormat: 'json',
  logDestination: 'stdout',
  clientLogsAtDebug: false,
  httpHost: '0.0.0.0',
  httpPort: 8080,
  topKShowCustomers: false,
  shutdownDeadlineMs: 30_000,
};

/**
 * The settings of the lifecycle's side effects and state (stock, payments, the spend limit),
 * kept apart from the archive's in env-config.ts. Without DATABASE_URL the embedded in-memory
 * adapters are used.
 */
export interface LifecycleConfig {
  /** PostgreSQL for stock, payments and the spend limit's window; undefined: in memory. */
  readonly postgres?: PostgresSettings;
  readonly payment: SimulatedPaymentSettings;
  /** The validation stage's per-customer limit: ORDERFLOW_FRAUD_LIMIT in any 60 minutes of event time. */
  readonly spendLimit: SpendLimitSettings;
  /** JSON file of SKU → quantity that seeds SKUs the inventory does not know yet, on start. */
  readonly stockFile?: string;
  /** The order view's hold and sweep (ORDERFLOW_VIEW_HOLD_*); absent: the defaults. */
  readonly view?: OrderViewSettings;
}

export interface OrderViewSettings {
  /** ORDERFLOW_VIEW_HOLD_MAX_EVENTS and ORDERFLOW_VIEW_HOLD_MAX_AGE_MS. */
  readonly bounds: HeldEventBounds;
  /** ORDERFLOW_VIEW_HOLD_SWEEP_MS: how often held events past their bounds are dead-lettered. */
  readonly sweepMs: number;
}
