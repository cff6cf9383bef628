import { createHash } from 'node:crypto';
import { Headers, textHeader } from '../../application/ports/message-bus.port';

/** Headers of a dead letter whose value was cut to fit the dead-letter topic; replay-dlq refuses such records. */
export const TRUNCATION_HEADERS = {
  truncated: 'orderflow.errors.value.truncated',
  /** The original value's length in bytes, decimal. */
  bytes: 'orderflow.errors.value.bytes',
  /** The original value's SHA-256, hex: enough to find and check the original on the source topic. */
  sha256: 'orderflow.errors.value.sha256',
} as const;

/**
 * Bytes of a one-record batch that are not key, value or headers: the record batch header (61)
 * and the record's own framing, with room to spare for varints and the truncation headers.
 */
const RECORD_OVERHEAD_BYTES = 512;
/** Per header: its length varints. */
const HEADER_OVERHEAD_BYTES = 10;

export interface FittedValue {
  readonly value: Buffer;
  /** Empty when the value fits whole; otherwise the TRUNCATION_HEADERS. */
  readonly headers: Headers;
}

/**
 * The bytes a record may give its value when the topic takes at most `maxRecordBytes` per
 * record batch (max.message.bytes) and the record carries this key and these headers (repeated names
 * counted each time).
 */
export const valueBudget = (
  maxRecordBytes: number,
  key: string | Buffer | null,
  headers: Headers,
): number => {
  const keyBytes = key === null ? 0 : Buffer.byteLength(key);
  const headerBytes = headers.reduce((sum, { key: name, value }) => sum + Buffer.byteLength(name) + value.length + HEADER_OVERHEAD_BYTES, 0);
  return Math.max(0, maxRecordBytes - RECORD_OVERHEAD_BYTES - keyBytes - headerBytes);
};

/**
 * The value as it can go to the dead-letter topic: whole when it fits in `budgetBytes`,
 * otherwise its first `budgetBytes` bytes, with the original's size and SHA-256 in headers
 * (adr/0009). The original stays on its own topic until retention removes it.
 */
export const fitDeadLetterValue = (value: Buffer, budgetBytes: number): FittedValue => {
  if (value.length <= budgetBytes) return { value, headers: [] };
  return {
    value: value.subarray(0, Math.max(0, Math.floor(budgetBytes))),
    headers: [
      textHeader(TRUNCATION_HEADERS.truncated, 'true'),
      textHeader(TRUNCATION_HEADERS.bytes, String(value.length)),
      textHeader(TRUNCATION_HEADERS.sha256, createHash('sha256').update(value).digest('hex')),
    ],
  };
};
