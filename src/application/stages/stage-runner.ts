import { rejection, Rejection } from '../../domain/rejection';
import { err, ok, Result } from '../../domain/result';
import { ClockPort } from '../ports/clock.port';
import { DeadLetterPort } from '../ports/dead-letter.port';
import { LoggerPort } from '../ports/logger.port';
import { DeliveryBatch, InboundMessage, MessageBusPort, OutboundMessage, Subscription, SubscriptionOptions, TopicMessages } from '../ports/message-bus.port';
import { StageMetricsPort, StageTarget } from '../ports/stage-metrics.port';
import { Sleep } from '../retry';
import { ProbeBackoff } from '../write-gate';
import { assertStageName, BatchStage, Emission, EventStage, Stage, StageInput, StageOutcome } from './stage';
import { StageWrites, TargetWords } from './stage-writes';

export interface StageRunnerDeps {
  readonly bus: MessageBusPort;
  /** The dead-letter topic of each input topic (`<input>.dlq`, or the archive's DLQ_TOPIC). */
  readonly deadLetters: (inputTopic: string) => DeadLetterPort;
  readonly metrics: StageMetricsPort;
  readonly logger: LoggerPort;
  readonly clock: ClockPort;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

export interface StageRunOptions {
  /** The consumer group of each input topic (see stageGroupId). */
  readonly groupId: (inputTopic: string) => string;
  /** Delivered-but-unacked messages per subscription at most (or a function of the partitions assigned). */
  readonly maxInFlight: SubscriptionOptions['maxInFlight'];
  readonly maxInFlightBytes?: number;
  /** How a failing target is probed until it works again (see WriteGate). */
  readonly backoff: ProbeBackoff;
  /** The log's words for a failing target, where the stage has its own ("Archive write failed"). */
  readonly words?: Partial<Record<StageTarget, TargetWords>>;
  /** Told of every dead letter once written. */
  readonly onDeadLettered?: (code: Rejection['code']) => void;
}

/**
 * The consumer group of a stage's input: `<prefix>orderflow-<stage>`, and for a stage with
 * several inputs one group per input (`…-<stage>.<topic>`): kafkajs's assigners hand out the
 * partitions of every topic any member subscribes to, so members of one group must subscribe
 * to the same topics.
 */
export const stageGroupId = (prefix: string, stage: string, inputTopic: string, inputs: number): string =>
  inputs > 1 ? `${prefix}orderflow-${stage}.${inputTopic}` : `${prefix}orderflow-${stage}`;

/** A stage as it runs: its subscriptions, its health, and how to stop it. */
export interface RunningStage {
  readonly name: string;
  /** Resolves when every subscription has ended by stop(); rejects with the first fatal error. */
  readonly done: Promise<void>;
  /** One per input topic. */
  readonly subscriptions: readonly Subscription[];
  /** The targets whose writes are failing right now, held and probed; empty when healthy. */
  failing(): readonly StageTarget[];
  /** Cuts retries short, drains in-flight work up to the deadline, commits and leaves the groups. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Runs stages on the message bus (adr/0016): subscribes each input, decodes, handles, publishes
 * every output, dead-letters rejections, and acks an input only once everything it caused is
 * durable — its outputs (in one Kafka transaction with the input position when the stage is
 * exactly-once), its dead letter, and its side effect. A failing write is held and retried
 * through a WriteGate per target, never skipped; shutdown cuts the retries short and leaves the
 * inputs unacked, to be handled again after the restart.
 *
 * Cheap per message: the bus hands over a partition's batch in one call; a stage whose codec and
 * handler answer synchronously is run without any promise per message (only a failure takes the
 * slow path through the gate); outputs are published once per batch and the batch is acked as one
 * offset range. An `ordered` stage sees a partition's messages one after the other (its batches
 * are chained); a `concurrent` one handles a batch's messages at once.
 */
export class StageRunner {
  constructor(private readonly deps: StageRunnerDeps) {}

  async run(stage: Stage, options: StageRunOptions): Promise<RunningStage> {
    assertStageName(stage.name);
    return stage.kind === 'event' ? runEventStage(stage, options, this.deps) : runBatchStage(stage, options, this.deps);
  }
}

const runBatchStage = async (stage: BatchStage, options: StageRunOptions, deps: StageRunnerDeps): Promise<RunningStage> => {
  const subscription = await deps.bus.subscribe({
    topic: stage.topic,
    groupId: options.groupId(stage.topic),
    batchHandler: stage.handleBatch,
    maxInFlight: stage.maxInFlight ?? options.maxInFlight,
    ...(options.maxInFlightBytes === undefined ? {} : { maxInFlightBytes: options.maxInFlightBytes }),
    ...(stage.onPartitionsRevoked === undefined ? {} : { onPartitionsRevoked: stage.onPartitionsRevoked }),
    ...(stage.onPartitionsAssigned === undefined ? {} : { onPartitionsAssigned: stage.onPartitionsAssigned }),
  });
  return {
    name: stage.name,
    done: subscription.done,
    subscriptions: [subscription],
    failing: () => stage.failing?.() ?? [],
    stop: async (deadlineMs = DEFAULT_DEADLINE_MS) => {
      stage.stop();
      await subscription.stop({ deadlineMs });
    },
  };
};

const runEventStage = async (stage: EventStage, options: StageRunOptions, deps: StageRunnerDeps): Promise<RunningStage> => {
  const run = new EventStageRun(stage, options, deps);
  const subscriptions: Subscription[] = [];
  try {
    for (const input of stage.inputs) subscriptions.push(await deps.bus.subscribe(run.subscriptionFor(input)));
  } catch (error) {
    // A later input failed to subscribe: the earlier ones must not keep consuming on their own.
    run.abort();
    await Promise.allSettled(subscriptions.map((subscription) => subscription.stop({ deadlineMs: DEFAULT_DEADLINE_MS })));
    throw error;
  }
  const companion = run.startCompanion();
  return {
    name: stage.name,
    done: Promise.all([...subscriptions.map((subscription) => subscription.done), companion]).then(() => undefined),
    subscriptions,
    failing: () => run.failing(),
    stop: async (deadlineMs = DEFAULT_DEADLINE_MS) => {
      run.abort();
      await Promise.all([...subscriptions.map((subscription) => subscription.stop({ deadlineMs })), companion.catch(() => undefined)]);
    },
  };
};

const DEFAULT_DEADLINE_MS = 30_000;

/** A message's outcome, or the sign that shutdown came before it was handled. */
const STOPPED = Symbol('stopped');
type Handled = StageOutcome | typeof STOPPED;
const passOn = (outcome: Handled): Handled => outcome;

class EventStageRun {
  private readonly stopping = new AbortController();
  private readonly writes: StageWrites;
  /** The last batch of each partition of an ordered stage: the next one starts after it. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly stage: EventStage,
    private readonly options: StageRunOptions,
    private readonly deps: StageRunnerDeps,
  ) {
    this.writes = new StageWrites(
      {
        stage: stage.name,
        deadLetters: deps.deadLetters,
        metrics: deps.metrics,
        logger: deps.logger,
        clock: deps.clock,
        ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
        ...(deps.random === undefined ? {} : { random: deps.random }),
        ...(options.onDeadLettered === undefined ? {} : { onDeadLettered: options.onDeadLettered }),
      },
      options.backoff,
      this.stopping.signal,
      options.words,
    );
  }

  subscriptionFor(input: StageInput<unknown>): SubscriptionOptions {
    const groupId = this.options.groupId(input.topic);
    return {
      topic: input.topic,
      groupId,
      maxInFlight: this.options.maxInFlight,
      ...(this.options.maxInFlightBytes === undefined ? {} : { maxInFlightBytes: this.options.maxInFlightBytes }),
      // An exactly-once stage's hand-offs commit positions, so they must happen in offset order:
      // a later batch's would commit past an earlier one still under way, which a crash would lose.
      batchHandler:
        this.stage.ordering === 'ordered' || this.stage.exactlyOnce
          ? (batch) => this.chain(input, groupId, batch)
          : (batch) => this.process(input, groupId, batch),
    };
  }

  failing(): readonly StageTarget[] {
    return this.writes.failing;
  }

  abort(): void {
    this.stopping.abort();
    this.stage.stop?.();
  }

  /** The stage's companion, if it has one; resolves at once when it has none. */
  startCompanion(): Promise<void> {
    const companion = this.stage.companion;
    if (companion === undefined) return Promise.resolve();
    return companion.run({ deadLetter: (original, reason) => this.writes.deadLetter(original, reason), signal: this.stopping.signal });
  }

  /** Ordered stages: a partition's batches one after the other; the bus need not wait for them. */
  private chain(input: StageInput<unknown>, groupId: string, batch: DeliveryBatch): void {
    const key = `${batch.topic}\u0000${batch.partition}`;
    const previous = this.tails.get(key);
    const tail = previous === undefined ? this.process(input, groupId, batch) : previous.then(() => this.process(input, groupId, batch));
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
  }

  /** Handles a batch, publishes what it caused, then acks it as one range. Never rejects. */
  private async process(input: StageInput<unknown>, groupId: string, batch: DeliveryBatch): Promise<void> {
    if (this.stage.ordering === 'concurrent') return this.processConcurrently(input, groupId, batch);
    const { messages } = batch;
    const outputs = new Map<string, OutboundMessage[]>();
    const deadLetters: Promise<boolean>[] = [];
    let handled = messages.length;
    for (let i = 0; i < messages.length; i++) {
      let outcome = this.handle(input, messages[i]!, passOn);
      if (outcome instanceof Promise) outcome = await outcome;
      if (outcome === STOPPED) {
        handled = i;
        break;
      }
      this.collect(outcome, messages[i]!, outputs, deadLetters);
    }
    if (handled === 0) return batch.nack(0, stoppedError(batch, 0));
    if (!(await this.complete(batch, groupId, 0, handled, outputs, deadLetters))) return batch.nack(0, stoppedError(batch, 0));
    if (handled < messages.length) batch.nack(handled, stoppedError(batch, handled));
  }

  /**
   * A concurrent stage handles a batch's messages at once, and acks the longest prefix whose work is
   * done as it grows, as a per-message ack would: one slow write (or a dead letter that cannot be
   * written yet) holds back only what comes after it. The prefix is handed off in as few steps as
   * that allows: a step takes everything that finished before it starts, that is while the previous
   * step was under way (the first: everything handled synchronously), so an exactly-once stage
   * commits a transaction per step, not per message; one per message cost a Kafka transaction per
   * event and capped the lifecycle at a few dozen orders a second. A dead letter is a step of its
   * own, so what precedes it is acked without waiting for it; it is written as soon as the prefix
   * reaches it.
   */
  private async processConcurrently(input: StageInput<unknown>, groupId: string, batch: DeliveryBatch): Promise<void> {
    const { messages } = batch;
    const outcomes: Array<StageOutcome | undefined> = new Array(messages.length);
    interface Step {
      readonly from: number;
      to: number;
      readonly outputs: Map<string, OutboundMessage[]>;
      /** A rejected input's, or those of outputs that could not be encoded (a bug, rare): acked with their step. */
      readonly deadLetters: Promise<boolean>[];
    }
    /** Cut, in offset order, waiting for the steps before them. */
    const cut: Step[] = [];
    /** What finished since the last cut: grows until a step starts with it. */
    let open: Step | undefined;
    let next = 0;
    let acked = 0;
    let stopped = false;
    let draining: Promise<void> | undefined;
    const drain = async (): Promise<void> => {
      for (;;) {
        const step = cut.shift() ?? open;
        if (step === undefined || stopped) break;
        if (step === open) open = undefined;
        if (!(await this.complete(batch, groupId, step.from, step.to, step.outputs, step.deadLetters))) stopped = true;
        else acked = step.to;
      }
      // Synchronously with the last look at `open`: an outcome recorded from now on starts a new drain.
      draining = undefined;
    };
    const advance = (): void => {
      while (next < messages.length && outcomes[next] !== undefined) {
        const outcome = outcomes[next]!;
        if (outcome.kind === 'reject') {
          if (open !== undefined) cut.push(open);
          open = undefined;
          const alone: Step = { from: next, to: next + 1, outputs: new Map(), deadLetters: [] };
          this.collect(outcome, messages[next]!, alone.outputs, alone.deadLetters);
          cut.push(alone);
        } else {
          open ??= { from: next, to: next, outputs: new Map(), deadLetters: [] };
          this.collect(outcome, messages[next]!, open.outputs, open.deadLetters);
          open.to = next + 1;
        }
        next++;
      }
      // A microtask later, so that the messages handled synchronously go into one step together.
      if (draining === undefined && !stopped && (cut.length > 0 || open !== undefined)) draining = Promise.resolve().then(drain);
    };
    // A count of the outcomes still to come, not Promise.all over a promise per message: that cost a
    // reaction and a resolver closure per message on top of the handler's own promise (adr/0020).
    await new Promise<void>((resolve, reject) => {
      let pending = messages.length;
      if (pending === 0) resolve();
      for (let i = 0; i < messages.length; i++) {
        const record = (outcome: Handled): void => {
          try {
            if (outcome !== STOPPED) {
              outcomes[i] = outcome;
              advance();
            }
          } catch (error) {
            // A bug in the bookkeeping: reported, never swallowed in a promise nobody awaits.
            reject(error);
          }
          if (--pending === 0) resolve();
        };
        this.handle(input, messages[i]!, record);
      }
    });
    while (draining !== undefined) await draining;
    if (acked < messages.length) batch.nack(acked, stoppedError(batch, acked));
  }

  /** Publishes messages[from, to)'s outputs, waits for their dead letters, then acks through to − 1. False if shutdown came first. */
  private async complete(
    batch: DeliveryBatch,
    groupId: string,
    from: number,
    to: number,
    outputs: Map<string, OutboundMessage[]>,
    deadLetters: readonly Promise<boolean>[],
  ): Promise<boolean> {
    // An exactly-once stage hands off even a range without outputs: its position then moves only
    // through transactions, never through a plain commit that could race one.
    const handOff = outputs.size > 0 || this.stage.exactlyOnce;
    const published = !handOff || (await this.writes.write('publish', () => this.publish(batch, groupId, to - 1, outputs)));
    const deadLettered = deadLetters.length === 0 || (await Promise.all(deadLetters)).every(Boolean);
    if (!published || !deadLettered) return false;
    batch.ackThrough(to - 1);
    this.deps.metrics.stageConsumed(this.stage.name, to - from);
    return true;
  }

  /**
   * Decode and handle one message, then pass its outcome to `then`: synchronously when the codec
   * and the handler are (no promise at all), and through the `handle` gate once an attempt throws
   * (a transient failure). An asynchronous outcome costs one promise, a `then` with both
   * callbacks, where a `catch` followed by a `then` cost two per message (B1, alternating the two
   * in one session: 4.15× → 4.04× the JSON limit in CPU time; adr/0020).
   */
  private handle<T>(input: StageInput<unknown>, message: InboundMessage, then: (outcome: Handled) => T): T | Promise<T> {
    if (this.stopping.signal.aborted) return then(STOPPED);
    let first: StageOutcome | Promise<StageOutcome>;
    try {
      first = this.attempt(input, message);
    } catch (error) {
      return this.retry(input, message, error).then(then);
    }
    return first instanceof Promise ? first.then(then, (error: unknown) => this.retry(input, message, error).then(then)) : then(first);
  }

  private attempt(input: StageInput<unknown>, message: InboundMessage): StageOutcome | Promise<StageOutcome> {
    const decoded = input.codec.decode(message);
    return decoded instanceof Promise ? decoded.then((result) => this.handleDecoded(result, message)) : this.handleDecoded(decoded, message);
  }

  private handleDecoded(decoded: Result<Rejection, unknown>, message: InboundMessage): StageOutcome | Promise<StageOutcome> {
    return decoded.ok ? this.stage.handle(decoded.value, message) : { kind: 'reject', rejection: decoded.error };
  }

  private async retry(input: StageInput<unknown>, message: InboundMessage, error: unknown): Promise<Handled> {
    let outcome: StageOutcome | undefined;
    const done = await this.writes.retry(
      'handle',
      async () => {
        outcome = await this.attempt(input, message);
      },
      error,
    );
    return done && outcome !== undefined ? outcome : STOPPED;
  }

  /** Encodes what the outcome emits (grouped by topic) or queues its dead letter. */
  private collect(outcome: StageOutcome, message: InboundMessage, outputs: Map<string, OutboundMessage[]>, deadLetters: Promise<boolean>[]): void {
    if (outcome.kind === 'reject') {
      deadLetters.push(this.writes.deadLetter(message, outcome.rejection));
      return;
    }
    // Most outcomes emit nothing (the archive's, every order): no list to build for them.
    if (outcome.emissions.length === 0) return;
    const encoded = this.encodeAll(outcome.emissions);
    if (!encoded.ok) {
      deadLetters.push(this.writes.deadLetter(message, encoded.error));
      return;
    }
    for (const [topic, record] of encoded.value) {
      const list = outputs.get(topic);
      if (list === undefined) outputs.set(topic, [record]);
      else list.push(record);
    }
  }

  /**
   * An emission to an output the stage never declared, or an encoder that throws, is a bug that
   * would fail the same way on every redelivery: the input is dead-lettered with the reason
   * instead of stalling its partition (as evaluateMessage does for the archive).
   */
  private encodeAll(emissions: readonly Emission[]): Result<Rejection, Array<readonly [string, OutboundMessage]>> {
    const records: Array<readonly [string, OutboundMessage]> = [];
    for (const emission of emissions) {
      const output = this.stage.outputs[emission.output];
      if (output === undefined) {
        return err(rejection('MESSAGE.EVALUATION_FAILED', 'encode', `Stage ${this.stage.name} emitted to an undeclared output ${JSON.stringify(emission.output)}`));
      }
      try {
        records.push([output.topic, output.encoder.encode(emission.event)]);
      } catch (error) {
        const exceptionClass = error instanceof Error ? error.constructor.name || error.name : typeof error;
        const detail = error instanceof Error ? error.message : String(error);
        return err({ ...rejection('MESSAGE.EVALUATION_FAILED', 'encode', `Encoding the ${emission.output} output threw ${exceptionClass}: ${detail}`), exceptionClass });
      }
    }
    return ok(records);
  }

  private async publish(batch: DeliveryBatch, groupId: string, lastHandled: number, outputs: Map<string, OutboundMessage[]>): Promise<void> {
    const topics: TopicMessages[] = [...outputs].map(([topic, messages]) => ({ topic, messages }));
    if (this.stage.exactlyOnce) {
      const last = batch.messages[lastHandled]!;
      await this.deps.bus.publishTransactionally(
        { groupId, topic: batch.topic, partition: batch.partition, nextOffset: (BigInt(last.offset) + 1n).toString(), generation: batch.generation },
        topics,
      );
    } else {
      await Promise.all(topics.map(({ topic, messages }) => this.deps.bus.publish(topic, messages)));
    }
    for (const { topic, messages } of topics) this.deps.metrics.stageEmitted(this.stage.name, topic, messages.length);
  }
}

const stoppedError = (batch: DeliveryBatch, index: number): Error =>
  new Error(`Stopped before offset ${batch.messages[index]?.offset} of ${batch.topic}/${batch.partition} was handled; it will be redelivered`);
