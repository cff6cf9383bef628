import { BatchHandler, DeliveryBatch, DeliveryHandler, InboundMessage, SubscriptionOptions } from '../ports/message-bus.port';
import { inFlightBytesOf } from './in-flight-limits';

/** What a subscription hands its messages to: one of the port's two handler shapes. */
export type SubscriptionHandler =
  | { readonly kind: 'delivery'; readonly handler: DeliveryHandler }
  | { readonly kind: 'batch'; readonly handler: BatchHandler };

/** The handler of a subscription; refuses both or neither (the port's "exactly one"), before anything joins a group. */
export const subscriptionHandlerOf = (options: SubscriptionOptions): SubscriptionHandler => {
  const { handler, batchHandler } = options;
  const subject = `Subscription of group ${options.groupId} to ${options.topic}`;
  if (handler !== undefined && batchHandler !== undefined) {
    throw new Error(`${subject}: give exactly one of handler (per message) and batchHandler (per batch), not both`);
  }
  const given = handler ?? batchHandler;
  if (given === undefined) throw new Error(`${subject}: give exactly one of handler (per message) and batchHandler (per batch); neither was given`);
  if (typeof given !== 'function') {
    throw new TypeError(`${subject}: ${handler === undefined ? 'batchHandler' : 'handler'} must be a function, got ${typeof given}`);
  }
  return handler !== undefined ? { kind: 'delivery', handler } : { kind: 'batch', handler: batchHandler! };
};

/** Told once per call that settles something: messages[first..last] were acked (no reason) or nacked. */
export type BatchSettled<C> = (batch: TrackedDeliveryBatch<C>, first: number, last: number, nackReason: Error | undefined) => void;

/**
 * A DeliveryBatch with the bookkeeping every bus shares. Acks only ever grow a prefix and nacks a
 * suffix, so what is still in flight is always one contiguous index range, every message settles
 * once, and an ack after a nack of the same message changes nothing (as with deliveries). The bus
 * learns of each newly settled range through `onSettled`, with its own `context` (its tracking
 * of the partition), and frees in-flight capacity and moves positions from there: one object and
 * one callback per batch, nothing per message.
 */
export class TrackedDeliveryBatch<C> implements DeliveryBatch {
  /** messages[0..ackedThrough] are acked. */
  private ackedThrough = -1;
  /** messages[nackedFrom..] are nacked. */
  private nackedFrom: number;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly generation: number,
    readonly messages: readonly InboundMessage[],
    readonly context: C,
    private readonly onSettled: BatchSettled<C>,
  ) {
    this.nackedFrom = messages.length;
  }

  /** Messages neither acked nor nacked yet. */
  get inFlight(): number {
    return this.nackedFrom - this.ackedThrough - 1;
  }

  ackThrough(index: number): void {
    this.checkIndex('ackThrough', index);
    const last = Math.min(index, this.nackedFrom - 1);
    if (last <= this.ackedThrough) return;
    const first = this.ackedThrough + 1;
    this.ackedThrough = last;
    this.onSettled(this, first, last, undefined);
  }

  nack(index: number, reason: Error): void {
    this.checkIndex('nack', index);
    this.nackFrom(index, reason);
  }

  /** The handler threw or rejected: whatever it did not ack counts as not processed. */
  nackUnacked(reason: Error): void {
    this.nackFrom(this.ackedThrough + 1, reason);
  }

  /** The key and value bytes of messages[first..last], as the in-flight byte bound counts them. */
  bytesOf(first: number, last: number): number {
    let bytes = 0;
    for (let index = first; index <= last; index++) bytes += inFlightBytesOf(this.messages[index]!);
    return bytes;
  }

  private nackFrom(index: number, reason: Error): void {
    // What was acked stays acked: a nack below it only covers the rest.
    const first = Math.max(index, this.ackedThrough + 1);
    if (first >= this.nackedFrom) return;
    const last = this.nackedFrom - 1;
    this.nackedFrom = first;
    this.onSettled(this, first, last, reason);
  }

  private checkIndex(method: string, index: number): void {
    const count = this.messages.length;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(
        `${method}(${index}) on a batch of ${count} message(s) of ${this.topic} partition ${this.partition}: the index must be an integer from 0 to ${count - 1}`,
      );
    }
  }
}
