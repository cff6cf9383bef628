import { err, ok, Result } from './result';
import { isEventTime } from './event-time';
import { rejection, Rejection } from './rejection';
import { OrderLine } from './lifecycle/order-lines';

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

/**
 * Where an order goes, as the shop gave it. Every part is optional (a seed-shaped order has no
 * address at all) and free text: orderflow carries it to the shipment, it does not validate it.
 */
export interface ShippingAddress {
  readonly name?: string;
  readonly street?: string;
  readonly city?: string;
  readonly postcode?: string;
  readonly region?: string;
  /** As the shop writes it; ISO 3166 alpha-2 (`DE`) is the convention, not a rule. */
  readonly country?: string;
}

export const SHIPPING_ADDRESS_FIELDS = ['name', 'street', 'city', 'postcode', 'region', 'country'] as const satisfies readonly (keyof ShippingAddress)[];

/**
 * The currency of an order that names none: the seed's orders carry none, and the seed order
 * service (seed 002) prices in US dollars.
 */
export const DEFAULT_CURRENCY = 'USD';

/** An ISO 4217 alphabetic code: three capital letters. */
const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** An order as the core sees it: immutable, validated, with event time as epoch milliseconds. */
export interface Order {
  readonly id: OrderId;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  /** When the producer created the order (event time), if the producer said so. */
  readonly producedAt?: number;
  /**
   * The order's lines, when the producer itemised it; a seed-shaped order has none (adr/0014).
   * Only their types are checked here: quantities and prices out of range, or lines that do not
   * add up to the total, are business rules of the validation stage (lineReasons), which rejects
   * such an order with its reasons instead of dead-lettering it.
   */
  readonly items?: readonly OrderLine[];
  /** As the producer gave it; absent means DEFAULT_CURRENCY (see currencyOf). */
  readonly currency?: string;
  readonly shippingAddress?: ShippingAddress;
}

export interface OrderFields {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  readonly producedAt?: number;
  readonly items?: readonly OrderLine[];
  readonly currency?: string;
  readonly shippingAddress?: ShippingAddress;
}

/** The currency the order is priced in: its own, else DEFAULT_CURRENCY. */
export const currencyOf = (order: Pick<Order, 'currency'>): string => order.currency ?? DEFAULT_CURRENCY;

/** One invalid field of an order, by its name on the wire (`total`, `items.0.sku`), with its code and reason. */
export interface OrderProblem {
  readonly field: string;
  readonly code: Rejection['code'];
  readonly message: string;
}

/**
 * Every rule of createOrder an order's fields break, in the order createOrder checks them: the
 * first is the one createOrder rejects with (what a dead letter names), the rest are what a person
 * fixing the order wants to hear at once (the HTTP API's 400).
 */
export const orderProblems = (fields: OrderFields): OrderProblem[] => {
  const problems: OrderProblem[] = [];
  const problem = (field: string, code: Rejection['code'], message: string): void => void problems.push({ field, code, message });
  if (!isOrderId(fields.id)) {
    problem('id', 'ORDER.INVALID_ID', `Invalid order id ${JSON.stringify(truncate(fields.id))}: expected 1-128 characters of [A-Za-z0-9._:-] without ".."`);
  }
  if (!isValidTotal(fields.total)) problem('total', 'ORDER.INVALID_TOTAL', `Invalid total ${String(fields.total)}: expected a finite number >= 0`);
  if (fields.customer.length === 0) problem('customer', 'ORDER.SCHEMA_VIOLATION', 'Invalid customer: expected a non-empty string');
  if (fields.channel.length === 0) problem('channel', 'ORDER.SCHEMA_VIOLATION', 'Invalid channel: expected a non-empty string');
  if (fields.producedAt !== undefined && !isEventTime(fields.producedAt)) {
    problem('produced_at', 'ORDER.INVALID_PRODUCED_AT', 'Invalid produced_at: expected an ISO-8601 timestamp in the years 0000-9999');
  }
  if (fields.currency !== undefined && !CURRENCY_PATTERN.test(fields.currency)) {
    problem(
      'currency',
      'ORDER.SCHEMA_VIOLATION',
      `Invalid currency ${JSON.stringify(truncate(fields.currency))}: expected an ISO 4217 code of three capital letters, e.g. ${DEFAULT_CURRENCY}`,
    );
  }
  fields.items?.forEach((line, index) => {
    if (line.sku.length === 0) problem(`items.${index}.sku`, 'ORDER.SCHEMA_VIOLATION', `Invalid items.${index}.sku: expected a non-empty string`);
  });
  return problems;
};

/** The smart constructor: the only way to obtain an Order. */
export const createOrder = (fields: OrderFields): Result<Rejection, Order> => {
  const first = orderProblems(fields)[0];
  if (first !== undefined) return err(rejection(first.code, 'validate', first.message));
  const order: Order = {
    // orderProblems found none, so the id passed isOrderId.
    id: fields.id as OrderId,
    customer: fields.customer,
    total: fields.total,
    channel: fields.channel,
    ...(fields.producedAt === undefined ? {} : { producedAt: fields.producedAt }),
    // Copied and frozen: the caller's arrays and objects cannot change the order afterwards.
    ...(fields.items === undefined
      ? {}
      : { items: Object.freeze(fields.items.map((line) => Object.freeze({ sku: line.sku, quantity: line.quantity, unitPrice: line.unitPrice }))) }),
    ...(fields.currency === undefined ? {} : { currency: fields.currency }),
    ...(fields.shippingAddress === undefined ? {} : { shippingAddress: Object.freeze(knownAddressFields(fields.shippingAddress)) }),
  };
  return ok(Object.freeze(order));
};

/** Orders at or above this total are high risk, whatever their channel (seed rule). */
export const HIGH_RISK_TOTAL = 500;

export const isHighRisk = (order: Pick<Order, 'total'>): boolean => order.total >= HIGH_RISK_TOTAL;

const knownAddressFields = (address: ShippingAddress): ShippingAddress =>
  Object.fromEntries(SHIPPING_ADDRESS_FIELDS.flatMap((field) => (address[field] === undefined ? [] : [[field, address[field]]])));

const truncate = (value: string): string => (value.length > 64 ? `${value.slice(0, 64)}…` : value);
