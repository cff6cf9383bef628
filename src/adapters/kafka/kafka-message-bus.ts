import { Kafka, Partitioners, Producer, ProducerBatch } from 'kafkajs';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { LoggerPort } from '../../application/ports/logger.port';
import { maxInFlightBytesOf, maxInFlightFor } from '../../application/delivery/in-flight-limits';
import { subscriptionHandlerOf } from '../../application/delivery/tracked-delivery-batch';
import { MessageBusPort, ConsumedThrough, OutboundMessage, TopicMessages, Subscription, SubscriptionOptions } from '../../application/ports/message-bus.port';
import { BatchingOptions, KafkaBatchingPublisher } from './kafka-batching-publisher';
import { createKafka, KafkaConnection, KafkaLogLevel, registerSnappyCodec, secretsOf } from './kafka-connection';
import { ErrorContext, explainKafkaError } from './kafka-errors';
import { KafkaSubscription } from './kafka-subscription';
import { KafkaTransactionalPublisher, TransactionalPublishingOptions } from './kafka-transactional-publisher';

/** Consumer settings; the defaults suit production, tests shorten the intervals. */
export interface KafkaConsumerTuning {
  /** Acked positions are committed this often; default 1000 ms. */
  readonly commitIntervalMs?: number;
  /** How long a rebalance waits for in-flight messages before the partitions go; default 5000 ms. */
  readonly rebalanceDrainMs?: number;
  /** Default 30 000 ms (the broker bounds it by group.min/max.session.timeout.ms). */
  readonly sessionTimeoutMs?: number;
  /** Default 3000 ms: a third of the session timeout. Members notice a rebalance at their next heartbeat. */
  readonly heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin; must exceed rebalanceDrainMs. Default 60 000 ms. */
  readonly rebalanceTimeoutMs?: number;
  /** How long a fetch waits for minBytes, and the idle step while every partition is paused; default 500 ms. */
  readonly maxWaitTimeMs?: number;
  /** A fetch is answered once this many bytes are ready (or after maxWaitTimeMs); default 1. */
  readonly minBytes?: number;
  /** Default 1 MiB. */
  readonly maxBytesPerPartition?: number;
}

export interface KafkaMessageBusOptions {
  readonly logger?: LoggerPort;
  /** Used when the bus builds its own client from connection settings. */
  readonly kafkaLogLevel?: KafkaLogLevel;
  readonly publishing?: BatchingOptions;
  readonly consuming?: KafkaConsumerTuning;
  /** publishTransactionally's producers (one per input partition). */
  readonly transactions?: TransactionalPublishingOptions;
}

const silentLogger: LoggerPort = { debug() {}, info() {}, warn() {}, error() {} };

/** Waits before joining again while a group's coordinator is not found: about 30 s in all. */
const COORDINATOR_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000] as const;

/** kafkajs's KafkaJSGroupCoordinatorNotFound anywhere in the cause chain (explainKafkaError keeps it as the cause). */
const coordinatorNotFound = (error: unknown): boolean => {
  for (let link: unknown = error, depth = 0; link instanceof Error && depth < 10; link = link.cause, depth++) {
    if (link.name === 'KafkaJSGroupCoordinatorNotFound') return true;
  }
  return false;
};

/**
 * The message bus on Kafka (kafkajs): an idempotent producer (acks = all) behind an app-side
 * linger buffer, and one consumer-group member per subscription with explicit acks, contiguous
 * commits and replay on nack (see KafkaSubscription). Keys are placed by Kafka's murmur2
 * partitioner, as the Java client and InMemoryMessageBus place them. Hand-offs
 * (publishTransactionally) are Kafka transactions on a producer per input partition (see
 * KafkaTransactionalPublisher), and every subscription reads committed records only.
 *
 * The producer connects on the first publish, or at start(); each subscription has a consumer of
 * its own, connected when it subscribes. Once closed, the bus stays closed.
 */
export class KafkaMessageBus implements MessageBusPort, LifecyclePort {
  private readonly kafka: Kafka;
  private readonly logger: LoggerPort;
  private readonly errorContext: ErrorContext;
  private readonly producer: Producer;
  private readonly publisher: KafkaBatchingPublisher;
  private readonly transactional: KafkaTransactionalPublisher;
  private readonly consuming: KafkaConsumerTuning;
  private readonly subscriptions = new Set<Subscription>();
  private producerConnected: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** From a kafkajs client, or from connection settings (then errors also name the SASL user, never the password). */
  constructor(client: Kafka | KafkaConnection, options: KafkaMessageBusOptions = {}) {
    registerSnappyCodec();
    this.logger = options.logger ?? silentLogger;
    this.kafka = client instanceof Kafka ? client : createKafka(client, options.logger, { logLevel: options.kafkaLogLevel });
    this.errorContext = client instanceof Kafka ? {} : { brokers: client.brokers, sasl: client.sasl, secrets: secretsOf(client) };
    this.consuming = options.consuming ?? {};
    // Idempotence needs acks = all (the publisher sends with acks -1), one request in flight, and
    // unlimited retries; the publisher bounds each publish with its delivery timeout instead.
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: Number.MAX_SAFE_INTEGER },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    // Each batch makes sure of the connection, so publishes made while it opens coalesce too.
    const sender = {
      sendBatch: async (batch: ProducerBatch) => {
        await this.connectProducer();
        return this.producer.sendBatch(batch);
      },
    };
    this.publisher = new KafkaBatchingPublisher(sender, options.publishing);
    this.transactional = new KafkaTransactionalPublisher(
      this.kafka,
      { logger: this.logger, explain: (error, action) => explainKafkaError(error, action, this.errorContext) },
      { compression: options.publishing?.compression, ...options.transactions },
    );
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    if (this.closed) throw new Error('KafkaMessageBus is closed');
    try {
      await this.publisher.publish(topic, messages);
    } catch (error) {
      throw explainKafkaError(error, `publishing ${messages.length} message(s) to ${topic}`, this.errorContext);
    }
  }

  /** One kafkajs transaction per call, on a producer per input partition: see KafkaTransactionalPublisher. */
  async publishTransactionally(consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void> {
    if (this.closed) throw new Error('KafkaMessageBus is closed');
    return this.transactional.publish(consumed, outputs);
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    if (this.closed) throw new Error('KafkaMessageBus is closed');
    // Bad options are refused here, before joining; a bound's function is checked on every assignment.
    subscriptionHandlerOf(options);
    maxInFlightFor(options.maxInFlight, 0);
    maxInFlightBytesOf(options.maxInFlightBytes);
    const tuning = this.consuming;
    const heartbeatIntervalMs = tuning.heartbeatIntervalMs ?? 3_000;
    const rebalanceTimeoutMs = tuning.rebalanceTimeoutMs ?? 60_000;
    const rebalanceDrainMs = tuning.rebalanceDrainMs ?? 5_000;
    // A member still draining when the rebalance times out is dropped from the group.
    if (rebalanceDrainMs >= rebalanceTimeoutMs) throw new RangeError('rebalanceDrainMs must be shorter than rebalanceTimeoutMs');
    // A consumer per attempt: kafkajs's consumer does not rejoin after a crash it deems final.
    const attempt = async (): Promise<KafkaSubscription> => {
      let subscription: KafkaSubscription | undefined;
      const consumer = this.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: tuning.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: heartbeatIntervalMs,
        rebalanceTimeout: rebalanceTimeoutMs,
        maxWaitTimeInMs: tuning.maxWaitTimeMs ?? 500,
        minBytes: tuning.minBytes ?? 1,
        maxBytesPerPartition: tuning.maxBytesPerPartition ?? 1024 * 1024,
        // read_committed (kafkajs's default, pinned here): a hand-off's outputs are seen all at
        // once when its transaction commits, those of an aborted one never (publishTransactionally).
        readUncommitted: false,
        // kafkajs restarts a crashed consumer by itself, also one that crashed because it was being
        // disconnected: a join cut short by disconnect() crashes it, and the restart rejoins the group
        // from a subscription that has stopped, holding a connection open (tulios/kafkajs#1639).
        retry: { restartOnFailure: async () => subscription?.active ?? true },
      });
      // A partition this bus hands off has its position committed by the transactions alone: the
      // subscription's own commits of it are left out, whatever their offset (see ownsPosition).
      const commitOffsets = consumer.commitOffsets.bind(consumer);
      consumer.commitOffsets = async (offsets) => {
        const own = offsets.filter((offset) => !this.transactional.ownsPosition(options.groupId, offset));
        if (own.length > 0) await commitOffsets(own);
      };
      subscription = await KafkaSubscription.start(consumer, options, {
        commitIntervalMs: tuning.commitIntervalMs ?? 1_000,
        rebalanceDrainMs,
        heartbeatIntervalMs,
        logger: this.logger,
        explain: (error, action) => explainKafkaError(error, action, this.errorContext),
      });
      return subscription;
    };
    let subscription: KafkaSubscription | undefined;
    for (let retry = 0; subscription === undefined; retry++) {
      try {
        subscription = await attempt();
      } catch (error) {
        // The group's coordinator is still loading: kafkajs retries COORDINATOR_NOT_AVAILABLE a few
        // seconds, then gives up as if it were final. On a cluster's first groups (a fresh cluster,
        // or several stages joining while their topics are created) that takes longer: wait, as
        // the Java client does, up to about half a minute.
        const delayMs = COORDINATOR_RETRY_DELAYS_MS[retry];
        if (delayMs === undefined || this.closed || !coordinatorNotFound(error)) throw error;
        this.logger.warn({ groupId: options.groupId, topic: options.topic, retryInMs: delayMs }, 'Kafka group coordinator not available yet; joining again');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (this.closed) throw error;
      }
    }
    this.subscriptions.add(subscription);
    const forget = (): void => void this.subscriptions.delete(subscription);
    subscription.done.then(forget, forget);
    return subscription;
  }

  /** Connects the producer now rather than at the first publish: a wrong address or password fails here, explained. */
  async start(): Promise<void> {
    if (this.closed) throw new Error('KafkaMessageBus is closed');
    await this.connectProducer();
  }

  /**
   * The producer is connected (it connects now if it is not). That the brokers still answer is
   * the topic admin's readiness, which asks them; a consumer that fails ends its subscription.
   */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('the Kafka message bus is closed');
    await this.connectProducer();
  }

  /**
   * Stops the subscriptions (each drains up to the deadline and commits), sends what the linger
   * buffer holds, lets the hand-offs under way finish, and disconnects: the flush before exit the
   * seed's producer did. A second call waits for the first.
   */
  close(options: { deadlineMs?: number } = {}): Promise<void> {
    this.closing ??= this.closeOnce(options);
    return this.closing;
  }

  private async closeOnce(options: { deadlineMs?: number }): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop(options)));
    await this.publisher.flush();
    this.publisher.close();
    await this.transactional.close();
    if (this.producerConnected !== undefined) await this.producer.disconnect();
  }

  private connectProducer(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((error: unknown) => {
      this.producerConnected = undefined;
      throw explainKafkaError(error, 'connecting the producer', this.errorContext);
    });
    return this.producerConnected;
  }
}
