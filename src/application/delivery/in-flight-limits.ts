import { SubscriptionOptions } from '../ports/message-bus.port';

/** Unacked deliveries per subscription when the subscriber does not say; the same on every bus. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/**
 * The in-flight count bound for an assignment of this many partitions. A function is evaluated
 * on every assignment, so a budget sized per partition follows what the member actually owns.
 */
export const maxInFlightFor = (option: SubscriptionOptions['maxInFlight'], assignedPartitions: number): number => {
  // Nothing is delivered without partitions; a budget per partition would be 0 here.
  if (typeof option === 'function' && assignedPartitions === 0) return Math.max(1, option(0));
  const bound = typeof option === 'function' ? option(assignedPartitions) : (option ?? DEFAULT_MAX_IN_FLIGHT);
  if (!Number.isInteger(bound) || bound < 1) {
    throw new RangeError(`maxInFlight must be a positive integer, got ${bound} for ${assignedPartitions} assigned partition(s)`);
  }
  return bound;
};

/** The byte bound, checked once at subscribe; absent means no byte bound. */
export const maxInFlightBytesOf = (option: SubscriptionOptions['maxInFlightBytes']): number => {
  if (option === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(option) || option < 1) throw new RangeError(`maxInFlightBytes must be a positive integer, got ${option}`);
  return option;
};

/** What a delivery counts against maxInFlightBytes: the bytes a handler holds while it is unsettled. */
export const inFlightBytesOf = (message: { readonly key: Buffer | null; readonly value: Buffer | null }): number =>
  (message.key?.length ?? 0) + (message.value?.length ?? 0);

/**
 * Whether one more message of this size may be delivered. A message larger than the whole byte
 * bound is delivered once nothing else is in flight, so that no message can stall its partition.
 */
export const hasRoomFor = (
  inFlight: { readonly count: number; readonly bytes: number },
  bounds: { readonly maxInFlight: number; readonly maxInFlightBytes: number },
  bytes: number,
): boolean => inFlight.count < bounds.maxInFlight && (inFlight.count === 0 || inFlight.bytes + bytes <= bounds.maxInFlightBytes);
