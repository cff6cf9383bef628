import { checkHandOff, describeOutputs } from '../../application/delivery/hand-off';
import { hasRoomFor, inFlightBytesOf, maxInFlightBytesOf, maxInFlightFor } from '../../application/delivery/in-flight-limits';
import { PartitionOffsets } from '../../application/delivery/partition-offsets';
import { ReplayBackoff } from '../../application/delivery/replay-backoff';
import { BatchSettled, SubscriptionHandler, subscriptionHandlerOf, TrackedDeliveryBatch } from '../../application/delivery/tracked-delivery-batch';
import {
  BatchHandler,
  ConsumedThrough,
  TopicMessages,
  Delivery,
  DeliveryHandler,
  Headers,
  InboundMessage,
  MessageBusPort,
  OutboundMessage,
  Subscription,
  SubscriptionOptions,
} from '../../application/ports/message-bus.port';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { EnsureTopicsResult, TopicSetupPort, TopicSpec } from '../../application/ports/topic-setup.port';
import { partitionForKey } from './murmur2-partitioner';

interface StoredRecord {
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly headers: Headers;
  readonly timestamp: number;
}

export interface InMemoryMessageBusOptions {
  /** Partitions of a topic created on first publish. */
  readonly defaultPartitions?: number;
  readonly now?: () => number;
  /** The jitter of the replay backoff after a nack; tests pin it. */
  readonly random?: () => number;
}

/**
 * A Kafka-shaped bus in memory: topics with partitions and offsets, a murmur2 key partitioner,
 * consumer groups whose members share partitions, committed positions per group, and
 * redelivery of everything past the committed position after a crash, a restart or a
 * rebalance. It is what the demo runs on and what the at-least-once tests lean on, so it keeps
 * Kafka's semantics rather than a queue's: nothing is removed when it is consumed.
 *
 * A batch handler gets, at each partition's turn, everything the partition holds past its cursor
 * that fits the in-flight bounds, in one DeliveryBatch (a Kafka fetch returns such runs too).
 *
 * Its lifecycle is a Kafka client's: close() stops the subscriptions made through it (each drains
 * and leaves its group), whose replay timers would otherwise keep the process alive, and it is
 * not ready until started again. In memory the bus is also the broker, so its topics, groups and
 * committed positions outlive close(): a test that restarts a service on the same bus subscribes
 * again and is redelivered what was never committed.
 */
export class InMemoryMessageBus implements MessageBusPort, LifecyclePort, TopicSetupPort {
  private readonly topics = new Map<string, StoredRecord[][]>();
  /** max.message.bytes of the topics created with one. */
  private readonly maxMessageBytes = new Map<string, number>();
  /** The current producer epoch of each transactional id (see publishTransactionally). */
  private readonly transactionalEpochs = new Map<string, number>();
  /** This bus's own producers, as a client of itself; newClient() makes others. */
  private readonly ownProducers: TransactionalProducers = new Map();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;
  private readonly defaultPartitions: number;
  private readonly now: () => number;
  /** @internal */
  readonly random: () => number;
  private roundRobin = 0;

  constructor(options: InMemoryMessageBusOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 6;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /**
   * `maxMessageBytes` bounds a record's key, value and header bytes as Kafka's max.message.bytes
   * bounds a record batch: a publish with a larger record fails whole. Default: no bound.
   */
  /** As KafkaTopicAdmin.ensureTopics: the missing topics are created, existing ones left as they are. */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
    const created: string[] = [];
    const existing: string[] = [];
    for (const spec of specs) {
      if (this.topics.has(spec.topic)) {
        existing.push(spec.topic);
        continue;
      }
      this.createTopic(spec.topic, spec.partitions, spec.maxMessageBytes === undefined ? {} : { maxMessageBytes: spec.maxMessageBytes });
      created.push(spec.topic);
    }
    return { created, existing };
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  createTopic(topic: string, partitions = this.defaultPartitions, options: { maxMessageBytes?: number } = {}): void {
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`A topic needs >= 1 partition, got ${partitions}`);
    const { maxMessageBytes } = options;
    if (maxMessageBytes !== undefined && (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1)) {
      throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
    }
    const existing = this.topics.get(topic);
    if (existing !== undefined) {
      if (existing.length !== partitions) throw new Error(`Topic ${topic} already exists with ${existing.length} partitions`);
      return;
    }
    this.topics.set(topic, Array.from({ length: partitions }, () => []));
    if (maxMessageBytes !== undefined) this.maxMessageBytes.set(topic, maxMessageBytes);
  }

  async publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    this.checkSizes(topic, messages);
    this.append(topic, messages);
    for (const group of this.groups.values()) group.recordsArrived(topic);
  }

  /**
   * A hand-off as a Kafka transaction makes it, with what "fencing" means here:
   * - Atomic: every output is appended and the group's position set in one synchronous step, so
   *   no subscriber can see a part; a failure appends nothing and leaves the position.
   * - No topic is created (the Kafka bus's transactional producers create none): an output or
   *   input topic that does not exist fails the call, as does a record over a topic's maxMessageBytes.
   * - Transactional ids, as on Kafka one per group, input topic and partition: a client's first
   *   hand-off of a partition takes a new epoch of the id, and a client holding an older epoch
   *   (another client of the same bus, newClient(), that handed off the partition before) fails
   *   its next hand-off of it and must take a new epoch again, as the Kafka bus replaces a fenced
   *   producer. A client's first hand-off whose inputs the group has committed past already
   *   publishes nothing and resolves, as on Kafka.
   * - The position is the hand-offs': once a partition was handed off, a subscription's commits of
   *   it are ignored, whatever their position (the Kafka bus leaves them out).
   * - Generations, which the Kafka bus cannot check: the consumed messages' generation must be
   *   the group's current one, else the caller is a zombie of an earlier assignment and fails
   *   (a group that never had a member accepts any).
   */
  async publishTransactionally(consumed: ConsumedThrough, outputs: readonly TopicMessages[]): Promise<void> {
    this.handOff(this.ownProducers, consumed, outputs);
  }

  /**
   * Another client of this bus, as a second process connected to the same broker: it shares the
   * topics, groups and positions, and has transactional producers of its own, so that its
   * hand-offs of a partition fence this bus's (and the reverse).
   */
  newClient(): MessageBusPort {
    const producers: TransactionalProducers = new Map();
    return {
      publish: (topic, messages) => this.publish(topic, messages),
      subscribe: (options) => this.subscribe(options),
      publishTransactionally: async (consumed, outputs) => this.handOff(producers, consumed, outputs),
    };
  }

  private handOff(producers: TransactionalProducers, consumed: ConsumedThrough, outputs: readonly TopicMessages[]): void {
    checkHandOff(consumed, outputs);
    const { groupId, topic, partition } = consumed;
    const action = `publishTransactionally (${describeOutputs(outputs)} with ${topic}[${partition}] through ${consumed.nextOffset} for group ${groupId})`;
    const input = this.topics.get(topic);
    if (input === undefined) throw new Error(`${action}: the input topic ${topic} does not exist`);
    if (partition >= input.length) throw new Error(`${action}: ${topic} has ${input.length} partition(s), no partition ${partition}`);
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(this);
      this.groups.set(groupId, group);
    }
    const transactionalId = JSON.stringify([groupId, topic, partition]);
    const nextOffset = Number(consumed.nextOffset);
    let epoch = producers.get(transactionalId);
    if (epoch === undefined) {
      epoch = (this.transactionalEpochs.get(transactionalId) ?? -1) + 1;
      this.transactionalEpochs.set(transactionalId, epoch);
      producers.set(transactionalId, epoch);
      const committed = group.committedPositions(topic)?.get(partition);
      if (committed !== undefined && committed >= nextOffset) return;
    } else if (epoch !== this.transactionalEpochs.get(transactionalId)) {
      producers.delete(transactionalId);
      throw new Error(`${action}: fenced, another client took over the partition's transactional id; nothing was published`);
    }
    try {
      if (!group.accepts(consumed.generation)) {
        throw new Error(`${action}: generation ${consumed.generation} is over (the group is at ${group.currentGeneration}); nothing was published`);
      }
      for (const output of outputs) {
        if (!this.topics.has(output.topic)) throw new Error(`${action}: the output topic ${output.topic} does not exist (a hand-off creates no topics)`);
        this.checkSizes(output.topic, output.messages);
      }
    } catch (error) {
      // As the Kafka bus discards its producer after any failure: the next hand-off takes a new epoch.
      producers.delete(transactionalId);
      throw error;
    }
    for (const output of outputs) this.append(output.topic, output.messages);
    group.handOff(topic, partition, nextOffset);
    for (const output of new Set(outputs.map(({ topic: name }) => name))) {
      for (const each of this.groups.values()) each.recordsArrived(output);
    }
  }

  private checkSizes(topic: string, messages: readonly OutboundMessage[]): void {
    const limit = this.maxMessageBytes.get(topic);
    if (limit === undefined) return;
    const index = messages.findIndex((message) => recordBytes(message) > limit);
    if (index >= 0) {
      throw new Error(`Message ${index} to ${topic} has ${recordBytes(messages[index]!)} bytes, over the topic's maxMessageBytes of ${limit}; nothing was published`);
    }
  }

  private append(topic: string, messages: readonly OutboundMessage[]): void {
    const partitions = this.partitionsOf(topic);
    for (const message of messages) {
      const partition =
        message.key === null ? this.roundRobin++ % partitions.length : partitionForKey(message.key, partitions.length);
      partitions[partition]!.push({
        key: message.key === null ? null : Buffer.from(message.key),
        // A copy, as Kafka's: the publisher may reuse its buffer once publish returns.
        value: Buffer.from(message.value),
        headers: (message.headers ?? []).map(({ key, value }) => ({ key, value: Buffer.from(value) })),
        timestamp: message.timestamp ?? this.now(),
      });
    }
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    subscriptionHandlerOf(options);
    this.partitionsOf(options.topic);
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = new ConsumerGroup(this);
      this.groups.set(options.groupId, group);
    }
    const subscription = group.join(options);
    this.subscriptions.add(subscription);
    const forget = (): void => void this.subscriptions.delete(subscription);
    subscription.done.then(forget, forget);
    return subscription;
  }

  async start(): Promise<void> {
    this.closed = false;
  }

  async ready(): Promise<void> {
    if (this.closed) throw new Error('the in-memory message bus is closed');
  }

  /** Stops the subscriptions made through this bus, each draining up to the deadline (default 30 s), as KafkaMessageBus.close. */
  async close(options: { deadlineMs?: number } = {}): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop(options)));
  }

  /**
   * Simulates a member whose session expired (a process frozen past its session timeout): the
   * group hands its partitions to the others without telling it, and what it acks from then on
   * commits nothing. At its next contact with the group (the next tick) it learns, and rejoins.
   */
  expireSession(subscription: Subscription): void {
    for (const group of this.groups.values()) if (group.expire(subscription)) return;
    throw new Error('expireSession: not a running member of any group of this bus');
  }

  // ---- Inspection, for tests, the demo and tooling ----

  /** Every record of a topic, in partition then offset order. */
  records(topic: string): InboundMessage[] {
    return this.partitionsOf(topic).flatMap((records, partition) =>
      records.map((record, offset) => toInbound(topic, partition, offset, record)),
    );
  }

  /** Whether the topic exists, without creating it as the other inspections do. */
  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  endOffsets(topic: string): number[] {
    return this.partitionsOf(topic).map((records) => records.length);
  }

  /** The committed position (next offset to read) of each partition; 0 when nothing is committed. */
  committed(groupId: string, topic: string): number[] {
    const positions = this.groups.get(groupId)?.committedPositions(topic);
    return this.endOffsets(topic).map((_, partition) => positions?.get(partition) ?? 0);
  }

  lag(groupId: string, topic: string): number {
    const committed = this.committed(groupId, topic);
    return this.endOffsets(topic).reduce((sum, end, partition) => sum + end - (committed[partition] ?? 0), 0);
  }

  /** Resolves once the group has committed everything published to the topic so far. */
  async caughtUp(groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lag(groupId, topic) > 0) {
      if (Date.now() > deadline) {
        throw new Error(`Group ${groupId} still lags ${this.lag(groupId, topic)} messages on ${topic} after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** @internal */
  partitionsOf(topic: string): StoredRecord[][] {
    if (!this.topics.has(topic)) this.createTopic(topic);
    return this.topics.get(topic)!;
  }
}

/** A client's producer epoch per transactional id; absent: no producer (yet, or discarded after a failure). */
type TransactionalProducers = Map<string, number>;

const recordBytes = ({ key, value, headers }: OutboundMessage): number =>
  (key === null ? 0 : Buffer.byteLength(key)) + value.length + (headers ?? []).reduce((sum, header) => sum + Buffer.byteLength(header.key) + header.value.length, 0);

const toInbound = (topic: string, partition: number, offset: number, record: StoredRecord): InboundMessage => ({
  topic,
  partition,
  offset: String(offset),
  key: record.key,
  value: record.value,
  headers: record.headers,
  timestamp: record.timestamp,
});

/**
 * Members share the partitions of the topics they subscribe to. Any join or leave reassigns
 * all partitions (an eager rebalance): a member that loses a partition stops delivering from
 * it, and the new owner starts at the committed position, so whatever was unacked is
 * delivered again.
 */
class ConsumerGroup {
  private readonly members = new Set<InMemorySubscription>();
  private readonly committed = new Map<string, Map<number, number>>();
  /** The furthest position hand-offs (publishTransactionally) committed, per topic and partition; a partition in it is theirs. */
  private readonly handedOff = new Map<string, Map<number, number>>();
  private generation = 0;

  constructor(readonly bus: InMemoryMessageBus) {}

  join(options: SubscriptionOptions): InMemorySubscription {
    const member = new InMemorySubscription(this, options);
    this.members.add(member);
    this.rebalance();
    return member;
  }

  leave(member: InMemorySubscription): void {
    if (this.members.delete(member)) this.rebalance();
  }

  /** The member's session expired: it is out of the group until it rejoins, and is not told. */
  expire(subscription: Subscription): boolean {
    const member = [...this.members].find((candidate) => candidate === subscription);
    if (member === undefined) return false;
    this.members.delete(member);
    this.rebalance();
    setImmediate(() => {
      if (!member.running) return;
      this.members.add(member);
      this.rebalance();
    });
    return true;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** Whether a hand-off of messages delivered in this generation may commit: a group that never had members accepts any. */
  accepts(generation: number): boolean {
    return this.generation === 0 || generation === this.generation;
  }

  commit(topic: string, partition: number, position: number, generation: number): void {
    // A member that lost the partition in a rebalance must not move the new owner's position.
    if (generation !== this.generation) return;
    // The position of a partition handed off is the hand-offs' alone (as the Kafka bus leaves the
    // subscription's commits of it out): acks trail hand-offs, so an earlier position would set a
    // hand-off's back, and on Kafka a later one, issued while the next hand-off is under way,
    // could be written after it.
    if (this.handedOff.get(topic)?.has(partition) === true) return;
    positionsOf(this.committed, topic).set(partition, position);
  }

  handOff(topic: string, partition: number, position: number): void {
    positionsOf(this.committed, topic).set(partition, position);
    const handedOff = positionsOf(this.handedOff, topic);
    handedOff.set(partition, Math.max(position, handedOff.get(partition) ?? -1));
  }

  committedPositions(topic: string): ReadonlyMap<number, number> | undefined {
    return this.committed.get(topic);
  }

  recordsArrived(topic: string): void {
    for (const member of this.members) if (member.topic === topic) member.schedulePump();
  }

  private rebalance(): void {
    for (const member of this.members) member.revoke();
    this.generation++;
    for (const member of this.members) member.unassigned();
    const byTopic = new Map<string, InMemorySubscription[]>();
    for (const member of this.members) byTopic.set(member.topic, [...(byTopic.get(member.topic) ?? []), member]);
    for (const [topic, members] of byTopic) {
      const partitions = this.bus.partitionsOf(topic).length;
      // Range assignment, as Kafka's default: contiguous blocks of partitions per member, in join order.
      const perMember = Math.floor(partitions / members.length);
      const extra = partitions % members.length;
      let next = 0;
      members.forEach((member, index) => {
        const count = perMember + (index < extra ? 1 : 0);
        const assigned = Array.from({ length: count }, (_, i) => next + i);
        next += count;
        member.assign(assigned, this.generation, (partition) => this.committed.get(topic)?.get(partition) ?? 0);
      });
    }
  }
}

const positionsOf = (byTopic: Map<string, Map<number, number>>, topic: string): Map<number, number> => {
  let positions = byTopic.get(topic);
  if (positions === undefined) {
    positions = new Map();
    byTopic.set(topic, positions);
  }
  return positions;
};

interface PartitionState {
  readonly partition: number;
  readonly offsets: PartitionOffsets;
  cursor: number;
  /** A nack happened: deliver nothing more until in-flight messages settle, then replay. */
  replaying: boolean;
}

class InMemorySubscription implements Subscription {
  readonly topic: string;
  readonly done: Promise<void>;
  private readonly handler: SubscriptionHandler;
  private readonly onPartitionsRevoked: () => void;
  private readonly onPartitionsAssigned: (partitions: readonly number[], generation: number) => void;
  private readonly maxInFlightOption: SubscriptionOptions['maxInFlight'];
  private readonly maxInFlightBytes: number;
  private maxInFlight: number;
  private partitions: PartitionState[] = [];
  private generation = 0;
  /** An assignment was handed over and no revocation has been called since. */
  private holdsAssignment = false;
  private readonly backoff: ReplayBackoff;
  private readonly replayTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private inFlightBytes = 0;
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  private pumpScheduled = false;
  private nextPartition = 0;
  private resolveDone!: () => void;
  private settledListeners: Array<() => void> = [];

  constructor(
    private readonly group: ConsumerGroup,
    options: SubscriptionOptions,
  ) {
    this.topic = options.topic;
    this.handler = subscriptionHandlerOf(options);
    this.onPartitionsRevoked = options.onPartitionsRevoked ?? (() => {});
    this.onPartitionsAssigned = options.onPartitionsAssigned ?? (() => {});
    this.maxInFlightOption = options.maxInFlight;
    this.maxInFlight = maxInFlightFor(options.maxInFlight, 0);
    this.maxInFlightBytes = maxInFlightBytesOf(options.maxInFlightBytes);
    this.backoff = new ReplayBackoff(group.bus.random);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  private get bounds(): { maxInFlight: number; maxInFlightBytes: number } {
    return { maxInFlight: this.maxInFlight, maxInFlightBytes: this.maxInFlightBytes };
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /**
   * Replaces the assignment. Deliveries still in flight from the old generation commit nothing
   * when they settle, but the handler still holds them: they count against maxInFlight until then.
   */
  assign(partitions: number[], generation: number, committedPosition: (partition: number) => number): void {
    // A member that lost its partitions without being told (expireSession) hears it now, before
    // anything of the new generation reaches it.
    this.revoke();
    this.generation = generation;
    this.holdsAssignment = true;
    this.maxInFlight = maxInFlightFor(this.maxInFlightOption, partitions.length);
    this.cancelReplays();
    this.backoff.clear();
    this.partitions = partitions.map((partition) => {
      const position = committedPosition(partition);
      return { partition, offsets: new PartitionOffsets(position), cursor: position, replaying: false };
    });
    if (this.state === 'running') this.onPartitionsAssigned(partitions, generation);
    this.schedulePump();
  }

  /** A rebalance begins: the handler may settle what it holds while the old generation still commits. */
  revoke(): void {
    if (!this.holdsAssignment) return;
    this.holdsAssignment = false;
    if (this.partitions.length > 0 && this.state === 'running') this.onPartitionsRevoked();
  }

  /** The group moved to a generation in which this member has nothing (yet): deliver nothing more. */
  unassigned(): void {
    this.partitions = [];
  }

  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.state !== 'running') return this.done;
    this.state = 'stopping';
    const deadline = options.deadlineMs ?? 30_000;
    await Promise.race([
      this.whenSettled(),
      new Promise<void>((resolve) => setTimeout(resolve, deadline).unref()),
    ]);
    // Acked positions were committed as they advanced; leaving hands the rest to the group.
    this.finish();
    return this.done;
  }

  /** Simulates a process killed with -9: no drain, no further commits, unacked work is redelivered to the group. */
  crash(): void {
    if (this.state === 'stopped') return;
    this.generation = -1;
    this.finish();
  }

  schedulePump(): void {
    if (this.pumpScheduled || this.state !== 'running') return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private finish(): void {
    this.state = 'stopped';
    this.cancelReplays();
    this.partitions = [];
    this.group.leave(this);
    this.resolveDone();
  }

  private pump(): void {
    const records = this.group.bus.partitionsOf(this.topic);
    let idle = 0;
    // Round-robin over partitions so one busy partition cannot starve the others.
    while (this.state === 'running' && this.inFlight < this.maxInFlight && this.partitions.length > 0) {
      const state = this.partitions[this.nextPartition % this.partitions.length]!;
      const log = records[state.partition]!;
      if (state.replaying || state.cursor >= log.length) {
        this.nextPartition++;
        if (++idle >= this.partitions.length) return;
        continue;
      }
      const record = log[state.cursor]!;
      // At the byte bound: wait for settlements, and keep this partition's turn (it goes first then).
      if (!hasRoomFor({ count: this.inFlight, bytes: this.inFlightBytes }, this.bounds, inFlightBytesOf(record))) return;
      this.nextPartition++;
      idle = 0;
      if (this.handler.kind === 'batch') {
        this.deliverBatch(state, log, this.handler.handler);
        continue;
      }
      const offset = state.cursor++;
      this.deliver(state, offset, record, this.handler.handler);
    }
  }

  /**
   * Hands over, as one batch, everything the partition has from its cursor on that fits the
   * in-flight bounds (at least one message: the caller checked that it fits).
   */
  private deliverBatch(state: PartitionState, log: readonly StoredRecord[], handler: BatchHandler): void {
    const messages: InboundMessage[] = [];
    do {
      const offset = state.cursor++;
      const record = log[offset]!;
      state.offsets.delivered(offset);
      this.inFlight++;
      this.inFlightBytes += inFlightBytesOf(record);
      messages.push(toInbound(this.topic, state.partition, offset, record));
    } while (
      state.cursor < log.length &&
      hasRoomFor({ count: this.inFlight, bytes: this.inFlightBytes }, this.bounds, inFlightBytesOf(log[state.cursor]!))
    );
    const batch = new TrackedDeliveryBatch(this.topic, state.partition, this.generation, messages, state, this.batchSettled);
    try {
      const result = handler(batch);
      if (result instanceof Promise) result.catch((error: unknown) => batch.nackUnacked(asError(error)));
    } catch (error) {
      batch.nackUnacked(asError(error));
    }
  }

  /** A batch's range settled: as deliveries' ack and nack, for the whole range at once. */
  private readonly batchSettled: BatchSettled<PartitionState> = (batch, first, last, nackReason) => {
    const state = batch.context;
    this.inFlight -= last - first + 1;
    this.inFlightBytes -= batch.bytesOf(first, last);
    if (batch.generation !== this.generation || !this.partitions.includes(state)) {
      this.afterSettle();
      return;
    }
    const firstOffset = Number(batch.messages[first]!.offset);
    const lastOffset = Number(batch.messages[last]!.offset);
    if (nackReason === undefined) {
      if (state.offsets.ackRange(firstOffset, lastOffset)) {
        this.backoff.progressed(state.partition);
        this.group.commit(this.topic, state.partition, state.offsets.position, batch.generation);
      }
    } else {
      state.replaying = true;
      state.offsets.nackRange(firstOffset, lastOffset);
    }
    this.afterSettle(state);
  };

  private deliver(state: PartitionState, offset: number, record: StoredRecord, handler: DeliveryHandler): void {
    const generation = this.generation;
    const bytes = inFlightBytesOf(record);
    state.offsets.delivered(offset);
    this.inFlight++;
    this.inFlightBytes += bytes;
    let settled = false;
    /** True when the settlement still counts for the position: same generation. */
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.inFlight--;
      this.inFlightBytes -= bytes;
      if (generation === this.generation && this.partitions.includes(state)) return true;
      this.afterSettle();
      return false;
    };
    const delivery: Delivery = {
      message: toInbound(this.topic, state.partition, offset, record),
      generation,
      ack: () => {
        if (!settle()) return;
        if (state.offsets.ack(offset)) {
          this.backoff.progressed(state.partition);
          this.group.commit(this.topic, state.partition, state.offsets.position, generation);
        }
        this.afterSettle(state);
      },
      nack: () => {
        if (!settle()) return;
        state.replaying = true;
        state.offsets.nack(offset);
        this.afterSettle(state);
      },
    };
    try {
      const result = handler(delivery);
      if (result instanceof Promise) result.catch((error: unknown) => delivery.nack(asError(error)));
    } catch (error) {
      delivery.nack(asError(error));
    }
  }

  private afterSettle(state?: PartitionState): void {
    if (state !== undefined && state.replaying && state.offsets.inFlight === 0) {
      // Replay from the first offset that is not done (the failed one or an earlier unacked one),
      // after the partition's backoff; the other partitions go on meanwhile.
      const generation = this.generation;
      const timer = setTimeout(() => {
        this.replayTimers.delete(timer);
        if (generation !== this.generation || !this.partitions.includes(state)) return;
        state.cursor = state.offsets.rewind();
        state.replaying = false;
        this.schedulePump();
      }, this.backoff.next(state.partition));
      this.replayTimers.add(timer);
    }
    if (this.inFlight === 0) this.notifySettled();
    this.schedulePump();
  }

  private cancelReplays(): void {
    for (const timer of this.replayTimers) clearTimeout(timer);
    this.replayTimers.clear();
  }

  private whenSettled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledListeners.push(resolve));
  }

  private notifySettled(): void {
    const listeners = this.settledListeners;
    this.settledListeners = [];
    for (const listener of listeners) listener();
  }
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
