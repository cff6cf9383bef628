import { Rejection } from '../../domain/rejection';
import { Result } from '../../domain/result';
import { StageTarget } from '../ports/stage-metrics.port';
import { DeliveryBatch, Headers, InboundMessage, OutboundMessage, SubscriptionOptions } from '../ports/message-bus.port';

/**
 * A stage of the order lifecycle (adr/0016): it consumes one or more topics, and turns each input
 * into outputs on other topics, a rejection (a dead letter with a stable code), or a transient
 * failure (an exception: held and retried through a WriteGate, never dead-lettered). Its consumer
 * group, its dead-letter topics (`<input topic>.dlq`), its metric label and the `stage` header of
 * its dead letters all come from its name. The StageRunner does the rest: subscribe, decode,
 * handle, publish, dead-letter, and ack only once everything the input caused is durable.
 */
export type Stage = EventStage | BatchStage;

/**
 * The stage's view of one message: its origin, for codecs that read the topic or the headers (a
 * schema-registry codec reads the schema id), and for handlers that key state by partition.
 */
export type MessageContext = Pick<InboundMessage, 'topic' | 'partition' | 'offset' | 'timestamp' | 'headers' | 'key'>;

/**
 * Turns a message into the stage's input. May be asynchronous (a schema registry lookup); a
 * rejection dead-letters the message, an exception is transient (retried).
 */
export interface InputCodec<I> {
  decode(message: InboundMessage): Result<Rejection, I> | Promise<Result<Rejection, I>>;
}

/** Turns an event into a record: its key (partitioning), value and headers. */
export interface OutputEncoder<O> {
  encode(event: O): EncodedEvent;
}

export interface EncodedEvent {
  readonly key: string | Buffer | null;
  readonly value: Buffer;
  readonly headers?: Headers;
}

export interface StageInput<I> {
  readonly topic: string;
  readonly codec: InputCodec<I>;
}

export interface StageOutput<O> {
  readonly topic: string;
  readonly encoder: OutputEncoder<O>;
}

/** One output event, for the output the stage declared under that name. */
export interface Emission {
  readonly output: string;
  readonly event: unknown;
}

/** What a handler made of one input. An exception instead is a transient failure. */
export type StageOutcome =
  | { readonly kind: 'emit'; readonly emissions: readonly Emission[] }
  | { readonly kind: 'reject'; readonly rejection: Rejection };

export const emit = (...emissions: Emission[]): StageOutcome => ({ kind: 'emit', emissions });
export const rejectInput = (rejection: Rejection): StageOutcome => ({ kind: 'reject', rejection });

/**
 * How the runner may schedule a partition's messages:
 * - `ordered`: one at a time, in offset order (a stage whose state depends on the order of its
 *   inputs, such as the spend window);
 * - `concurrent`: every message of a batch at once, and batches of a partition overlapping
 *   (stateless handlers whose side effects are idempotent, such as the per-order archive).
 */
export type StageOrdering = 'ordered' | 'concurrent';

interface StageBase {
  /** Lowercase letters, digits and `-`: it names the group, the metrics and the dead letters. */
  readonly name: string;
}

/** A stage written per event; the runner batches, publishes and acks for it. */
export interface EventStage<I = any> extends StageBase {
  readonly kind: 'event';
  readonly inputs: readonly StageInput<I>[];
  /** By name; an Emission names one of these. */
  readonly outputs: Readonly<Record<string, StageOutput<any>>>;
  readonly ordering: StageOrdering;
  /**
   * The stage only reads and writes Kafka: its outputs and its input positions are committed in
   * one Kafka transaction (publishTransactionally). A stage with a database side effect makes the
   * effect idempotent instead (the effect and its idempotency record in one database transaction).
   */
  readonly exactlyOnce: boolean;
  handle(input: I, context: MessageContext): StageOutcome | Promise<StageOutcome>;
  /** Shutdown began: any retry loop of the stage's own should end. */
  stop?(): void;
  /** Work beside the inputs for as long as the stage runs (the order view's sweep of expired held events). */
  readonly companion?: StageCompanion;
}

/**
 * Work an event stage does on its own schedule rather than per input, run by the StageRunner
 * once the inputs are subscribed. It dead-letters through the stage's own dead-letter gate, so
 * its dead letters are held, retried, counted and logged as the inputs' are, and a failing DLQ
 * shows on the stage's readiness.
 */
export interface StageCompanion {
  /** Resolves once the work has ended after `signal` aborted (shutdown); a rejection is fatal to the stage. */
  run(context: StageCompanionContext): Promise<void>;
}

export interface StageCompanionContext {
  /** Resolves true once written to `<original.topic>.dlq`, false when shutdown came first. Never rejects. */
  deadLetter(original: InboundMessage, rejection: Rejection): Promise<boolean>;
  readonly signal: AbortSignal;
}

/**
 * A stage that takes its partition batches whole and settles them itself: the batched archive,
 * which holds a batch's messages until its object is written. The runner subscribes it and
 * supervises it; everything else is its own.
 */
export interface BatchStage extends StageBase {
  readonly kind: 'batch';
  readonly topic: string;
  readonly handleBatch: (batch: DeliveryBatch) => void | Promise<void>;
  readonly maxInFlight?: SubscriptionOptions['maxInFlight'];
  readonly onPartitionsRevoked?: () => void;
  readonly onPartitionsAssigned?: SubscriptionOptions['onPartitionsAssigned'];
  /** Shutdown began: stop retrying, and give back held messages so that the subscription can drain. */
  stop(): void;
  /** The targets whose writes are failing right now (readiness). */
  failing?(): readonly StageTarget[];
}

/** The record an encoded event becomes; the bus stamps the time. */
export const toOutbound = (encoded: EncodedEvent): OutboundMessage => encoded;

const STAGE_NAME = /^[a-z][a-z0-9-]{0,47}$/;

/** Stage names become group ids, metric labels and header values: a narrow alphabet keeps all three readable. */
export const assertStageName = (name: string): void => {
  if (!STAGE_NAME.test(name)) throw new Error(`Invalid stage name ${JSON.stringify(name)}: expected a lowercase letter, then up to 47 of [a-z0-9-]`);
};

/** Where a stage's rejected inputs of one topic go. */
export const deadLetterTopicOf = (inputTopic: string): string => `${inputTopic}.dlq`;
