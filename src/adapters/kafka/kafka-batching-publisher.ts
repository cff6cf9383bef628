import { CompressionTypes, Message, Producer, TopicMessages } from 'kafkajs';
import { OutboundMessage } from '../../application/ports/message-bus.port';
import { backoffDelay, BackoffPolicy, sleep } from '../../application/retry';
import { explainKafkaError } from './kafka-errors';
import { headerBytes, toKafkaHeaders } from './kafka-headers';

export type KafkaCompression = 'none' | 'gzip' | 'snappy';

export interface BatchingOptions {
  /** How long the first message of a batch waits for company (the producer's linger.ms); default DEFAULT_LINGER_MS. */
  readonly lingerMs?: number;
  /** A batch is sent at once when it reaches this many messages; default 1000. */
  readonly maxBatchMessages?: number;
  /** …or this many bytes of keys, values and headers; default 512 KiB. */
  readonly maxBatchBytes?: number;
  /** Default 'snappy', as the seed's producer. */
  readonly compression?: KafkaCompression;
  /**
   * A publish not acknowledged this long after it was called fails (the producer's
   * delivery.timeout.ms); default 120 000. The producer itself retries without limit (see below).
   */
  readonly deliveryTimeoutMs?: number;
  /** The wait before a batch is sent again after the broker could not be reached; default 100 ms doubling up to 5 s, jittered. */
  readonly resendBackoff?: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>;
}

/** kafkajs's codec for each of ours; the transactional publisher compresses the same way. */
export const COMPRESSION: Record<KafkaCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
};

interface PendingPublish {
  readonly topic: string;
  readonly messages: Message[];
  readonly bytes: number;
  readonly settle: (error?: unknown) => void;
}

/** The publisher's linger when none is given: what every orderflow producer waits for company. */
export const DEFAULT_LINGER_MS = 10;

/**
 * kafkajs has no linger: every `send` is a request. This buffer gives it one, so that the many
 * small concurrent publishes of a busy process (dead letters, downstream events) coalesce into
 * few produce requests. Each publish resolves only when the broker has acknowledged all its
 * messages (acks = all), and fails as a whole when its batch fails.
 *
 * At most one batch is in flight: what arrives meanwhile waits and goes out right after it.
 * Together with the idempotent producer (`maxInFlightRequests: 1`) this keeps the publish order
 * of a key, across retries too.
 *
 * Why the deadline is ours and not a retry limit: an idempotent kafkajs producer that gives up
 * on a batch the broker did write would send the next batch with the same sequence number, and
 * the broker would drop it as a duplicate — a silent loss. So the producer retries without
 * limit (kafkajs's default for idempotence) and a publish that waits too long is failed here;
 * its batch keeps the in-flight slot until kafkajs succeeds, so nothing overtakes it.
 *
 * kafkajs's unlimited retries stop short of one case: while no broker can be reached, its send
 * retrier reconnects through the cluster, whose own retry policy (the client's, a few seconds)
 * gives up and fails the send as non-retriable. A broker restart does that. Such a batch is sent
 * again here, the same messages in the same order, until it goes through or the publisher closes.
 */
export class KafkaBatchingPublisher {
  private readonly lingerMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly deliveryTimeoutMs: number;
  private readonly compression: CompressionTypes;
  private pending: PendingPublish[] = [];
  private pendingMessages = 0;
  private pendingBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** Publishes not yet answered, buffered or in flight. */
  private unsettled = 0;
  private settledListeners: Array<() => void> = [];
  private readonly resendBackoff: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  private readonly closing = new AbortController();
  /** Why the batch in flight has not gone through yet: the cause a timed-out publish reports. */
  private lastSendError: unknown;

  constructor(
    private readonly producer: Pick<Producer, 'sendBatch'>,
    options: BatchingOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.maxBatchMessages = options.maxBatchMessages ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
    this.compression = COMPRESSION[options.compression ?? 'snappy'];
    this.resendBackoff = options.resendBackoff ?? { baseDelayMs: 100, maxDelayMs: 5_000 };
  }

  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const now = Date.now();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const entry: PendingPublish = {
        topic,
        messages: messages.map((message) => toKafkaMessage(message, now)),
        bytes: messages.reduce((sum, message) => sum + sizeOf(message), 0),
        settle: (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          if (error === undefined) resolve();
          else reject(error);
          if (--this.unsettled === 0) this.notifySettled();
        },
      };
      this.unsettled++;
      const deadline = setTimeout(() => this.expire(entry), this.deliveryTimeoutMs).unref();
      this.pending.push(entry);
      this.pendingMessages += entry.messages.length;
      this.pendingBytes += entry.bytes;
      if (this.batchIsFull()) this.sendNext();
      else this.lingerTimer ??= setTimeout(() => this.sendNext(), this.lingerMs);
    });
  }

  /** Sends what is buffered now; resolves when every publish so far is answered (at the latest by its deadline). */
  async flush(): Promise<void> {
    this.sendNext();
    if (this.unsettled === 0) return;
    await new Promise<void>((resolve) => this.settledListeners.push(resolve));
  }

  /** Stops sending again a batch the broker could not take; call it after flush(), before disconnecting the producer. */
  close(): void {
    this.closing.abort();
  }

  private batchIsFull(): boolean {
    return this.pendingMessages >= this.maxBatchMessages || this.pendingBytes >= this.maxBatchBytes;
  }

  private sendNext(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.inFlight !== undefined || this.pending.length === 0) return;
    const batch = this.takeBatch();
    this.inFlight = this.sendBatch(batch).finally(() => {
      this.inFlight = undefined;
      // What accumulated during the send has waited at least that long: no further linger.
      this.sendNext();
    });
  }

  /** Whole publishes, oldest first, up to the limits (and at least one, however large). */
  private takeBatch(): PendingPublish[] {
    let count = 0;
    let messages = 0;
    let bytes = 0;
    for (const entry of this.pending) {
      const over = messages + entry.messages.length > this.maxBatchMessages || bytes + entry.bytes > this.maxBatchBytes;
      if (count > 0 && over) break;
      count++;
      messages += entry.messages.length;
      bytes += entry.bytes;
    }
    this.pendingMessages -= messages;
    this.pendingBytes -= bytes;
    return this.pending.splice(0, count);
  }

  private async sendBatch(batch: readonly PendingPublish[]): Promise<void> {
    for (let resend = 0; ; resend++) {
      try {
        await this.producer.sendBatch({ topicMessages: byTopic(batch), acks: -1, compression: this.compression });
        for (const entry of batch) entry.settle();
        return;
      } catch (error) {
        this.lastSendError = error;
        const transient = isTransient(error);
        if (transient) await sleep(backoffDelay(this.resendBackoff, resend), this.closing.signal);
        if (!transient || this.closing.signal.aborted) {
          for (const entry of batch) entry.settle(error);
          return;
        }
      }
    }
  }

  /** A publish still buffered is dropped, never sent; one in flight is only answered (its batch goes on). */
  private expire(entry: PendingPublish): void {
    const index = this.pending.indexOf(entry);
    if (index >= 0) {
      this.pending.splice(index, 1);
      this.pendingMessages -= entry.messages.length;
      this.pendingBytes -= entry.bytes;
    }
    entry.settle(
      new Error(`Kafka did not acknowledge the messages within ${this.deliveryTimeoutMs} ms (delivery timeout)`, {
        cause: this.lastSendError,
      }),
    );
  }

  private notifySettled(): void {
    const listeners = this.settledListeners;
    this.settledListeners = [];
    for (const listener of listeners) listener();
  }
}

const FINAL_REASONS = new Set(['tls', 'dns', 'authentication', 'authorization']);

/**
 * Whether the failure can pass. kafkajs wraps the error that ended its retries (an unreachable
 * broker, a timeout, a leader moving) as non-retriable, so the deepest kafkajs error in the cause
 * chain decides: each says whether it is retriable (a socket error beneath it does not). Refused
 * credentials, a message too large or a missing permission are final and fail the publish at once.
 */
const isTransient = (error: unknown): boolean => {
  // An untrusted certificate, an unknown host or refused credentials do not heal by waiting.
  if (FINAL_REASONS.has(explainKafkaError(error, 'sending').reason)) return false;
  let retriable = false;
  for (let link = error, depth = 0; typeof link === 'object' && link !== null && depth < 16; depth++) {
    const { retriable: says, cause } = link as { retriable?: unknown; cause?: unknown };
    if (typeof says === 'boolean') retriable = says;
    if (cause === link) break;
    link = cause;
  }
  return retriable;
};

/** One entry per topic, messages in publish order (kafkajs then splits them by partition, in order). */
const byTopic = (batch: readonly PendingPublish[]): TopicMessages[] => {
  const topics = new Map<string, Message[]>();
  for (const { topic, messages } of batch) {
    const list = topics.get(topic);
    if (list === undefined) topics.set(topic, [...messages]);
    else list.push(...messages);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
};

/**
 * Bytes are copied at publish, as the Java client serialises in send(): the caller may reuse its
 * buffers while the message lingers. Stamped at publish too, so the linger does not shift event times.
 */
export const toKafkaMessage = (message: OutboundMessage, now: number): Message => ({
  key: Buffer.isBuffer(message.key) ? Buffer.from(message.key) : message.key,
  value: Buffer.from(message.value),
  headers: toKafkaHeaders(message.headers),
  timestamp: String(message.timestamp ?? now),
});

const sizeOf = ({ key, value, headers }: OutboundMessage): number =>
  (key === null ? 0 : Buffer.byteLength(key)) + value.length + headerBytes(headers);
