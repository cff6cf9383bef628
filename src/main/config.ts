import { DEFAULT_BACKOFF, BackoffPolicy } from '../application/retry';
import { DEFAULT_ARCHIVE_PREFIX } from '../domain/hive-key';

export type BusKind = 'memory' | 'kafka';
export type ArchiveKind = 'memory' | 'fs' | 'cos';

/** Everything the composition root needs to choose and build adapters. */
export interface AppConfig {
  readonly bus: BusKind;
  readonly archive: ArchiveKind;
  readonly ordersTopic: string;
  readonly dlqTopic: string;
  readonly consumerGroup: string;
  readonly archivePrefix: string;
  /** Root directory of the filesystem archive. */
  readonly dataDir: string;
  readonly maxInFlight: number;
  readonly maxMessageBytes: number;
  readonly backoff: BackoffPolicy;
  readonly topK: number;
  readonly logLevel: string;
}

/** The embedded default: in-memory bus, filesystem archive under ./data, no servers needed. */
export const EMBEDDED_DEFAULTS: AppConfig = {
  bus: 'memory',
  archive: 'fs',
  ordersTopic: 'orders.v1',
  dlqTopic: 'orders.v1.dlq',
  consumerGroup: 'order-consumer-group',
  archivePrefix: DEFAULT_ARCHIVE_PREFIX,
  dataDir: 'data',
  maxInFlight: 256,
  maxMessageBytes: 1024 * 1024,
  backoff: DEFAULT_BACKOFF,
  topK: 10,
  logLevel: 'info',
};
