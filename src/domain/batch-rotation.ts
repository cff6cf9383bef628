import { utcDate } from './hive-key';

/**
 * Where the batched sink cuts a partition's stream into objects. Every rule looks only at the
 * records themselves (how many, and their event time), never at the clock or at how fast they
 * arrived, so a replay from any committed offset cuts exactly the same batches and writes
 * exactly the same object names: exactly-once by name (adr/0011).
 */
export interface BatchRotationPolicy {
  /** Messages per batch at most. Dead letters count: they hold offsets inside the batch too. */
  readonly maxMessages: number;
  /** A record whose event time is this much or more after the batch's first record starts the next batch. */
  readonly maxSpanMs: number;
  /**
   * Bytes per batch at most (absent: no bound). A message weighs its value or its NDJSON line,
   * whichever is larger (see messageWeight): a record that would push the batch over starts the
   * next batch, and one that alone reaches the bound makes a batch of its own. This bounds the
   * object's body and the memory an open batch holds, and depends only on the records.
   */
  readonly maxBytes?: number;
  /**
   * Opt-in: a batch that no message joined for this long is written as it is (an idle cut). The
   * only rule that looks at the clock, so its objects carry both ends in their name; see
   * idleBatchObjectKey for what that costs.
   */
  readonly idleFlushMs?: number;
}

/** What the rules need to know about the open batch of a partition. */
export interface OpenBatchShape {
  readonly messages: number;
  /** Event time of the batch's first archived record; undefined while it holds only dead letters. */
  readonly firstEventTimeMs: number | undefined;
  /** Sum of the messageWeight of its messages, dead letters included; absent counts as 0. */
  readonly bytes?: number;
}

export type RotationReason = 'count' | 'bytes' | 'date' | 'span' | 'idle';

/**
 * What a message weighs against maxBytes: its value (what the process holds until the batch is
 * acked) or its line in the object, whichever is larger. Both are properties of the record, so a
 * replay weighs it the same.
 */
export const messageWeight = (valueBytes: number, lineBytes = 0): number => Math.max(valueBytes, lineBytes);

const MS_PER_DAY = 86_400_000;

/** Kafka Connect pads start offsets to 10 digits, so a partition's objects list in offset order. */
const OFFSET_WIDTH = 10;

/**
 * `<prefix>/dt=YYYY-MM-DD/<topic>+<partition>+<startOffset>.ndjson`, the Kafka Connect S3 sink's
 * naming. `dt` is the UTC date of the records' event time (adr/0005); one object never spans two
 * dates, because a date change closes the batch. `startOffset` is the offset of the object's
 * first record. Topic names are Kafka's `[A-Za-z0-9._-]`, so they are safe in a key.
 */
export const batchObjectKey = (prefix: string, eventTimeMs: number, topic: string, partition: number, startOffset: number): string =>
  `${objectStem(prefix, eventTimeMs, topic, partition, startOffset)}.ndjson`;

const objectStem = (prefix: string, eventTimeMs: number, topic: string, partition: number, startOffset: number): string =>
  `${prefix}/dt=${utcDate(eventTimeMs)}/${topic}+${partition}+${paddedOffset(startOffset)}`;

const paddedOffset = (offset: number): string => String(offset).padStart(OFFSET_WIDTH, '0');

/**
 * `<prefix>/dt=YYYY-MM-DD/<topic>+<partition>+<startOffset>+<endOffset>.ndjson`: a batch cut
 * because its partition went idle, named by its first record and its last message. Where it
 * ends depends on when messages arrived, which a replay does not repeat; with both ends in the
 * name, every name still determines its records, and no write can replace an object with a
 * shorter one. The cost: after a crash between an idle write and its commit, the replay may cut
 * the same records into a differently named object. That is a duplicate, never a loss.
 */
export const idleBatchObjectKey = (
  prefix: string,
  eventTimeMs: number,
  topic: string,
  partition: number,
  startOffset: number,
  endOffset: number,
): string => `${objectStem(prefix, eventTimeMs, topic, partition, startOffset)}+${paddedOffset(endOffset)}.ndjson`;

/** Whether an open batch that last grew at `lastArrivalMs` is due for an idle cut at `nowMs`. */
export const isIdle = (lastArrivalMs: number, nowMs: number, policy: BatchRotationPolicy): boolean =>
  policy.idleFlushMs !== undefined && nowMs - lastArrivalMs >= policy.idleFlushMs;

/** Whether the open batch must be closed before a record with this event time (and this messageWeight) may join it. */
export const rotationBefore = (
  batch: OpenBatchShape,
  eventTimeMs: number,
  policy: BatchRotationPolicy,
  weight = 0,
): RotationReason | undefined => {
  const first = batch.firstEventTimeMs;
  if (first === undefined) return undefined;
  const bytes = batch.bytes ?? 0;
  if (policy.maxBytes !== undefined && bytes > 0 && bytes + weight > policy.maxBytes) return 'bytes';
  // Day numbers rather than formatted dates: the same answer as comparing utcDate(), without the
  // string formatting on every record.
  if (Math.floor(eventTimeMs / MS_PER_DAY) !== Math.floor(first / MS_PER_DAY)) return 'date';
  // Only forward: records from several producers arrive slightly out of event-time order, and
  // closing on every step back would cut a stream into needlessly small objects.
  if (eventTimeMs - first >= policy.maxSpanMs) return 'span';
  return undefined;
};

/** Why the open batch is complete, if it is: it holds maxMessages messages, or maxBytes bytes. */
export const fullness = (batch: OpenBatchShape, policy: BatchRotationPolicy): 'count' | 'bytes' | undefined => {
  if (batch.messages >= policy.maxMessages) return 'count';
  if (policy.maxBytes !== undefined && (batch.bytes ?? 0) >= policy.maxBytes) return 'bytes';
  return undefined;
};

export const isFull = (batch: OpenBatchShape, policy: BatchRotationPolicy): boolean => fullness(batch, policy) !== undefined;

export const validateRotationPolicy = (policy: BatchRotationPolicy): void => {
  if (!Number.isInteger(policy.maxMessages) || policy.maxMessages < 1) {
    throw new RangeError(`A batch needs maxMessages >= 1, got ${policy.maxMessages}`);
  }
  if (!Number.isFinite(policy.maxSpanMs) || policy.maxSpanMs <= 0) {
    throw new RangeError(`A batch needs maxSpanMs > 0, got ${policy.maxSpanMs}`);
  }
  if (policy.maxBytes !== undefined && (!Number.isInteger(policy.maxBytes) || policy.maxBytes < 1)) {
    throw new RangeError(`A batch needs maxBytes >= 1, got ${policy.maxBytes}`);
  }
  if (policy.idleFlushMs !== undefined && (!Number.isFinite(policy.idleFlushMs) || policy.idleFlushMs <= 0)) {
    throw new RangeError(`An idle flush needs idleFlushMs > 0, got ${policy.idleFlushMs}`);
  }
};
