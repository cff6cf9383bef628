/**
 * The message bus as the core needs it: publish, and subscribe with an explicit ack per
 * message. Offsets are decimal strings because Kafka's are 64-bit.
 *
 * Delivery is at-least-once. A subscription commits a partition's position only past a
 * contiguous run of acked messages, so an unacked message (and everything after it in its
 * partition) is redelivered after a crash, a restart or a rebalance.
 *
 * Generations. A subscription owns its partitions for one generation at a time, and every
 * delivery says which (`Delivery.generation`, strictly increasing per subscription). Between two
 * generations the partitions may have belonged to another member, which may have written and
 * committed past what this one still holds: a handler must never combine deliveries of two
 * generations (a batch started in one must not be extended in the next). The subscription calls
 * `onPartitionsRevoked` before the first delivery of every generation after the first — also
 * when the member learns only afterwards that it had lost its partitions (its session expired
 * while it was frozen, the client crashed and rejoined, the broker answered UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION or FENCED_INSTANCE_ID) — then `onPartitionsAssigned` with the new
 * assignment. Settling a delivery of an earlier generation is harmless and commits nothing.
 *
 * Replays. A nack replays its partition from the first unacked offset after a backoff per
 * partition (50 ms doubling to 5 s, with jitter; reset once the partition makes progress), so a
 * message that fails every time cannot turn into a hot loop; other partitions keep moving.
 */
/**
 * A record header as Kafka stores it: a name and raw bytes. Values are not text (a producer may
 * send any bytes) and a name may repeat, so headers are a list in record order, carried byte for
 * byte from the broker to the handler, into dead letters and back through replay-dlq.
 */
export interface Header {
  readonly key: string;
  readonly value: Buffer;
}

export type Headers = readonly Header[];

/** A header with a text value (UTF-8), for the headers this application writes itself. */
export const textHeader = (key: string, value: string): Header => ({ key, value: Buffer.from(value) });

/**
 * The last header with this name, decoded as UTF-8 (as Kafka Connect's lastWithName): for the
 * headers this application reads, which it wrote as text. Undefined when absent.
 */
export const headerText = (headers: Headers, key: string): string | undefined => {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i]!.value.toString('utf8');
  return undefined;
};

export interface OutboundMessage {
  /** Messages with the same key land on the same partition, in order. */
  readonly key: string | Buffer | null;
  readonly value: Buffer;
  readonly headers?: Headers;
  /** Epoch ms; the bus stamps the send time when absent. */
  readonly timestamp?: number;
}

export interface InboundMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  /** Epoch ms of the record (create or log-append time). */
  readonly timestamp: number;
}

export interface Delivery {
  readonly message: InboundMessage;
  /**
   * The generation of the assignment this message was delivered in: for Kafka, the count of group
   * joins of this member (kafkajs does not expose the broker's generation id); for the in-memory
   * bus, its group's assignment epoch. Strictly increasing per subscription.
   */
  readonly generation: number;
  /** Processed: the position may move past this message once all earlier ones are acked too. */
  ack(): void;
  /**
   * Not processed: the bus stops handing out this partition, lets its in-flight messages finish,
   * then redelivers from the first unacked offset (as a Kafka seek would).
   */
  nack(reason: Error): void;
}

/**
 * Called once per delivered message. A rejected promise counts as a nack. Resolving without
 * ack or nack leaves the message in flight, which is how a batching sink holds messages until
 * its object is written.
 */
export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

/**
 * A run of one partition's messages handed over in one call (SubscriptionOptions.batchHandler):
 * the cheap shape, with no Delivery, promise or closure per message, and acks as offset ranges.
 *
 * Batches of a partition are handed over in offset order, and the next may come before the
 * previous is settled (as deliveries do): a handler that needs a partition's messages one after
 * the other chains its batches itself. Every message counts against the in-flight bounds until it
 * is acked, and the same commit rules hold as for deliveries: a partition's position moves only
 * past a contiguous acked run, a nack replays from the first unacked offset.
 */
export interface DeliveryBatch {
  readonly topic: string;
  readonly partition: number;
  /** As Delivery.generation: a batch belongs to one generation. */
  readonly generation: number;
  /** In offset order (not always contiguous: compaction and transaction markers leave gaps). Never empty. */
  readonly messages: readonly InboundMessage[];
  /** messages[0..index] are processed. Acking an index at or below one acked before changes nothing. */
  ackThrough(index: number): void;
  /**
   * messages[index] and the rest of the batch were not processed: as Delivery.nack, the partition
   * is replayed from the first unacked offset after its in-flight messages settle.
   */
  nack(index: number, reason: Error): void;
}

/**
 * Called once per batch. A rejected promise nacks the batch's unacked rest. Resolving with
 * messages unsettled leaves them in flight, to be settled later (a batching sink holds them).
 */
export type BatchHandler = (batch: DeliveryBatch) => void | Promise<void>;

export interface SubscriptionOptions {
  readonly topic: string;
  readonly groupId: string;
  /** Exactly one of `handler` (one call per message) and `batchHandler` (one call per partition batch); a bus refuses both or neither. */
  readonly handler?: DeliveryHandler;
  readonly batchHandler?: BatchHandler;
  /**
   * Upper bound on delivered-but-unsettled messages; the bus stops fetching (pauses) at the bound.
   * A function of the number of partitions assigned is evaluated again on every assignment, so a
   * budget sized per partition follows what the member owns. Default 64.
   */
  readonly maxInFlight?: number | ((assignedPartitions: number) => number);
  /**
   * Upper bound on the key and value bytes of delivered-but-unsettled messages. A message larger
   * than the bound is still delivered, alone, so that nothing stalls. Default: no byte bound.
   */
  readonly maxInFlightBytes?: number;
  /** A generation begins with these partitions; called before its first delivery. */
  readonly onPartitionsAssigned?: (partitions: readonly number[], generation: number) => void;
  /**
   * The group is about to take this member's partitions away (a member joined or left). A
   * handler that holds messages should settle them now: what it acks before the partitions move
   * is committed, what it nacks goes to the next owner. Rebalances are eager, as Kafka's default
   * protocol: every partition of the member is revoked, even those it gets back. Called before
   * the assignment changes, at most once per rebalance; when the member learns too late (see
   * Generations above), before the first delivery of its next generation.
   */
  readonly onPartitionsRevoked?: () => void;
}

export interface Subscription {
  /** Stops fetching, waits for in-flight messages (up to the deadline), commits what is acked, leaves the group. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
  /** Resolves when the subscription has ended, by stop() or by a fatal error (which it rejects with). */
  readonly done: Promise<void>;
}

/** Messages for several topics, published together. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutboundMessage[];
}

/**
 * A consume-transform-produce step: the outputs of a run of consumed messages, and the position
 * after them, which becomes the group's committed position in the same transaction.
 */
export interface ConsumedThrough {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The offset of the next message to consume: the last consumed + 1, as Kafka commits. */
  readonly nextOffset: string;
  /** The generation the consumed messages were delivered in (a zombie of an older one is fenced). */
  readonly generation: number;
}

export interface MessageBusPort {
  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void>;
  subscribe(options: SubscriptionOptions): Promise<Subscription>;
  /**
   * Publishes every message and commits `consumed` for its group atomically: consumers that read
   * committed data see all of the outputs or none, and the group's position moves past the inputs
   * only with them (Kafka transactions, one transactional id per input partition, which fences a
   * zombie owner of the same partition). A failure publishes nothing and commits nothing: the
   * inputs stay unacked and are handled again. The caller still acks the inputs afterwards, so
   * the subscription's own bookkeeping stays in step (its commit of the same position is a no-op).
   */
  publishTransactionally(consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void>;
}
