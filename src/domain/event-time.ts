import { rejection, Rejection } from './rejection';
import { err, ok, Result } from './result';

/**
 * Event time is what `dt` and every batch name are derived from (adr/0005), so it must be an
 * instant whose UTC date has four digits: `Date` itself reaches ±275,760 years, and
 * `toISOString` writes such years as `+010000`, which would make keys like `dt=+010000-01`.
 */
export const MIN_EVENT_TIME_MS = Date.parse('0000-01-01T00:00:00.000Z');
export const MAX_EVENT_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

export const isEventTime = (epochMs: number): boolean =>
  Number.isInteger(epochMs) && epochMs >= MIN_EVENT_TIME_MS && epochMs <= MAX_EVENT_TIME_MS;

/**
 * A record timestamp the pipeline may use as event time. Kafka accepts any 64-bit CreateTime and
 * uses -1 for "none": a negative value is not a time, and one past year 9999 is a producer that
 * wrote micro- or nanoseconds, never a real millisecond timestamp.
 */
export const isRecordTimestamp = (epochMs: number): boolean => isEventTime(epochMs) && epochMs >= 0;

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * Epoch milliseconds of an ISO-8601 instant with a zone (`2026-11-22T10:00:00.000Z`,
 * `…+01:00`), or undefined unless every field is in its calendar range. `Date.parse` alone rolls
 * `2026-02-30` over to 2 March and `T24:00` to the next day, which would file an order under a
 * date it does not name; a date must round-trip. The instant must also be an event time (above):
 * `9999-12-31T23:00-05:00` is in year 10000 in UTC.
 */
export const parseIsoInstant = (text: string): number | undefined => {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = '00', , , , offH = '00', offM = '00'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const valid =
    month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59 && Number(offH) <= 23 && Number(offM) <= 59;
  if (!valid) return undefined;
  const ms = Date.parse(text);
  return isEventTime(ms) ? ms : undefined;
};

/** When the order happened: the producer's `produced_at` when it gave one, otherwise the record's timestamp. */
export interface EventTimeSources {
  readonly producedAt?: number;
  readonly recordTimestampMs: number;
}

/**
 * Chooses the event time and validates the one chosen, so that a hostile record timestamp cannot
 * reach a key (utcDate throws on what `Date` cannot hold): a bad one is a rejection with its own
 * code, dead-lettered like any other, never an exception that stalls the partition.
 */
export const chooseEventTime = ({ producedAt, recordTimestampMs }: EventTimeSources): Result<Rejection, number> => {
  if (producedAt !== undefined) {
    return isEventTime(producedAt)
      ? ok(producedAt)
      : err(rejection('ORDER.INVALID_PRODUCED_AT', 'validate', `Invalid produced_at ${String(producedAt)}: expected a time in the years 0000-9999`));
  }
  return isRecordTimestamp(recordTimestampMs)
    ? ok(recordTimestampMs)
    : err(
        rejection(
          'MESSAGE.INVALID_TIMESTAMP',
          'validate',
          `The order has no produced_at and the record timestamp ${String(recordTimestampMs)} is not an event time: expected epoch milliseconds from 0 (1970) to ${MAX_EVENT_TIME_MS} (year 9999)`,
        ),
      );
};
