import { RejectionCode } from '../domain/rejection';
import { HeldEventBounds, OrderListQuery } from './ports/order-view.port';
import { ORDER_STATUSES } from '../domain/lifecycle/order-status';

// The rules both order views (in memory and PostgreSQL) apply to their settings and queries, so
// that they cannot drift: the bounds of held events, the list's limits and its cursor.

/**
 * ORDERFLOW_VIEW_HOLD_MAX_EVENTS and ORDERFLOW_VIEW_HOLD_MAX_AGE_MS's defaults: 10,000 events, an
 * hour. The age is what gives an event up for lost, so it must outlast any lag of the view's
 * placement group behind its other groups: with 5 minutes, `orderflow run` killed three times
 * during 10,000 orders on a loaded 2-core machine gave up events of 34 orders that came later.
 */
export const DEFAULT_HELD_EVENT_BOUNDS: HeldEventBounds = { maxEvents: 10_000, maxAgeMs: 3_600_000 };

/** The code of a held event whose order never arrived (a dead letter's `__connect.errors.exception.message` starts with it). */
export const VIEW_ORDER_UNKNOWN = 'VIEW.ORDER_UNKNOWN' satisfies RejectionCode;

/** The most orders one page may hold (GET /orders?limit=). */
export const MAX_LIST_LIMIT = 500;

/** Throws a RangeError naming what is wrong with the bounds. */
export const assertHeldEventBounds = (bounds: HeldEventBounds): void => {
  if (!Number.isSafeInteger(bounds.maxEvents) || bounds.maxEvents < 1) {
    throw new RangeError(`order view: maxEvents (held events) must be a whole number >= 1, got ${bounds.maxEvents}`);
  }
  if (!Number.isSafeInteger(bounds.maxAgeMs) || bounds.maxAgeMs < 1) {
    throw new RangeError(`order view: maxAgeMs (how long an event is held) must be a whole number of milliseconds >= 1, got ${bounds.maxAgeMs}`);
  }
};

/** Why an event held since `heldAtMs` expired, in the words its dead letter carries. */
export const expiredByAge = (orderId: string, heldAtMs: number, nowMs: number, bounds: HeldEventBounds): string =>
  `${VIEW_ORDER_UNKNOWN}: order ${orderId} did not arrive within ${bounds.maxAgeMs} ms (held for ${nowMs - heldAtMs} ms)`;

/**
 * A hold refused because the view already holds as many events as its count bound allows: a
 * transient failure, which the stage retries with backoff. Events of late orders are not pushed
 * out (their orders are usually only behind, on a partition or a group that is catching up after
 * a restart): the topics that run ahead wait for the placements instead.
 */
export class HeldEventsFullError extends Error {
  constructor(orderId: string, bounds: HeldEventBounds) {
    super(
      `The order view holds ${bounds.maxEvents} events (ORDERFLOW_VIEW_HOLD_MAX_EVENTS) for orders it has not seen: ` +
        `the event for order ${orderId} waits until placements free room, or held events expire after ${bounds.maxAgeMs} ms`,
    );
    this.name = 'HeldEventsFullError';
  }
}

/** Where a page ends: the last row's sort key. */
export interface ListPosition {
  readonly placedAt: string;
  readonly orderId: string;
}

/**
 * A cursor is the last row's (placedAt, order id), base64url-encoded JSON: opaque to callers (they
 * must not build one), readable in a log, and the same for both adapters.
 */
export const encodeCursor = (position: ListPosition): string => Buffer.from(JSON.stringify([position.placedAt, position.orderId])).toString('base64url');

/** Throws a RangeError ("Invalid cursor…") for a cursor no page gave out; the API answers it with 400. */
export const decodeCursor = (cursor: string): ListPosition => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    Number.isNaN(Date.parse(parsed[0])) ||
    parsed[1].length === 0
  ) {
    throw new RangeError(`Invalid cursor ${JSON.stringify(cursor.slice(0, 64))}: expected the nextCursor of a previous page`);
  }
  return { placedAt: new Date(Date.parse(parsed[0])).toISOString(), orderId: parsed[1] };
};

/** Throws a RangeError naming the field: limit outside 1–500, an unknown status, an empty customer, a bad cursor. */
export const assertListQuery = (query: OrderListQuery): ListPosition | undefined => {
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
    throw new RangeError(`Invalid limit ${query.limit}: expected a whole number from 1 to ${MAX_LIST_LIMIT}`);
  }
  if (query.status !== undefined && !ORDER_STATUSES.includes(query.status)) {
    throw new RangeError(`Invalid status ${JSON.stringify(query.status)}: expected one of ${ORDER_STATUSES.join(', ')}`);
  }
  if (query.customer !== undefined && query.customer.length === 0) throw new RangeError('Invalid customer "": expected a non-empty string');
  return query.cursor === undefined ? undefined : decodeCursor(query.cursor);
};

/** The list's order: placement, then order id. */
export const compareListPosition = (a: ListPosition, b: ListPosition): number =>
  a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0;
