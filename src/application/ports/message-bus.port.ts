/**
 * The message bus as the core needs it: publish, and subscribe with an explicit ack per
 * message. Offsets are decimal strings because Kafka's are 64-bit.
 *
 * Delivery is at-least-once. A subscription commits a partition's position only past a
 * contiguous run of acked messages, so an unacked message (and everything after it in its
 * partition) is redelivered after a crash, a restart or a rebalance.
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

export interface SubscriptionOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly handler: DeliveryHandler;
  /** Upper bound on delivered-but-unacked messages; the bus stops fetching (pauses) at the bound. */
  readonly maxInFlight?: number;
  /**
   * The group is about to take this member's partitions away (a member joined or left). A
   * handler that holds messages should settle them now: what it acks before the partitions move
   * is committed, what it nacks goes to the next owner. Rebalances are eager, as Kafka's default
   * protocol: every partition of the member is revoked, even those it gets back. Called before
   * the assignment changes, at most once per rebalance.
   */
  readonly onPartitionsRevoked?: () => void;
}

export interface Subscription {
  /** Stops fetching, waits for in-flight messages (up to the deadline), commits what is acked, leaves the group. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
  /** Resolves when the subscription has ended, by stop() or by a fatal error (which it rejects with). */
  readonly done: Promise<void>;
}

export interface MessageBusPort {
  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void>;
  subscribe(options: SubscriptionOptions): Promise<Subscription>;
}
