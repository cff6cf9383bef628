import { Admin, ConfigResourceTypes, Kafka } from 'kafkajs';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { EnsureTopicsResult, TopicSetupPort, TopicSpec } from '../../application/ports/topic-setup.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { createKafka, KafkaConnection, secretsOf } from './kafka-connection';
import { ErrorContext, explainKafkaError } from './kafka-errors';

export type { EnsureTopicsResult, TopicSpec } from '../../application/ports/topic-setup.port';

/** The topic configs a spec sets, in Kafka's names. */
const configEntriesOf = (spec: TopicSpec): Array<{ name: string; value: string }> => [
  ...(spec.maxMessageBytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(spec.maxMessageBytes) }]),
  ...(spec.retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(spec.retentionMs) }]),
  ...(spec.cleanupPolicy === undefined ? [] : [{ name: 'cleanup.policy', value: spec.cleanupPolicy }]),
];


export interface PartitionLag {
  readonly partition: number;
  /** The group's committed position (next offset to read), or null when it has none. */
  readonly committed: number | null;
  /** The high watermark: the offset the next record will get. */
  readonly end: number;
  readonly lag: number;
}

export interface ConsumerLag {
  readonly groupId: string;
  readonly topic: string;
  readonly total: number;
  readonly partitions: PartitionLag[];
}

/**
 * Topic housekeeping and group offsets through the Kafka admin API: creating the topics the app
 * needs at startup (clearly refused when the principal may not), and the lag and committed
 * positions that metrics and tests read.
 *
 * It connects at start(), or at its first request; its readiness asks the brokers (a topic
 * listing), which is what tells a process whether Kafka answers. After close() it is not ready
 * until started again; a request made after close() connects anew.
 */
export class KafkaTopicAdmin implements LifecyclePort, TopicSetupPort {
  private readonly admin: Admin;
  private readonly errorContext: ErrorContext;
  private connecting: Promise<void> | undefined;
  private closed = false;

  /** From a kafkajs client, or from connection settings (then errors also name the SASL user, never the password). */
  constructor(
    client: Kafka | KafkaConnection,
    private readonly logger?: LoggerPort,
  ) {
    const kafka = client instanceof Kafka ? client : createKafka(client, logger);
    this.errorContext = client instanceof Kafka ? {} : { brokers: client.brokers, sasl: client.sasl, secrets: secretsOf(client) };
    this.admin = kafka.admin();
  }

  /** Creates the topics that do not exist yet; never alters existing ones (a partition count change would move keys). */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
    const names = specs.map((spec) => spec.topic);
    return this.run(`ensuring topics ${names.join(', ')}`, async (admin) => {
      const known = new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !known.has(spec.topic));
      const existing = specs.filter((spec) => known.has(spec.topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor ?? -1,
            ...(configEntriesOf(spec).length === 0 ? {} : { configEntries: configEntriesOf(spec) }),
          })),
        });
        this.logger?.info({ topics: missing.map((spec) => spec.topic) }, 'Kafka topics created');
      }
      if (existing.length > 0) await this.warnOnPartitionMismatch(admin, existing);
      return { created: missing.map((spec) => spec.topic), existing: existing.map((spec) => spec.topic) };
    });
  }

  /** The topic's max.message.bytes (its own, or the broker's default it inherits); undefined when the broker does not say. */
  maxMessageBytes(topic: string): Promise<number | undefined> {
    return this.run(`reading max.message.bytes of ${topic}`, async (admin) => {
      const { resources } = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
        includeSynonyms: false,
      });
      const value = resources[0]?.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue;
      const bytes = Number(value);
      return value !== undefined && Number.isInteger(bytes) && bytes > 0 ? bytes : undefined;
    });
  }

  listTopics(): Promise<string[]> {
    return this.run('listing topics', (admin) => admin.listTopics());
  }

  deleteTopics(topics: readonly string[]): Promise<void> {
    return this.run(`deleting topics ${topics.join(', ')}`, (admin) => admin.deleteTopics({ topics: [...topics] }));
  }

  /** The group's committed position per partition, 0 where it has none (as InMemoryMessageBus.committed). */
  async committedPositions(groupId: string, topic: string): Promise<number[]> {
    const lag = await this.consumerLag(groupId, topic);
    return lag.partitions.map((partition) => partition.committed ?? 0);
  }

  /** The high watermark (the offset the next record gets) per partition, as InMemoryMessageBus.endOffsets. */
  endOffsets(topic: string): Promise<number[]> {
    return this.run(`reading the end offsets of ${topic}`, async (admin) => {
      const ends: number[] = [];
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends[partition] = Number(high);
      return Array.from(ends, (end) => end ?? 0);
    });
  }

  /** Messages not yet committed by the group. A group without a commit will read from the earliest retained offset. */
  consumerLag(groupId: string, topic: string): Promise<ConsumerLag> {
    return this.run(`reading the lag of group ${groupId} on ${topic}`, async (admin) => {
      const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
      const committedBy = new Map(committed.flatMap((t) => t.partitions).map((p) => [p.partition, Number(p.offset)]));
      const partitions = ends
        .map(({ partition, high, low }): PartitionLag => {
          const position = committedBy.get(partition) ?? -1;
          const end = Number(high);
          return position < 0
            ? { partition, committed: null, end, lag: end - Number(low) }
            : { partition, committed: position, end, lag: Math.max(0, end - position) };
        })
        .sort((a, b) => a.partition - b.partition);
      return { groupId, topic, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
    });
  }

  async start(): Promise<void> {
    this.closed = false;
    try {
      await this.connect();
    } catch (error) {
      throw explainKafkaError(error, 'connecting the admin client', this.errorContext);
    }
  }

  /** The brokers answer a metadata request: a real round trip each time, so /readyz should cache it (the status server does). */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('the Kafka admin client is closed');
    await this.listTopics();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connecting === undefined) return;
    this.connecting = undefined;
    await this.admin.disconnect();
  }

  private connect(): Promise<void> {
    this.connecting ??= this.admin.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async warnOnPartitionMismatch(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    for (const spec of specs) {
      const actual = topics.find((t) => t.name === spec.topic)?.partitions.length;
      if (actual !== undefined && actual !== spec.partitions) {
        this.logger?.warn({ topic: spec.topic, expected: spec.partitions, actual }, 'Kafka topic exists with a different partition count; left as it is');
      }
    }
  }

  private async run<T>(action: string, operation: (admin: Admin) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connect();
        return await operation(this.admin);
      } catch (error) {
        // A fresh broker (or one that just moved a group's coordinator) answers group requests
        // with coordinator errors for a few seconds; kafkajs's admin does not retry those itself.
        if (attempt < COORDINATOR_ATTEMPTS && isCoordinatorMoving(error)) {
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
          continue;
        }
        throw explainKafkaError(error, action, this.errorContext);
      }
    }
  }
}

const COORDINATOR_ATTEMPTS = 6;
const COORDINATOR_ERRORS = new Set(['GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP']);

const isCoordinatorMoving = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && COORDINATOR_ERRORS.has(String((error as { type?: unknown }).type));
