import { Admin, CompressionTypes, Kafka, Partitioners, Producer, TopicMessages as KafkaTopicMessages, Transaction } from 'kafkajs';
import { checkHandOff, describeOutputs } from '../../application/delivery/hand-off';
import { LoggerPort } from '../../application/ports/logger.port';
import { ConsumedThrough, TopicMessages } from '../../application/ports/message-bus.port';
import { COMPRESSION, KafkaCompression, toKafkaMessage } from './kafka-batching-publisher';
import { isFenced } from './kafka-errors';

export interface TransactionalPublishingOptions {
  /**
   * The broker aborts a transaction left open this long (its producer died mid-hand-off), and
   * until then read-committed consumers of its output partitions wait at it; default 60 000 ms.
   */
  readonly transactionTimeoutMs?: number;
  /**
   * A partition's producer unused this long is disconnected: the member has probably lost the
   * partition. The next hand-off of the partition creates a producer again. Default 300 000 ms.
   */
  readonly idleProducerMs?: number;
  /** Default 'snappy', as the plain publisher. */
  readonly compression?: KafkaCompression;
}

/**
 * Retries of what kafkajs deems retriable, within one transaction: from 20 ms doubling, about 5 s
 * in all. 20 ms rather than kafkajs's 300 because a transaction's first AddPartitionsToTxn meets
 * CONCURRENT_TRANSACTIONS while the coordinator still writes the previous one's markers, every
 * time when hand-offs follow each other (tulios/kafkajs#1315, #304; the Java client waits 20 ms
 * too). Bounded, unlike the plain producer's, because a transaction that runs out of retries is
 * aborted whole and its producer replaced: no batch is half-known afterwards (see handOff).
 */
const TRANSACTION_RETRY = { retries: 8, initialRetryTime: 20 };

/**
 * The transactional id of a hand-off: the same for every process that consumes this partition in
 * this group, so that a new owner's producer fences the old owner's (Kafka's pre-KIP-447 model,
 * one producer per input partition). Topic names cannot hold ':' and the partition is a number,
 * so the id is unambiguous however the group is named; it begins with the group id, so ACLs can
 * grant a group's transactional ids by prefix.
 */
export const transactionalIdOf = (consumed: Pick<ConsumedThrough, 'groupId' | 'topic' | 'partition'>): string =>
  `${consumed.groupId}:${consumed.topic}:${consumed.partition}`;

/** One input partition's producer and the queue of its hand-offs. */
interface PartitionSlot {
  readonly transactionalId: string;
  /** Connected, with an epoch of its own; undefined until the first hand-off and after a failure. */
  producer: Producer | undefined;
  /** Settles when the last queued hand-off has: the next one starts after it. */
  tail: Promise<void>;
  queued: number;
  idleTimer: NodeJS.Timeout | undefined;
}

export interface KafkaTransactionalPublisherSettings {
  readonly logger: LoggerPort;
  /** Turns a kafkajs failure into an operator's explanation without secrets (explainKafkaError with the bus's context). */
  readonly explain: (error: unknown, action: string) => Error;
}

/**
 * MessageBusPort.publishTransactionally on kafkajs: one transactional producer per input
 * partition, one transaction per hand-off — send every output, add the group's position
 * (sendOffsets), commit.
 *
 * kafkajs has no consumer-group-metadata fencing (KIP-447: its TxnOffsetCommit carries no
 * generation), so fencing comes from the transactional id alone (transactionalIdOf): the first
 * hand-off of a partition in a process initialises a producer for the partition's id, which bumps
 * the id's epoch, and any earlier owner's producer fails from then on (INVALID_PRODUCER_EPOCH)
 * and its open transaction is aborted. Within one bus the members of a group share a partition's
 * producer and are not fenced from each other; Delivery.generation, kafkajs's local count of
 * joins, cannot tell a stale member here.
 *
 * Hand-offs of one partition run one after the other: a kafkajs producer has one transaction at a
 * time and fails a second one begun meanwhile (tulios/kafkajs#430, #1275).
 *
 * Any failure aborts the transaction (if kafkajs still can) and discards the producer; the next
 * hand-off creates a new one, with a new epoch. Reusing it would be unsafe: a kafkajs producer
 * left in COMMITTING or ABORTING by a failed EndTxn refuses every further transaction
 * (tulios/kafkajs#1355; #1388 fixed only the empty transaction), and one whose send failed after
 * the broker wrote it would reuse that batch's sequence numbers, which the broker drops as
 * duplicates. A failed abort never hides the error that caused it.
 *
 * Two cases are settled by the group's committed position, which commits with the outputs:
 * - A commit whose answer was lost may have gone through. A new producer for the id completes or
 *   aborts it (InitProducerId waits for it), then the committed position tells which: at or past
 *   `nextOffset`, the hand-off is done and resolves.
 * - The first hand-off on a new producer whose inputs the group has committed past already (a
 *   previous owner, or an earlier lost commit, handed them off first) publishes nothing again and
 *   resolves: the caller acks them and moves on.
 * A replay that covers only part of what was committed meanwhile is not detected (the port gives
 * no first offset): see adr/0017-exactly-once-hand-offs.md.
 */
export class KafkaTransactionalPublisher {
  private readonly slots = new Map<string, PartitionSlot>();
  /** The transactional ids of every partition this bus has begun to hand off (see ownsPosition); kept when an idle slot is retired. */
  private readonly owned = new Set<string>();
  private readonly transactionTimeoutMs: number;
  private readonly idleProducerMs: number;
  private readonly compression: CompressionTypes;
  private admin: Promise<Admin> | undefined;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: KafkaTransactionalPublisherSettings,
    options: TransactionalPublishingOptions = {},
  ) {
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
    this.idleProducerMs = options.idleProducerMs ?? 300_000;
    this.compression = COMPRESSION[options.compression ?? 'snappy'];
  }

  publish(consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('KafkaMessageBus is closed'));
    try {
      checkHandOff(consumed, outputs);
    } catch (error) {
      return Promise.reject(error);
    }
    const slot = this.slotOf(transactionalIdOf(consumed));
    this.owned.add(slot.transactionalId);
    clearTimeout(slot.idleTimer);
    slot.queued++;
    const run = slot.tail.then(() => this.handOff(slot, consumed, outputs));
    slot.tail = run.then(
      () => this.settled(slot),
      () => this.settled(slot),
    );
    return run;
  }

  /**
   * Whether the partition's position in the group belongs to this bus's hand-offs: from its first
   * hand-off of the partition on, for as long as the bus lives. The subscription's own commits of
   * such a partition are then left out, whatever their offset. Kafka keeps the offset written
   * last, and a commit the subscription issues while a hand-off is under way can be written after
   * the transaction's offsets and set the group back, so that a restart hands the same inputs off
   * twice. Offsets alone do not tell such a commit: the subscription commits its first unacked
   * offset, which transaction markers in a transactional input topic put past the last hand-off's
   * `nextOffset` (F8 of the fault suite: a hand-off through 46, input 47 under way, marker at 46;
   * the subscription's 47, issued then, was written 6 ms after the next hand-off's 48). Acks trail
   * hand-offs, so the subscription has nothing to add to them.
   */
  ownsPosition(groupId: string, partition: { readonly topic: string; readonly partition: number }): boolean {
    return this.owned.has(transactionalIdOf({ groupId, topic: partition.topic, partition: partition.partition }));
  }

  /** Waits for the hand-offs under way, then disconnects every producer. Later hand-offs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots.values()];
    await Promise.all(slots.map((slot) => slot.tail));
    await Promise.all(slots.map((slot) => this.retire(slot)));
    const admin = this.admin;
    this.admin = undefined;
    if (admin !== undefined) await admin.then((connected) => connected.disconnect()).catch(() => undefined);
  }

  private slotOf(transactionalId: string): PartitionSlot {
    let slot = this.slots.get(transactionalId);
    if (slot === undefined) {
      slot = { transactionalId, producer: undefined, tail: Promise.resolve(), queued: 0, idleTimer: undefined };
      this.slots.set(transactionalId, slot);
    }
    return slot;
  }

  private settled(slot: PartitionSlot): void {
    if (--slot.queued > 0 || this.closed) return;
    slot.idleTimer = setTimeout(() => {
      if (slot.queued === 0) void this.retire(slot);
    }, this.idleProducerMs).unref();
  }

  private async handOff(slot: PartitionSlot, consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void> {
    const action = `handing off ${describeOutputs(outputs)} with ${consumed.topic}[${consumed.partition}] through offset ${consumed.nextOffset} for group ${consumed.groupId}`;
    let transaction: Transaction;
    try {
      if (slot.producer === undefined) {
        slot.producer = await this.initialise(slot.transactionalId);
        if (await this.committedThrough(consumed)) {
          this.settings.logger.info(
            { groupId: consumed.groupId, topic: consumed.topic, partition: consumed.partition, nextOffset: consumed.nextOffset },
            'Kafka hand-off skipped: the group has committed past these inputs already (an earlier owner or an earlier lost commit handed them off)',
          );
          return;
        }
      }
      transaction = await slot.producer.transaction();
    } catch (error) {
      await this.discard(slot);
      throw this.settings.explain(error, `${action} (transactional id ${slot.transactionalId})`);
    }
    let committing = false;
    try {
      const topicMessages = toTopicMessages(outputs);
      if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages, acks: -1, compression: this.compression });
      await transaction.sendOffsets({
        consumerGroupId: consumed.groupId,
        topics: [{ topic: consumed.topic, partitions: [{ partition: consumed.partition, offset: consumed.nextOffset }] }],
      });
      committing = true;
      await transaction.commit();
    } catch (error) {
      // After a failed commit kafkajs refuses abort (the transaction "has ended"): the next
      // producer's InitProducerId settles it instead.
      if (transaction.isActive()) await transaction.abort().catch((abortError: unknown) => this.abortFailed(slot, abortError));
      await this.discard(slot);
      // Fenced, the commit was refused: the new producer aborted the transaction.
      const outcome = committing && !isFenced(error) ? await this.settleCommit(slot, consumed) : 'aborted';
      if (outcome === 'committed') return;
      const state =
        outcome === 'aborted'
          ? "nothing of it is visible and the group's position has not moved"
          : "it may have committed: the partition's next hand-off checks the group's position first";
      throw this.settings.explain(error, `${action} (transactional id ${slot.transactionalId}; ${state})`);
    }
  }

  private abortFailed(slot: PartitionSlot, error: unknown): void {
    const fields = { transactionalId: slot.transactionalId, err: this.settings.explain(error, 'aborting the transaction').message };
    // Fenced, the transaction is aborted already: the new owner's producer did it.
    if (isFenced(error)) this.settings.logger.debug(fields, 'Kafka transaction abort refused: the producer was fenced');
    else this.settings.logger.warn(fields, "Kafka transaction abort failed; the partition's next producer aborts it, or the broker after the transaction timeout");
  }

  /** A connected producer holding a fresh epoch of the id: whatever an earlier producer of the id left open is completed or aborted. */
  private async initialise(transactionalId: string): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.transactionTimeoutMs,
      // An output topic that does not exist is a mistake to report, not a topic to create with
      // broker defaults inside a transaction.
      allowAutoTopicCreation: false,
      retry: TRANSACTION_RETRY,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
      // kafkajs sends InitProducerId with the first transaction. Ended at once with nothing in
      // it, kafkajs sends no EndTxn (tulios/kafkajs#1388) and the producer is ready.
      const first = await producer.transaction();
      await first.abort();
      return producer;
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The commit failed without an answer that says how. A new producer for the id settles the
   * transaction on the broker (InitProducerId waits for a commit under way, aborts an open
   * transaction), and then the group's position says which it was.
   */
  private async settleCommit(slot: PartitionSlot, consumed: ConsumedThrough): Promise<'committed' | 'aborted' | 'unknown'> {
    try {
      slot.producer = await this.initialise(slot.transactionalId);
      const outcome = (await this.committedThrough(consumed)) ? 'committed' : 'aborted';
      this.settings.logger.warn({ transactionalId: slot.transactionalId, nextOffset: consumed.nextOffset, outcome }, 'Kafka transaction commit failed; settled');
      return outcome;
    } catch (error) {
      await this.discard(slot);
      this.settings.logger.warn(
        { transactionalId: slot.transactionalId, err: this.settings.explain(error, 'settling a failed commit').message },
        "Kafka transaction commit failed with its outcome unknown; the partition's next hand-off checks the group's position first",
      );
      return 'unknown';
    }
  }

  /** Whether the group's committed position of the input partition is at or past `nextOffset`. */
  private async committedThrough(consumed: ConsumedThrough): Promise<boolean> {
    const admin = await this.connectAdmin();
    const [offsets] = await admin.fetchOffsets({ groupId: consumed.groupId, topics: [consumed.topic] });
    const committed = offsets?.partitions.find(({ partition }) => partition === consumed.partition)?.offset ?? '-1';
    return BigInt(committed) >= BigInt(consumed.nextOffset);
  }

  private connectAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }

  private async discard(slot: PartitionSlot): Promise<void> {
    const producer = slot.producer;
    slot.producer = undefined;
    if (producer !== undefined) await producer.disconnect().catch(() => undefined);
  }

  private async retire(slot: PartitionSlot): Promise<void> {
    clearTimeout(slot.idleTimer);
    if (this.slots.get(slot.transactionalId) === slot) this.slots.delete(slot.transactionalId);
    await this.discard(slot);
  }
}

/** One entry per topic with messages, in the caller's order; the bus stamps the time now. */
const toTopicMessages = (outputs: readonly TopicMessages[]): KafkaTopicMessages[] => {
  const now = Date.now();
  const byTopic = new Map<string, KafkaTopicMessages['messages']>();
  for (const { topic, messages } of outputs) {
    if (messages.length === 0) continue;
    const list = byTopic.get(topic) ?? [];
    list.push(...messages.map((message) => toKafkaMessage(message, now)));
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
};
