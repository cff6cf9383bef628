import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { hasRoomFor, inFlightBytesOf, maxInFlightBytesOf, maxInFlightFor } from '../../application/delivery/in-flight-limits';
import { PartitionOffsets } from '../../application/delivery/partition-offsets';
import { ReplayBackoff } from '../../application/delivery/replay-backoff';
import { BatchSettled, SubscriptionHandler, subscriptionHandlerOf, TrackedDeliveryBatch } from '../../application/delivery/tracked-delivery-batch';
import { LoggerPort } from '../../application/ports/logger.port';
import { BatchHandler, Delivery, DeliveryHandler, InboundMessage, Subscription, SubscriptionOptions } from '../../application/ports/message-bus.port';
import { isGenerationLost, isRebalanceInProgress } from './kafka-errors';
import { fromKafkaHeaders } from './kafka-headers';

export interface KafkaSubscriptionSettings {
  /** The jitter of the replay backoff after a nack; default Math.random. */
  readonly random?: () => number;
  /** Acked positions are committed this often (never per message). */
  readonly commitIntervalMs: number;
  /** How long a rebalance waits for in-flight messages before the partitions are given up. */
  readonly rebalanceDrainMs: number;
  /** How often a batch that waits for capacity heartbeats (kafkajs throttles to its own interval). */
  readonly heartbeatIntervalMs: number;
  readonly logger: LoggerPort;
  /** Turns a kafkajs error into one an operator can act on (and that holds no secret). */
  readonly explain: (error: unknown, action: string) => Error;
}

/** One partition of the current assignment, from the first offset delivered after a join or a replay. */
interface PartitionState {
  readonly partition: number;
  readonly offsets: PartitionOffsets;
  /** The next offset expected from Kafka; anything below was delivered already. */
  next: number;
  lastCommitted: number;
  /** The generation (count of group joins) this tracking belongs to. */
  readonly generation: number;
  /** A nack happened: deliver nothing more until the in-flight messages settle, then seek and replay. */
  halted: boolean;
  /** The replay after the nack waits for its backoff. */
  replayScheduled: boolean;
}

/**
 * One consumer-group member on kafkajs, with the port's explicit acks.
 *
 * kafkajs hands over a batch per partition (`eachBatch`). A per-message handler gets each message
 * at once as a Delivery, up to `maxInFlight` unacked across the subscription, and acks later. A
 * batch handler gets the kafkajs batch as DeliveryBatch runs instead: one call per run, a run
 * ending only where the next message would exceed an in-flight bound or where the kafkajs batch
 * ends, with no Delivery, promise or closure per message; its range acks and nacks feed the same
 * bookkeeping. The batch callback does not wait for acks — a sink may hold messages until its
 * object is written — so fetching goes on while handlers work. Positions are tracked per
 * partition with PartitionOffsets and committed on an interval, only past contiguous acked runs.
 * At the bound, all partitions are paused and the batch callback waits (heartbeating) until half
 * the capacity is free again.
 *
 * A nack halts its partition: it is paused, its in-flight messages settle, and after the
 * partition's replay backoff (ReplayBackoff) it seeks back to the first unacked offset and
 * resumes, so the nacked message and everything after it are delivered again.
 *
 * In-flight work is bounded by count (maxInFlight, re-evaluated on every assignment when it is a
 * function of the partitions assigned) and by the key and value bytes of unsettled messages
 * (maxInFlightBytes; a larger message is delivered alone).
 *
 * Rebalances. kafkajs has no onPartitionsRevoked hook; a member learns of a rebalance when a
 * heartbeat or commit fails with REBALANCE_IN_PROGRESS; the port's `onPartitionsRevoked` is called
 * then, so a handler holding messages can settle them. When that happens in a batch callback
 * (where the subscription waits for capacity, and at the end of every batch), the subscription
 * drains: it waits up to `rebalanceDrainMs` for in-flight messages, commits, and only then lets
 * kafkajs rejoin — the group still accepts commits of the old generation while it prepares the
 * rebalance. When kafkajs finds out between batches instead, the REBALANCING event triggers an
 * immediate commit of what is acked; messages still in flight then are redelivered to the next
 * owner. On GROUP_JOIN a new generation begins: all tracking starts afresh from the committed
 * positions, and the acks of deliveries and batches made before it are ignored (they still count
 * against the in-flight bounds until they settle).
 *
 * Generations. kafkajs also rejoins without any REBALANCING event: after UNKNOWN_MEMBER_ID in its
 * fetch loop (a session that expired while the process was frozen) and when it restarts after a
 * crash. Meanwhile another member may have owned the partitions and committed past what this one
 * holds, so every GROUP_JOIN and CRASH that no revocation preceded calls onPartitionsRevoked
 * before anything of the next generation is delivered, and UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION
 * and FENCED_INSTANCE_ID from a heartbeat or a commit count as a rebalance (without the drain:
 * the group accepts no commit of that generation any more).
 */
export class KafkaSubscription implements Subscription {
  readonly done: Promise<void>;
  private readonly topic: string;
  private readonly handler: SubscriptionHandler;
  private readonly onPartitionsRevoked: () => void;
  private readonly onPartitionsAssigned: (partitions: readonly number[], generation: number) => void;
  private readonly maxInFlightOption: SubscriptionOptions['maxInFlight'];
  private readonly maxInFlightBytes: number;
  private maxInFlight: number;
  private resumeBelow: number;
  private partitions = new Map<number, PartitionState>();
  /** Group joins so far: the generation of what is delivered now. */
  private generation = 0;
  /** A generation was assigned and no revocation has been called since. */
  private holdsAssignment = false;
  private readonly backoff: ReplayBackoff;
  private readonly replayTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private inFlightBytes = 0;
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  private throttled = false;
  private rebalancing = false;
  private readonly changed = new Signal();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private crash: Error | undefined;

  private constructor(
    private readonly consumer: Consumer,
    options: SubscriptionOptions,
    private readonly settings: KafkaSubscriptionSettings,
  ) {
    this.topic = options.topic;
    this.handler = subscriptionHandlerOf(options);
    this.onPartitionsRevoked = options.onPartitionsRevoked ?? (() => {});
    this.onPartitionsAssigned = options.onPartitionsAssigned ?? (() => {});
    this.maxInFlightOption = options.maxInFlight;
    this.maxInFlight = maxInFlightFor(options.maxInFlight, 0);
    this.resumeBelow = Math.floor(this.maxInFlight / 2);
    this.maxInFlightBytes = maxInFlightBytesOf(options.maxInFlightBytes);
    this.backoff = new ReplayBackoff(settings.random);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A crash rejects `done` even when nobody awaits it yet; that must not kill the process.
    this.done.catch(() => undefined);
  }

  /** Joins the group and starts delivering; rejects when the consumer cannot connect or join. */
  static async start(consumer: Consumer, options: SubscriptionOptions, settings: KafkaSubscriptionSettings): Promise<KafkaSubscription> {
    const subscription = new KafkaSubscription(consumer, options, settings);
    subscription.listen();
    try {
      await consumer.connect();
      // Earliest, as the seed: a new group reads the whole retained topic rather than skip it.
      await consumer.subscribe({ topic: options.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => subscription.eachBatch(payload),
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw settings.explain(error, `subscribing group ${options.groupId} to ${options.topic}`);
    }
    // kafkajs reports a failed first join through its crash handler, not by rejecting run().
    if (subscription.crash !== undefined) throw subscription.crash;
    subscription.commitTimer = setInterval(() => {
      if (!subscription.rebalancing) void subscription.commit();
    }, settings.commitIntervalMs).unref();
    return subscription;
  }

  stop(options: { deadlineMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.deadlineMs ?? 30_000);
    return this.stopping;
  }

  /** False once stop() began or a fatal error ended it: kafkajs must then not restart the consumer. */
  get active(): boolean {
    return this.state === 'running';
  }

  private listen(): void {
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[this.topic] ?? [];
      // kafkajs may have rejoined without a REBALANCING event (UNKNOWN_MEMBER_ID in its fetch
      // loop, a restart after a crash): the handler still hears that its partitions went.
      this.revoke();
      // A new generation: positions restart from the committed ones, earlier deliveries are fenced.
      this.generation++;
      this.partitions = new Map();
      this.rebalancing = false;
      this.holdsAssignment = true;
      this.cancelReplays();
      this.backoff.clear();
      try {
        this.maxInFlight = maxInFlightFor(this.maxInFlightOption, assigned.length);
      } catch (error) {
        this.fail(asError(error));
        return;
      }
      this.resumeBelow = Math.floor(this.maxInFlight / 2);
      this.setThrottled(this.overBounds());
      this.settings.logger.info(
        { topic: this.topic, groupId: payload.groupId, partitions: assigned, generation: this.generation, maxInFlight: this.maxInFlight },
        'Kafka subscription assigned partitions',
      );
      if (this.state === 'running') this.onPartitionsAssigned(assigned, this.generation);
      this.changed.notify();
    });
    this.consumer.on(events.REBALANCING, () => {
      this.beginRebalance();
      void this.commit();
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      // kafkajs has left the group already; a restart rejoins from the committed positions.
      this.revoke();
      this.partitions = new Map();
      this.cancelReplays();
      if (payload.restart) {
        this.settings.logger.warn({ topic: this.topic, err: payload.error.message }, 'Kafka consumer crashed; kafkajs restarts it');
        return;
      }
      this.fail(this.settings.explain(payload.error, `consuming ${this.topic}`));
    });
  }

  // ---- Delivery ----

  private eachBatch(payload: EachBatchPayload): Promise<void> {
    return this.handler.kind === 'batch' ? this.handOverInRuns(payload, this.handler.handler) : this.deliverEach(payload, this.handler.handler);
  }

  private async deliverEach({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload, handler: DeliveryHandler): Promise<void> {
    const first = batch.messages[0];
    if (first === undefined) return;
    const state = this.partitions.get(batch.partition) ?? this.track(batch.partition, Number(first.offset));
    const running = (): boolean => this.state === 'running' && !this.rebalancing && isRunning();
    const mayDeliver = (): boolean => running() && !state.halted && this.partitions.get(state.partition) === state && !isStale();

    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // Below `next` it was delivered already since the last join or replay (a kafkajs refetch).
      if (offset >= state.next) {
        const bytes = inFlightBytesOf(message);
        if (!this.hasRoomFor(bytes)) this.setThrottled(true);
        if (!(await this.waitWhile(() => !this.hasRoomFor(bytes), mayDeliver, heartbeat))) break;
        this.deliver(state, message, handler);
      }
      // Unresolved offsets are fetched again: only what reached the handler moves the fetch position.
      resolveOffset(message.offset);
    }
    // Returning at capacity would only fetch what cannot be delivered; waiting here also keeps the
    // rebalance check (and with it the drain) in this callback rather than in kafkajs's fetch loop.
    await this.waitWhile(() => this.throttled, running, heartbeat);
    await this.heartbeatOrDrain(heartbeat);
  }

  /**
   * The batch handler's loop: the kafkajs batch goes over in runs, a run ending only where the
   * next message would exceed an in-flight bound (it is handed over, then the loop waits for room
   * as deliverEach does) or where the kafkajs batch ends. A run is counted in flight as it grows,
   * so the bounds hold for it as for single deliveries; between two handovers nothing else can
   * change what the loop may do (that takes a handler call or a wait), so a run grows unchecked.
   */
  private async handOverInRuns({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const first = batch.messages[0];
    if (first === undefined) return;
    const state = this.partitions.get(batch.partition) ?? this.track(batch.partition, Number(first.offset));
    const running = (): boolean => this.state === 'running' && !this.rebalancing && isRunning();
    const mayDeliver = (): boolean => running() && !state.halted && this.partitions.get(state.partition) === state && !isStale();
    let run: InboundMessage[] = [];
    /** The last message handed over or skipped: kafkajs fetches again after what is resolved. */
    let visited: string | undefined;
    const handOver = (): void => {
      if (run.length > 0) this.deliverRun(state, run, handler);
      run = [];
      if (visited !== undefined) resolveOffset(visited);
    };

    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // Below `next` it was delivered already since the last join or replay (a kafkajs refetch).
      if (offset >= state.next) {
        const bytes = inFlightBytesOf(message);
        if (!this.hasRoomFor(bytes)) {
          handOver();
          if (!this.hasRoomFor(bytes)) this.setThrottled(true);
        }
        if (run.length === 0 && !(await this.waitWhile(() => !this.hasRoomFor(bytes), mayDeliver, heartbeat))) break;
        state.offsets.delivered(offset);
        state.next = offset + 1;
        this.inFlight++;
        this.inFlightBytes += bytes;
        if (this.overBounds()) this.setThrottled(true);
        run.push(toInboundMessage(this.topic, state.partition, message));
      }
      visited = message.offset;
    }
    handOver();
    await this.waitWhile(() => this.throttled, running, heartbeat);
    await this.heartbeatOrDrain(heartbeat);
  }

  private deliverRun(state: PartitionState, messages: InboundMessage[], handler: BatchHandler): void {
    const batch = new TrackedDeliveryBatch(this.topic, state.partition, state.generation, messages, state, this.batchSettled);
    // A handler that throws or rejects has not processed what it did not ack.
    try {
      void Promise.resolve(handler(batch)).catch((error: unknown) => batch.nackUnacked(asError(error)));
    } catch (error) {
      batch.nackUnacked(asError(error));
    }
  }

  /** Part of a batch settled: what a delivery's ack or nack does, for the whole range. */
  private readonly batchSettled: BatchSettled<PartitionState> = (batch, first, last, nackReason) => {
    const state = batch.context;
    if (!this.release(state, last - first + 1, batch.bytesOf(first, last))) return;
    const firstOffset = Number(batch.messages[first]!.offset);
    const lastOffset = Number(batch.messages[last]!.offset);
    if (nackReason === undefined) {
      this.acked(state, state.offsets.ackRange(firstOffset, lastOffset));
    } else {
      state.offsets.nackRange(firstOffset, lastOffset);
      this.nacked(state, firstOffset, nackReason);
    }
  };

  /** Waits, heartbeating, while `busy()`; returns whether the batch may go on. */
  private async waitWhile(busy: () => boolean, mayGoOn: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    while (mayGoOn() && busy()) {
      await this.changed.wait(this.settings.heartbeatIntervalMs);
      await this.heartbeatOrDrain(heartbeat);
    }
    return mayGoOn();
  }

  private hasRoomFor(bytes: number): boolean {
    return hasRoomFor({ count: this.inFlight, bytes: this.inFlightBytes }, { maxInFlight: this.maxInFlight, maxInFlightBytes: this.maxInFlightBytes }, bytes);
  }

  private overBounds(): boolean {
    return this.inFlight >= this.maxInFlight || this.inFlightBytes >= this.maxInFlightBytes;
  }

  private track(partition: number, offset: number, lastCommitted = offset): PartitionState {
    const state: PartitionState = {
      partition,
      offsets: new PartitionOffsets(offset),
      next: offset,
      lastCommitted,
      generation: this.generation,
      halted: false,
      replayScheduled: false,
    };
    this.partitions.set(partition, state);
    return state;
  }

  private deliver(state: PartitionState, message: KafkaMessage, handler: DeliveryHandler): void {
    const offset = Number(message.offset);
    const bytes = inFlightBytesOf(message);
    state.offsets.delivered(offset);
    state.next = offset + 1;
    this.inFlight++;
    this.inFlightBytes += bytes;
    if (this.overBounds()) this.setThrottled(true);

    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      return this.release(state, 1, bytes);
    };
    const delivery: Delivery = {
      message: toInboundMessage(this.topic, state.partition, message),
      generation: state.generation,
      ack: () => {
        if (settle()) this.acked(state, state.offsets.ack(offset));
      },
      nack: (reason: Error) => {
        if (!settle()) return;
        state.offsets.nack(offset);
        this.nacked(state, offset, reason);
      },
    };
    // A handler that throws or rejects has not processed the message: that is a nack.
    try {
      void Promise.resolve(handler(delivery)).catch((error: unknown) => delivery.nack(asError(error)));
    } catch (error) {
      delivery.nack(asError(error));
    }
  }

  /**
   * Settled messages free their in-flight capacity, whatever generation they belong to. Returns
   * true when the settlement still counts for the position: same assignment, same replay epoch,
   * not stopped.
   */
  private release(state: PartitionState, count: number, bytes: number): boolean {
    this.inFlight -= count;
    this.inFlightBytes -= bytes;
    if (this.throttled && this.inFlight <= this.resumeBelow && this.inFlightBytes <= this.maxInFlightBytes / 2) this.setThrottled(false);
    this.changed.notify();
    return this.state !== 'stopped' && this.partitions.get(state.partition) === state;
  }

  private acked(state: PartitionState, positionMoved: boolean): void {
    if (positionMoved) this.backoff.progressed(state.partition);
    this.replayIfDrained(state);
  }

  /** Halts the partition (once per replay epoch); it replays once its in-flight messages settle. */
  private nacked(state: PartitionState, offset: number, reason: Error): void {
    if (!state.halted) {
      state.halted = true;
      this.applyPauses();
      this.settings.logger.info(
        { topic: this.topic, partition: state.partition, offset, reason: reason.message },
        'Message nacked: partition paused until its in-flight messages settle, then replayed from the first unacked offset',
      );
    }
    this.replayIfDrained(state);
  }

  /** Once a halted partition's in-flight messages have settled, replays it after its backoff. */
  private replayIfDrained(state: PartitionState): void {
    if (!state.halted || state.replayScheduled || state.offsets.inFlight > 0) return;
    state.replayScheduled = true;
    const timer = setTimeout(() => {
      this.replayTimers.delete(timer);
      if (this.state === 'running' && this.partitions.get(state.partition) === state) this.replay(state);
    }, this.backoff.next(state.partition));
    this.replayTimers.add(timer);
  }

  private replay(state: PartitionState): void {
    const position = state.offsets.position;
    this.track(state.partition, position, state.lastCommitted);
    try {
      this.consumer.seek({ topic: this.topic, partition: state.partition, offset: String(position) });
    } catch (error) {
      // Only while kafkajs restarts the consumer; the rejoin then reads from the committed position.
      this.settings.logger.warn({ topic: this.topic, partition: state.partition, err: asError(error).message }, 'Kafka seek failed');
    }
    this.applyPauses();
  }

  // ---- Flow control ----

  private setThrottled(throttled: boolean): void {
    this.throttled = throttled;
    this.applyPauses();
  }

  /** Fetch nothing while stopping or at capacity; otherwise everything but the halted partitions. */
  private applyPauses(): void {
    try {
      if (this.state !== 'running' || this.throttled) {
        this.consumer.pause([{ topic: this.topic }]);
        return;
      }
      this.consumer.resume([{ topic: this.topic }]);
      const halted = [...this.partitions.values()].filter((state) => state.halted).map((state) => state.partition);
      if (halted.length > 0) this.consumer.pause([{ topic: this.topic, partitions: halted }]);
    } catch {
      // kafkajs refuses while it restarts the consumer; the next GROUP_JOIN applies the pauses.
    }
  }

  /** Heartbeats; when the group turns out to be rebalancing, drains and commits before kafkajs rejoins. */
  private async heartbeatOrDrain(heartbeat: () => Promise<void>): Promise<void> {
    try {
      await heartbeat();
    } catch (error) {
      // The generation is over already: stop delivering and release, no drain (no commit would land).
      if (isGenerationLost(error)) this.beginRebalance();
      else if (isRebalanceInProgress(error) && this.beginRebalance()) {
        const drained = await this.whenSettled(this.settings.rebalanceDrainMs);
        await this.commit();
        this.settings.logger.info(
          { topic: this.topic, drained, stillInFlight: this.inFlight },
          'Kafka group rebalancing: committed acked positions before rejoining',
        );
      }
      throw error;
    }
  }

  /**
   * The one place a rebalance is noticed, whether by our heartbeat or by kafkajs's fetch loop:
   * deliver nothing more, and let the handler settle what it holds (onPartitionsRevoked) while
   * the old generation can still commit. Returns false when the rebalance was already noticed.
   */
  private beginRebalance(): boolean {
    if (this.rebalancing) return false;
    this.rebalancing = true;
    this.changed.notify();
    this.revoke();
    return true;
  }

  /** Tells the handler its partitions go, once per generation, however the subscription found out. */
  private revoke(): void {
    if (!this.holdsAssignment) return;
    this.holdsAssignment = false;
    if (this.state === 'running') this.onPartitionsRevoked();
  }

  private cancelReplays(): void {
    for (const timer of this.replayTimers) clearTimeout(timer);
    this.replayTimers.clear();
  }

  // ---- Commits ----

  /** Serialised, so that an older position can never land after a newer one. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(() => this.commitAckedPositions());
    return this.committing;
  }

  private async commitAckedPositions(): Promise<void> {
    const due = [...this.partitions.values()]
      .map((state) => ({ state, position: state.offsets.position }))
      .filter(({ state, position }) => position > state.lastCommitted);
    if (due.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        due.map(({ state, position }) => ({ topic: this.topic, partition: state.partition, offset: String(position) })),
      );
      for (const { state, position } of due) state.lastCommitted = Math.max(state.lastCommitted, position);
    } catch (error) {
      // The member lost its partitions (a session that expired while it was frozen): deliver
      // nothing more of this generation and release what the handler holds.
      if (isGenerationLost(error)) this.beginRebalance();
      // Retried at the next interval; at worst the messages are redelivered, never lost.
      this.settings.logger.warn({ topic: this.topic, err: asError(error).message }, 'Kafka offset commit failed');
    }
  }

  // ---- Lifecycle ----

  private async shutdown(deadlineMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    clearInterval(this.commitTimer);
    this.cancelReplays();
    this.applyPauses();
    this.changed.notify();
    if (!(await this.whenSettled(deadlineMs))) {
      this.settings.logger.warn(
        { topic: this.topic, inFlight: this.inFlight, deadlineMs },
        'Messages still in flight at the stop deadline; they stay uncommitted and are redelivered',
      );
    }
    await this.commit();
    this.state = 'stopped';
    try {
      await this.consumer.disconnect();
    } catch (error) {
      this.settings.logger.warn({ topic: this.topic, err: asError(error).message }, 'Kafka consumer disconnect failed');
    }
    this.changed.notify();
    this.settings.logger.info({ topic: this.topic }, 'Kafka subscription stopped');
    this.resolveDone();
  }

  private fail(error: Error): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.crash = error;
    clearInterval(this.commitTimer);
    this.cancelReplays();
    this.changed.notify();
    this.settings.logger.error({ topic: this.topic, err: error.message }, 'Kafka subscription ended by a fatal error');
    this.rejectDone(error);
  }

  private async whenSettled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await this.changed.wait(remaining);
    }
    return true;
  }
}

/** Wakes every waiter on notify; a wait also ends after its timeout. */
class Signal {
  private waiters: Array<() => void> = [];

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.push(wake);
    });
  }
}

/** A kafkajs message in the port's terms; the benchmark's seed-design loop uses it too, so B4 decodes as B3 does. */
export const toInboundMessage = (topic: string, partition: number, message: KafkaMessage): InboundMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key,
  value: message.value,
  headers: fromKafkaHeaders(message.headers),
  timestamp: Number(message.timestamp),
});

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
