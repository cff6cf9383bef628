import { ConsumedThrough, TopicMessages } from '../ports/message-bus.port';

/** Kafka's offsets are signed 64-bit: the largest a position can be. */
const MAX_OFFSET = 2n ** 63n - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Refuses a publishTransactionally call whose position or outputs cannot be what the caller
 * meant, naming what is wrong, before any bus starts a transaction: the same words on every bus.
 */
export const checkHandOff = (consumed: ConsumedThrough, outputs: readonly TopicMessages[]): void => {
  const refuse = (what: string): never => {
    throw new RangeError(`publishTransactionally: ${what}`);
  };
  if (typeof consumed.groupId !== 'string' || consumed.groupId.length === 0) refuse('consumed.groupId must be a non-empty string');
  if (typeof consumed.topic !== 'string' || consumed.topic.length === 0) refuse('consumed.topic must be a non-empty string');
  if (!Number.isInteger(consumed.partition) || consumed.partition < 0) {
    refuse(`consumed.partition must be an integer of 0 or more, got ${String(consumed.partition)}`);
  }
  if (typeof consumed.nextOffset !== 'string' || !DECIMAL.test(consumed.nextOffset) || BigInt(consumed.nextOffset) > MAX_OFFSET) {
    refuse(`consumed.nextOffset must be a decimal offset of 0 or more (the last consumed + 1), got ${JSON.stringify(consumed.nextOffset)}`);
  }
  if (!Number.isInteger(consumed.generation)) refuse(`consumed.generation must be the delivery's generation, got ${String(consumed.generation)}`);
  outputs.forEach((output, index) => {
    if (typeof output.topic !== 'string' || output.topic.length === 0) refuse(`outputs[${index}].topic must be a non-empty string`);
    if (!Array.isArray(output.messages)) refuse(`outputs[${index}].messages must be an array (of ${output.topic})`);
  });
};

/** For messages and logs: "3 message(s) to a, b". */
export const describeOutputs = (outputs: readonly TopicMessages[]): string => {
  const count = outputs.reduce((sum, { messages }) => sum + messages.length, 0);
  const topics = [...new Set(outputs.map(({ topic }) => topic))];
  return topics.length === 0 ? 'no messages' : `${count} message(s) to ${topics.join(', ')}`;
};
