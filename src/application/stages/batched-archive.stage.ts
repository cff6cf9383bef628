import {
  batchObjectKey,
  BatchRotationPolicy,
  fullness,
  idleBatchObjectKey,
  isIdle,
  messageWeight,
  OpenBatchShape,
  rotationBefore,
  RotationReason,
  validateRotationPolicy,
} from '../../domain/batch-rotation';
import { EnrichedOrder } from '../../domain/enriched-order';
import { ok } from '../../domain/result';
import { evaluateMessage, guarded } from '../order-evaluation';
import { Delivery, DeliveryBatch, DeliveryHandler, InboundMessage } from '../ports/message-bus.port';
import { StageTarget } from '../ports/stage-metrics.port';
import { RecentKeys } from '../recent-keys';
import { ProbeBackoff } from '../write-gate';
import { ARCHIVE_STAGE, OrderSinkDeps } from './archive-deps';
import { BatchStage } from './stage';
import { StageWrites } from './stage-writes';

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/** Batch objects remembered to count rewrites: at 1,000 orders each, the last 10 million orders. */
const REMEMBERED_OBJECTS = 10_000;

export interface BatchedOrderSinkOptions {
  /** The orders topic it archives. */
  readonly topic: string;
  /** Key prefix of the objects, e.g. `orders-batched`. */
  readonly prefix: string;
  readonly rotation: BatchRotationPolicy;
  /** Larger messages are dead-lettered unread, as in the per-order sink. */
  readonly maxMessageBytes: number;
  /** How a failing archive or dead-letter topic is probed until it works again (see WriteGate). */
  readonly backoff: ProbeBackoff;
  /**
   * The least maxInFlight of the subscription (ORDERFLOW_MAX_IN_FLIGHT), and the budget until the
   * sink learns how many partitions it was assigned (see maxInFlight); size it with inFlightBudgetFor.
   */
  readonly inFlightBudget: number;
  /**
   * The subscription's own fixed byte bound (ORDERFLOW_MAX_IN_FLIGHT_BYTES), when it has one. The
   * bus stops delivering there, so open batches must stay under half of it as well as under half
   * of maxInFlightBytes(): otherwise batches that only more messages could close would wait for
   * messages that can no longer arrive.
   */
  readonly subscriptionMaxInFlightBytes?: number;
}

/** The bounds the sink holds itself to, and that its subscription must allow: see maxInFlight. */
export interface InFlightBudget {
  readonly messages: number;
  /** Absent while rotation.maxBytes is: no byte bound. */
  readonly bytes: number | undefined;
}

/**
 * The subscription's maxInFlight for this many partitions. A bus stops delivering at its bound,
 * and KafkaSubscription resumes only once half of it is free again: if open batches, which free
 * nothing until they fill, could hold more than half, every partition would wait for messages
 * that can no longer arrive. With two full batches per partition that never happens.
 */
export const inFlightBudgetFor = (rotation: BatchRotationPolicy, partitions: number): number => 2 * rotation.maxMessages * partitions;

/** The same rule in bytes: two full batches (rotation.maxBytes each, see messageWeight) per partition. */
export const inFlightBytesFor = (rotation: BatchRotationPolicy, partitions: number): number | undefined =>
  rotation.maxBytes === undefined ? undefined : 2 * rotation.maxBytes * partitions;

/** The messages of one batch, from its first offset on, and the object they make. */
class Batch implements OpenBatchShape {
  readonly deliveries: Delivery[] = [];
  readonly records: EnrichedOrder[] = [];
  /** The messages the records came from, in the same order. */
  readonly recordMessages: InboundMessage[] = [];
  /**
   * NDJSON lines, serialised on arrival so the flush only concatenates. Bytes, not strings: one
   * joined string of a large batch would pass V8's string limit (about 512 MiB).
   */
  readonly lines: Buffer[] = [];
  /** The messageWeight of every message so far, dead letters included. */
  bytes = 0;
  /** One per dead letter: resolves true once it is on the dead-letter topic. */
  readonly deadLetters: Promise<boolean>[] = [];
  firstEventTimeMs: number | undefined;
  startOffset: number | undefined;
  /** Offset of the batch's last message, record or dead letter. */
  endOffset = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The bus generation of the batch's first delivery; a batch never spans two (see handle). */
    readonly generation: number,
    public lastArrivalMs: number,
  ) {}

  get messages(): number {
    return this.deliveries.length;
  }
}

/**
 * The acks of one partition batch from the bus. A later object (say, of dead letters only) can be
 * written before an earlier one, so the batch's acked prefix moves only once everything before a
 * message is acked too. A written object acks its run of a batch in one call: the bus then
 * settles the run once rather than message by message.
 */
class BatchAcks {
  private readonly acked: Uint8Array;
  private prefix = 0;

  constructor(private readonly batch: DeliveryBatch) {
    this.acked = new Uint8Array(batch.messages.length);
  }

  /** messages[first..last] are processed. */
  ackRange(first: number, last: number): void {
    this.acked.fill(1, first, last + 1);
    const before = this.prefix;
    while (this.prefix < this.acked.length && this.acked[this.prefix] === 1) this.prefix++;
    if (this.prefix > before) this.batch.ackThrough(this.prefix - 1);
  }

  nack(index: number, reason: Error): void {
    this.batch.nack(index, reason);
  }
}

/** A message of a partition batch, held as a Delivery until its object is written: no closures per message. */
class BatchMember implements Delivery {
  constructor(
    readonly message: InboundMessage,
    readonly generation: number,
    readonly acks: BatchAcks,
    readonly index: number,
  ) {}

  ack(): void {
    this.acks.ackRange(this.index, this.index);
  }

  nack(reason: Error): void {
    this.acks.nack(this.index, reason);
  }
}

/** Acks deliveries in their order; a run of consecutive messages of one partition batch goes in one call. */
const ackInOrder = (deliveries: readonly Delivery[]): void => {
  let i = 0;
  while (i < deliveries.length) {
    const first = deliveries[i]!;
    if (!(first instanceof BatchMember)) {
      first.ack();
      i++;
      continue;
    }
    let last = first;
    for (let next = deliveries[i + 1]; next instanceof BatchMember && next.acks === first.acks && next.index === last.index + 1; next = deliveries[i + 1]) {
      last = next;
      i++;
    }
    first.acks.ackRange(first.index, last.index);
    i++;
  }
};

interface PartitionState {
  open: Batch | undefined;
  /** The last offset seen; an offset at or below it means the bus went back (a replay). */
  lastOffset: number;
}

/**
 * The batched sink (ORDERFLOW_SINK=batched): one NDJSON object per partition per batch, named
 * from topic, partition and start offset like the Kafka Connect S3 sink, so that a replay
 * rewrites the same objects: exactly-once by name (adr/0011).
 *
 * The sink holds the deliveries of a batch unacked — the message-bus port lets a handler resolve
 * without acking — and acks them all once the object (and every dead letter of the batch) is
 * written, so the bus commits only batch boundaries. A restart therefore always resumes at the
 * start of a batch, and the rotation rules, which depend only on the records (count, UTC date
 * and span of event time), cut the rest of the stream exactly as before.
 *
 * By default nothing is flushed on a wall-clock timer: a cut that depends on when messages
 * arrived would not be reproduced by a replay. The last batch of an idle partition therefore
 * stays open, unwritten and uncommitted, until a record closes it; at shutdown, and when a
 * rebalance revokes the partitions, it is released to be redelivered. With
 * `rotation.idleFlushMs` set, such a batch is written after that long without a message, under
 * a name that carries both its ends (see idleBatchObjectKey).
 */
export class BatchedOrderSink implements BatchStage {
  readonly kind = 'batch';
  readonly name = ARCHIVE_STAGE;
  readonly topic: string;
  private readonly partitions = new Map<string, PartitionState>();
  /** Messages held by open batches across all partitions (written batches excluded). */
  private openMessages = 0;
  /** Their messageWeight. */
  private openBytes = 0;
  /** What the subscription allows (see maxInFlight); releaseIdlest keeps open batches under half of it. */
  private budget: InFlightBudget;
  private readonly stopping = new AbortController();
  private readonly writes: StageWrites;
  /** Objects this process wrote: writing one again (a replay) rewrites every order in it. */
  private readonly writtenObjects = new RecentKeys(REMEMBERED_OBJECTS);
  /** Checks for idle batches while any is open, when idle cuts are enabled. */
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: OrderSinkDeps,
    private readonly options: BatchedOrderSinkOptions,
  ) {
    validateRotationPolicy(options.rotation);
    if (options.inFlightBudget < inFlightBudgetFor(options.rotation, 1)) {
      throw new RangeError(
        `An in-flight budget of ${options.inFlightBudget} cannot fill a batch of ${options.rotation.maxMessages}: it needs at least twice the batch size`,
      );
    }
    this.budget = { messages: options.inFlightBudget, bytes: this.bytesBudget(1) };
    this.topic = options.topic;
    this.writes = new StageWrites(
      {
        stage: ARCHIVE_STAGE,
        deadLetters: () => deps.deadLetters,
        metrics: deps.metrics,
        logger: deps.logger,
        clock: deps.clock,
        ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
        ...(deps.random === undefined ? {} : { random: deps.random }),
        onDeadLettered: (code) => deps.statistics.recordDeadLettered(code),
      },
      options.backoff,
      this.stopping.signal,
      {
        handle: {
          name: 'archive',
          failed: 'Batch object write failed: holding batches',
          stillFailing: 'Archive still failing',
          succeedsAgain: 'Archive writes succeed again',
        },
      },
    );
  }

  /**
   * The subscription's maxInFlight once `assignedPartitions` are assigned: two full batches per
   * partition (inFlightBudgetFor), at least options.inFlightBudget. Sized from the partitions the
   * group actually assigned, not from how many a topic `consume` creates would have: with more,
   * open batches would hold half the budget and releaseIdlest would release them over and over.
   * The sink holds itself to what it last answered, so call it on every assignment.
   */
  readonly maxInFlight = (assignedPartitions: number): number => {
    const partitions = Math.max(1, assignedPartitions);
    this.budget = {
      messages: Math.max(this.options.inFlightBudget, inFlightBudgetFor(this.options.rotation, partitions)),
      bytes: this.bytesBudget(partitions),
    };
    return this.budget.messages;
  };

  private bytesBudget(partitions: number): number | undefined {
    const own = inFlightBytesFor(this.options.rotation, partitions);
    const subscription = this.options.subscriptionMaxInFlightBytes;
    if (subscription === undefined) return own;
    return own === undefined ? subscription : Math.min(own, subscription);
  }

  /** The subscription's maxInFlightBytes for `assignedPartitions` (undefined: no byte bound); see maxInFlight. */
  readonly maxInFlightBytes = (assignedPartitions: number): number | undefined =>
    inFlightBytesFor(this.options.rotation, Math.max(1, assignedPartitions));

  /** The targets whose writes are failing right now (readiness). */
  failing(): readonly StageTarget[] {
    return this.writes.failing;
  }

  /**
   * The stage runner's entry: a partition's batch, message by message. The sink acks the messages
   * it holds when their object is written, in offset order, so each one's ack is the batch's
   * range up to it (see BatchAcks).
   */
  readonly handleBatch = (batch: DeliveryBatch): void => {
    const { messages, generation } = batch;
    const acks = new BatchAcks(batch);
    for (let i = 0; i < messages.length; i++) this.handle(new BatchMember(messages[i]!, generation, acks, i));
  };

  readonly handle: DeliveryHandler = (delivery: Delivery): void => {
    const { message } = delivery;
    if (this.stopping.signal.aborted) {
      delivery.nack(new Error('The batched sink is stopping; the message will be redelivered'));
      return;
    }
    const offset = Number(message.offset);
    const partition = this.partitionOf(message, offset);
    if (partition.open !== undefined && partition.open.generation !== delivery.generation) {
      // The partition may have had another owner in between, which wrote and committed past this
      // batch: extending it would overwrite that object with a gap in it (issue 9, item 1).
      this.release(partition, new Error(`A delivery of generation ${delivery.generation} arrived; the open batch of generation ${partition.open.generation} is read again`));
    }
    const outcome = evaluateMessage(message, this.deps, this.options.maxMessageBytes);
    const now = this.deps.clock.now();
    let batch = partition.open;
    const valueBytes = message.value?.length ?? 0;
    let weight = messageWeight(valueBytes);
    if (outcome.ok) {
      const { record, eventTimeMs } = outcome.value;
      const line = Buffer.from(`${JSON.stringify(record)}\n`);
      weight = messageWeight(valueBytes, line.length);
      const reason = batch === undefined ? undefined : rotationBefore(batch, eventTimeMs, this.options.rotation, weight);
      if (reason !== undefined) {
        this.close(partition, reason);
        batch = undefined;
      }
      batch ??= this.open(partition, delivery, now);
      if (batch.startOffset === undefined) {
        batch.startOffset = offset;
        batch.firstEventTimeMs = eventTimeMs;
      }
      batch.records.push(record);
      batch.recordMessages.push(message);
      batch.lines.push(line);
    } else {
      batch ??= this.open(partition, delivery, now);
      // Written at once, acked with the batch: the dead letter's offset must not be committed
      // ahead of the records before it, or a restart would begin inside this batch.
      batch.deadLetters.push(this.writes.deadLetter(message, outcome.error));
    }
    batch.deliveries.push(delivery);
    batch.lastArrivalMs = now;
    batch.endOffset = offset;
    batch.bytes += weight;
    this.openMessages++;
    this.openBytes += weight;
    partition.lastOffset = offset;
    const full = fullness(batch, this.options.rotation);
    if (full !== undefined) this.close(partition, full);
    else if (this.overHalfTheBudget()) this.releaseIdlest();
  };

  /**
   * Shutdown began: write retries stop, and open batches are released unacked, so the subscription can
   * drain and commit the batch boundaries. A restart re-reads them and cuts them the same way.
   */
  stop(): void {
    this.stopping.abort();
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
    this.releaseAll(new Error('The batched sink stopped with this batch open; it will be redelivered'));
  }

  /**
   * A rebalance is about to take the partitions: give the open batches back at once. The next
   * owner re-reads them from the committed boundary and cuts them the same way, and the drain
   * before the rebalance need not wait for batches that nothing will close.
   */
  readonly onPartitionsRevoked = (): void => {
    this.releaseAll(new Error('The partitions are being reassigned; the open batch goes to their next owner'));
  };

  private partitionOf(message: InboundMessage, offset: number): PartitionState {
    const id = `${message.topic}:${message.partition}`;
    let partition = this.partitions.get(id);
    if (partition === undefined) {
      partition = { open: undefined, lastOffset: -1 };
      this.partitions.set(id, partition);
    } else if (offset <= partition.lastOffset) {
      // A replay after a nack, or the partition coming back after a rebalance: the bus resumes at
      // a committed batch boundary, and what the open batch holds arrives again after it.
      this.release(partition, new Error(`Offset ${offset} was redelivered; the open batch is read again`));
    }
    return partition;
  }

  private open(partition: PartitionState, { message, generation }: Delivery, now: number): Batch {
    const batch = new Batch(message.topic, message.partition, generation, now);
    partition.open = batch;
    this.watchIdleness();
    return batch;
  }

  /**
   * Writes every open batch that no message joined for `rotation.idleFlushMs` (opt-in; adr/0011).
   * A timer calls it while batches are open; tests call it with a clock of their own.
   */
  flushIdle(): void {
    const now = this.deps.clock.now();
    for (const partition of this.partitions.values()) {
      if (partition.open !== undefined && isIdle(partition.open.lastArrivalMs, now, this.options.rotation)) this.close(partition, 'idle');
    }
  }

  private watchIdleness(): void {
    const idleFlushMs = this.options.rotation.idleFlushMs;
    if (idleFlushMs === undefined || this.idleTimer !== undefined || this.stopping.signal.aborted) return;
    // A quarter of the idle time, so a batch is cut at most 25 % late; no more often than every 50 ms.
    this.idleTimer = setInterval(() => this.flushIdle(), Math.max(50, Math.min(1_000, Math.floor(idleFlushMs / 4))));
    this.idleTimer.unref();
  }

  private overHalfTheBudget(): boolean {
    const { messages, bytes } = this.budget;
    return this.openMessages * 2 >= messages || (bytes !== undefined && this.openBytes * 2 >= bytes);
  }

  /** The object key is made here, before the retried write: a key that cannot be made is a dead letter, never an outage. */
  private close(partition: PartitionState, reason: RotationReason): void {
    const batch = partition.open;
    if (batch === undefined) return;
    partition.open = undefined;
    this.openMessages -= batch.messages;
    this.openBytes -= batch.bytes;
    if (batch.records.length === 0) {
      void this.flush(batch, undefined, reason);
      return;
    }
    const key = guarded(() => ok(this.objectKey(batch, reason)));
    if (key.ok) {
      void this.flush(batch, key.value, reason);
      return;
    }
    // Cannot happen with validated event times (evaluateMessage); should it, the batch's records
    // are dead-lettered with the exception rather than held as an archive outage that never ends.
    batch.deadLetters.push(...batch.recordMessages.map((message) => this.writes.deadLetter(message, key.error)));
    void this.flush(batch, undefined, reason);
  }

  private objectKey(batch: Batch, reason: RotationReason): string {
    return reason === 'idle'
      ? idleBatchObjectKey(this.options.prefix, batch.firstEventTimeMs!, batch.topic, batch.partition, batch.startOffset!, batch.endOffset)
      : batchObjectKey(this.options.prefix, batch.firstEventTimeMs!, batch.topic, batch.partition, batch.startOffset!);
  }

  private releaseAll(reason: Error): void {
    for (const partition of this.partitions.values()) this.release(partition, reason);
  }

  /** Gives the open batch back to the bus unacked: it is redelivered, so nothing is written for it now. */
  private release(partition: PartitionState, reason: Error): void {
    const batch = partition.open;
    if (batch === undefined) return;
    partition.open = undefined;
    this.openMessages -= batch.messages;
    this.openBytes -= batch.bytes;
    for (const delivery of batch.deliveries) delivery.nack(reason);
  }

  /**
   * Open batches hold half the in-flight budget: more partitions than the budget was sized for
   * (see inFlightBudgetFor), or batches kept by a member whose partitions moved in a rebalance.
   * Releasing the longest-idle batch frees capacity without writing anything that a replay would
   * not write too.
   */
  private releaseIdlest(): void {
    let idlest: PartitionState | undefined;
    for (const partition of this.partitions.values()) {
      if (partition.open !== undefined && (idlest?.open === undefined || partition.open.lastArrivalMs < idlest.open.lastArrivalMs)) {
        idlest = partition;
      }
    }
    const batch = idlest?.open;
    if (idlest === undefined || batch === undefined) return;
    this.deps.logger.warn(
      { topic: batch.topic, partition: batch.partition, messages: batch.messages, bytes: batch.bytes, inFlightBudget: this.budget },
      'Open batches hold half the in-flight budget: releasing the longest-idle one for redelivery. ' +
        'If this repeats, raise ORDERFLOW_MAX_IN_FLIGHT or lower ORDERFLOW_BATCH_MAX_MESSAGES or ORDERFLOW_BATCH_MAX_BYTES',
    );
    this.release(idlest, new Error('Released to free in-flight capacity; it will be redelivered'));
  }

  /** Writes the object and waits for the batch's dead letters; only then is any of it acked. */
  private async flush(batch: Batch, key: string | undefined, reason: RotationReason): Promise<void> {
    const stored = key === undefined || (await this.writes.write('handle', () => this.putObject(batch, key, reason)));
    const deadLettered = (await Promise.all(batch.deadLetters)).every(Boolean);
    if (stored && deadLettered) {
      ackInOrder(batch.deliveries);
      return;
    }
    // The gates give up only when shutdown begins; the restart re-reads the batch and cuts it alike.
    const error = new Error(`Stopped before the batch of ${batch.topic}/${batch.partition} was written; it will be redelivered`);
    for (const delivery of batch.deliveries) delivery.nack(error);
  }

  private async putObject(batch: Batch, key: string, reason: RotationReason): Promise<void> {
    await this.deps.archive.put(key, Buffer.concat(batch.lines), NDJSON_CONTENT_TYPE);
    // Same name, same records (the name determines them): counted as a duplicate of each order.
    if (this.writtenObjects.remember(key)) this.deps.metrics.orderDuplicate(batch.records.length);
    const now = this.deps.clock.now();
    for (const record of batch.records) {
      this.deps.metrics.orderArchived(record.channel, record.latency_ms, record.high_risk);
      this.deps.statistics.recordArchived(record, now);
    }
    this.deps.logger.debug({ key, records: batch.records.length, messages: batch.messages, reason }, 'Batch object written');
  }
}
