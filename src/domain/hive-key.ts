import { OrderId } from './order';

export const DEFAULT_ARCHIVE_PREFIX = 'orders';

/** A prefix is one or more path segments of a safe alphabet, without leading or trailing `/`. */
export const isValidPrefix = (prefix: string): boolean =>
  /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) && !prefix.split('/').some((s) => s === '.' || s === '..');

const DAY_MS = 86_400_000;
/** The day last formatted: a partition's orders fall on one or two days, so nearly every key reuses it. */
let lastDay = { day: Number.NaN, text: '' };

/**
 * `YYYY-MM-DD` of an instant, in UTC. Formatted once per day number, not per order; what `Date`
 * cannot hold (NaN, beyond ±8.64e15) still throws RangeError, as toISOString does.
 */
export const utcDate = (epochMs: number): string => {
  const day = Math.floor(epochMs / DAY_MS);
  if (day !== lastDay.day) lastDay = { day, text: new Date(epochMs).toISOString().slice(0, 10) };
  return lastDay.text;
};

/**
 * `orders/dt=YYYY-MM-DD/orderId=<id>.json`. `dt` is the UTC date of the order's event time,
 * never the wall clock at write time (adr/0005): a redelivery after midnight must rewrite the
 * same key, and query engines prune partitions by when the order happened.
 */
export const hiveKey = (prefix: string, eventTimeMs: number, id: OrderId): string =>
  `${prefix}/dt=${utcDate(eventTimeMs)}/orderId=${id}.json`;
