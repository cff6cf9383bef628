/** A topic as a command needs it to exist before it consumes or publishes. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Default: the broker's default.replication.factor (3 on Event Streams, 1 on the local stack). */
  readonly replicationFactor?: number;
  /** The topic's max.message.bytes, when it must hold more than the broker's default (1 MiB + 12). */
  readonly maxMessageBytes?: number;
  /** retention.ms; absent: the broker's default. */
  readonly retentionMs?: number;
  /** cleanup.policy; absent: the broker's default (delete). */
  readonly cleanupPolicy?: 'delete' | 'compact';
}

export interface EnsureTopicsResult {
  readonly created: string[];
  readonly existing: string[];
}

/**
 * Creating the topics a command uses (`consume`, `run`): Kafka's admin client, or the in-memory
 * bus, which is its own broker. Hand-offs create no topics (publishTransactionally), so every
 * topic a stage writes must exist first.
 */
export interface TopicSetupPort {
  /** Creates the topics that do not exist yet; never alters existing ones. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<EnsureTopicsResult>;
  listTopics(): Promise<string[]>;
}
