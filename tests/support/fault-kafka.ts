import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { correctKafkajsReadCommitted } from '../../src/adapters/kafka/kafka-aborted-transactions';
import { fromKafkaHeaders } from '../../src/adapters/kafka/kafka-headers';
import { KafkaMessageBus } from '../../src/adapters/kafka/kafka-message-bus';
import { Header, OutboundMessage } from '../../src/application/ports/message-bus.port';

/**
 * The test's own view of Kafka, independent of the service: what was published, what a topic
 * holds, what the group has committed. Plain kafkajs, except for publishing, which goes through
 * the project's idempotent producer (acks = all) because delivering everything across a broker
 * restart is part of what F2 checks.
 */
export class KafkaProbe {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;
  private readonly publishers = new Set<KafkaMessageBus>();

  constructor(private readonly brokers: string) {
    // As the service's clients: without it, kafkajs's read_committed readers are handed records
    // of aborted transactions (kafka-aborted-transactions.ts), and would count them as written.
    correctKafkajsReadCommitted();
    // retry: a probe polls through broker restarts and must not give up on the first refusal.
    this.kafka = new Kafka({ brokers: brokers.split(','), clientId: 'fault-probe', logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    this.admin = this.kafka.admin();
  }

  /** A producer of its own; closed by its user, or by close() should a failing test leave it open. */
  newPublisher(): KafkaMessageBus {
    const publisher = new KafkaMessageBus({ brokers: this.brokers.split(','), clientId: `fault-producer-${randomUUID().slice(0, 8)}` });
    this.publishers.add(publisher);
    return publisher;
  }

  /** Publishes in chunks, each awaited: a resolved publish is acknowledged by the broker (acks = all). */
  async publish(topic: string, messages: readonly OutboundMessage[], chunk = 500): Promise<void> {
    const publisher = this.newPublisher();
    try {
      for (let i = 0; i < messages.length; i += chunk) await publisher.publish(topic, messages.slice(i, i + chunk));
    } finally {
      await publisher.close();
    }
  }

  async createTopics(topics: readonly string[], partitions = 6): Promise<void> {
    await this.ready();
    await this.admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions })) });
  }

  /** Lets the topic take record batches of up to `bytes` (max.message.bytes), as a producer's topic may. */
  async allowMessageBytes(topic: string, bytes: number): Promise<void> {
    await this.ready();
    await this.admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }],
    });
  }

  /** Committed position per partition (0 where the group has none). */
  async committed(group: string, topic: string): Promise<number[]> {
    await this.ready();
    const [offsets] = await this.admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? [])
      .sort((a, b) => a.partition - b.partition)
      .map((p) => Math.max(0, Number(p.offset)));
  }

  /** The high watermark per partition: the offset the next record will get. */
  async ends(topic: string): Promise<number[]> {
    await this.ready();
    return (await this.admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
  }

  async groupState(group: string): Promise<{ state: string; members: number }> {
    await this.ready();
    const { groups } = await this.admin.describeGroups([group]);
    return { state: groups[0]?.state ?? 'Unknown', members: groups[0]?.members.length ?? 0 };
  }

  /** Every record of the topic up to its current end, read by a throwaway group. */
  async readAll(topic: string, timeoutMs = 120_000): Promise<TopicRecord[]> {
    return (await this.readTopics([topic], { timeoutMs })).get(topic)!;
  }

  /**
   * Every record of each topic up to its current end, in one throwaway group (one join for all of
   * them). read_committed unless told otherwise: then the records of aborted transactions are
   * left out, as a stage downstream sees the topic. A transactional topic ends with a commit
   * marker, a control record no consumer is handed, so a partition is done once the consumer has
   * fetched through its end, control records included (kafkajs's END_BATCH_PROCESS lastOffset).
   * An open transaction holds a read_committed reader back at it: the read then times out.
   */
  async readTopics(
    topics: readonly string[],
    { readUncommitted = false, timeoutMs = 120_000 }: { readUncommitted?: boolean; timeoutMs?: number } = {},
  ): Promise<Map<string, TopicRecord[]>> {
    const records = new Map(topics.map((topic) => [topic, [] as TopicRecord[]]));
    const ends = new Map<string, number[]>();
    for (const topic of topics) ends.set(topic, await this.ends(topic));
    const slot = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
    const remaining = new Set([...ends].flatMap(([topic, offsets]) => offsets.flatMap((end, partition) => (end > 0 ? [slot(topic, partition)] : []))));
    if (remaining.size === 0) return records;
    const consumer = this.kafka.consumer({ groupId: `fault-reader-${randomUUID()}`, maxBytesPerPartition: 10 * 1024 * 1024, readUncommitted });
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const reached = (topic: string, partition: number, offset: number): void => {
      if (offset >= ends.get(topic)![partition]! - 1 && remaining.delete(slot(topic, partition)) && remaining.size === 0) finished();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reached(payload.topic, payload.partition, Number(payload.lastOffset)));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const offset = Number(message.offset);
          if (offset >= ends.get(topic)![partition]!) return;
          records.get(topic)!.push(topicRecord(partition, message));
          reached(topic, partition, offset);
        },
      });
      await withTimeout(done, timeoutMs, () => `reading ${topics.join(', ')}: ${[...records.values()].reduce((n, list) => n + list.length, 0)} records, ${[...remaining].map((s) => s.replace('\u0000', '/')).join(', ')} unfinished`);
    } finally {
      await consumer.disconnect();
    }
    return records;
  }

  /**
   * Hands every record of the topics, from their beginning, to `onRecord` as a read_committed
   * consumer sees them, until stopped: for waiting on what a pipeline has made visible so far.
   */
  async follow(topics: readonly string[], onRecord: (topic: string, record: TopicRecord) => void): Promise<{ stop(): Promise<void> }> {
    const consumer = this.kafka.consumer({ groupId: `fault-follower-${randomUUID()}`, maxBytesPerPartition: 10 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => onRecord(topic, topicRecord(partition, message)),
    });
    return { stop: () => consumer.disconnect() };
  }

  private ready(): Promise<void> {
    this.connected ??= this.admin.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }

  async close(): Promise<void> {
    await Promise.all([...this.publishers].map((publisher) => publisher.close({ deadlineMs: 0 })));
    if (this.connected !== undefined) await this.admin.disconnect();
  }
}

/**
 * Publishes a stream at a steady pace in the background, through one idempotent producer, so a
 * fault can land while orders are still arriving. A pre-filled topic does not allow that with
 * the batched sink, which drains 20,000 orders in about a second.
 */
export class SteadyProducer {
  published = 0;
  readonly done: Promise<void>;

  constructor(
    probe: KafkaProbe,
    topic: string,
    messages: readonly OutboundMessage[],
    { chunk = 100, intervalMs = 100 }: { chunk?: number; intervalMs?: number } = {},
  ) {
    const publisher = probe.newPublisher();
    this.done = (async () => {
      try {
        for (let i = 0; i < messages.length; i += chunk) {
          await publisher.publish(topic, messages.slice(i, i + chunk));
          this.published = Math.min(messages.length, i + chunk);
          await new Promise((resolve) => setTimeout(resolve, intervalMs));
        }
      } finally {
        await publisher.close();
      }
    })();
    // Awaited by the scenario later; a rejection meanwhile must wait for that, not count as unhandled.
    this.done.catch(() => undefined);
  }

  async until(count: number, timeoutMs: number): Promise<void> {
    await waitFor(() => this.published >= count, timeoutMs, () => `${count} messages to be published (${this.published})`);
  }
}

const topicRecord = (partition: number, message: KafkaMessage): TopicRecord => ({
  partition,
  offset: Number(message.offset),
  key: message.key,
  value: message.value,
  headers: Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(Array.isArray(value) ? value[value.length - 1] : value)]),
  ),
  rawHeaders: fromKafkaHeaders(message.headers),
});

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Name → text of the last value: for the headers the application writes itself. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every header as bytes, repeated names kept in order (kafkajs groups them by name). */
  readonly rawHeaders: readonly Header[];
}

export interface CommitSample {
  /** Epoch ms when the answer arrived: the commit it reports happened before. */
  readonly at: number;
  readonly positions: readonly number[];
}

/**
 * Polls a group's committed positions in the background, through broker restarts (failed polls
 * are skipped), so a scenario can later check every commit against the store and tell when
 * progress resumed after a fault.
 */
export class CommitWatcher {
  readonly samples: CommitSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly probe: KafkaProbe,
    private readonly group: string,
    private readonly topic: string,
    private readonly intervalMs = 250,
  ) {
    this.loop = this.poll();
  }

  get latest(): readonly number[] {
    return this.samples[this.samples.length - 1]?.positions ?? [];
  }

  get total(): number {
    return this.latest.reduce((sum, position) => sum + position, 0);
  }

  /** Resolves once the group has committed at least `count` messages in all. */
  async until(count: number, timeoutMs: number): Promise<void> {
    await waitFor(() => this.total >= count, timeoutMs, () => `group ${this.group} to commit ${count} messages; it committed ${this.total}`);
  }

  /** Resolves once every partition's committed position has reached its end: the group is caught up. */
  async untilCaughtUp(ends: readonly number[], timeoutMs: number): Promise<void> {
    await waitFor(
      () => ends.every((end, partition) => (this.latest[partition] ?? 0) >= end),
      timeoutMs,
      () => `group ${this.group} to commit up to ${ends.join(',')}; it is at ${this.latest.join(',')}`,
    );
  }

  /**
   * Seconds from `since` (the end of a fault) until the group committed progress again on one of
   * the partitions the fault stalled: by default every partition that still had work at `since`.
   * The first one, not the last: under a backlog a consumer works through its partitions largely
   * one after another, so the last one to move measures the backlog, not the recovery.
   */
  recoverySeconds(since: number, ends: readonly number[], stalled?: readonly number[]): number {
    const before = [...this.samples].reverse().find((sample) => sample.at <= since)?.positions ?? [];
    const pending = stalled ?? ends.flatMap((end, partition) => ((before[partition] ?? 0) < end ? [partition] : []));
    const moved = this.samples.find(
      (sample) => sample.at > since && pending.some((partition) => (sample.positions[partition] ?? 0) > (before[partition] ?? 0)),
    );
    if (moved === undefined) throw new Error(`None of partitions ${pending.join(', ')} committed progress after the fault`);
    return (moved.at - since) / 1000;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const positions = await this.probe.committed(this.group, this.topic);
        this.samples.push({ at: Date.now(), positions });
      } catch {
        // The broker is away (F2): there is simply no sample for this moment.
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}

/** Polls `condition` every 100 ms; fails with what it last saw after `timeoutMs`. */
export const waitFor = async (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const withTimeout = async <T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};
