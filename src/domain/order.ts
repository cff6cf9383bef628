import { err, ok, Result } from './result';
import { isEventTime } from './event-time';
import { rejection, Rejection } from './rejection';

declare const orderIdBrand: unique symbol;
/** An order id that is safe to embed in an object key (see isOrderId). */
export type OrderId = string & { readonly [orderIdBrand]: 'OrderId' };

/**
 * The order id becomes part of an object key (`orderId=<id>.json`), so it is restricted to a
 * conservative alphabet: no `/` (no escaping the date partition), no `..` (no path traversal
 * on the filesystem archive), no whitespace or control characters, at most 128 characters.
 */
const ORDER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const isOrderId = (value: string): value is OrderId =>
  ORDER_ID_PATTERN.test(value) && !value.includes('..');

export const isValidTotal = (value: number): boolean => Number.isFinite(value) && value >= 0;

/** An order as the core sees it: immutable, validated, with event time as epoch milliseconds. */
export interface Order {
  readonly id: OrderId;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  /** When the producer created the order (event time), if the producer said so. */
  readonly producedAt?: number;
}

export interface OrderFields {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  readonly producedAt?: number;
}

/** The smart constructor: the only way to obtain an Order. */
export const createOrder = (fields: OrderFields): Result<Rejection, Order> => {
  if (!isOrderId(fields.id)) {
    return err(
      rejection(
        'ORDER.INVALID_ID',
        'validate',
        `Invalid order id ${JSON.stringify(truncate(fields.id))}: expected 1-128 characters of [A-Za-z0-9._:-] without ".."`,
      ),
    );
  }
  if (!isValidTotal(fields.total)) {
    return err(
      rejection('ORDER.INVALID_TOTAL', 'validate', `Invalid total ${String(fields.total)}: expected a finite number >= 0`),
    );
  }
  if (fields.customer.length === 0) {
    return err(rejection('ORDER.SCHEMA_VIOLATION', 'validate', 'Invalid customer: expected a non-empty string'));
  }
  if (fields.channel.length === 0) {
    return err(rejection('ORDER.SCHEMA_VIOLATION', 'validate', 'Invalid channel: expected a non-empty string'));
  }
  if (fields.producedAt !== undefined && !isEventTime(fields.producedAt)) {
    return err(rejection('ORDER.INVALID_PRODUCED_AT', 'validate', 'Invalid produced_at: expected an ISO-8601 timestamp in the years 0000-9999'));
  }
  const order: Order = {
    id: fields.id,
    customer: fields.customer,
    total: fields.total,
    channel: fields.channel,
    ...(fields.producedAt === undefined ? {} : { producedAt: fields.producedAt }),
  };
  return ok(Object.freeze(order));
};

/** Orders at or above this total are high risk, whatever their channel (seed rule). */
export const HIGH_RISK_TOTAL = 500;

export const isHighRisk = (order: Pick<Order, 'total'>): boolean => order.total >= HIGH_RISK_TOTAL;

const truncate = (value: string): string => (value.length > 64 ? `${value.slice(0, 64)}…` : value);
