import { ORDER_STATUSES } from '../../domain/lifecycle/order-status';
import { SHIPPING_ADDRESS_FIELDS } from '../../domain/order';

/**
 * The HTTP API's JSON Schemas: fastify validates parameters, queries and the status body with
 * them, and @fastify/swagger turns them into /openapi.json.
 *
 * The order body is the exception (adr/0019): the io-ts codec the consumer uses decides what an
 * order is, so ORDER_BODY only documents it. tests/unit/adapters/fastify/order-schema-drift.test.ts
 * checks, on generated bodies, that this schema and the decoder accept and refuse the same ones.
 */

const text = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra }) as const;
const number = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'number', description, ...extra }) as const;

export const ORDER_ID = {
  type: 'string',
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  not: { pattern: '\\.\\.' },
  description: '1-128 characters of [A-Za-z0-9._:-], without ".."',
} as const;

export const STATUS = { type: 'string', enum: ORDER_STATUSES, description: 'placed → validated → paid → reserved → shipped → delivered; rejected, payment_failed, out_of_stock and cancelled end it' } as const;

const ORDER_LINE = {
  type: 'object',
  required: ['sku', 'quantity', 'unit_price'],
  properties: {
    sku: text('Stock keeping unit', { minLength: 1 }),
    quantity: number('Units; whole and >= 1, or the validation stage rejects the order (orders.rejected)'),
    unit_price: number('Price of one unit; >= 0, and the lines must add up to the total, or the validation stage rejects the order'),
  },
} as const;

/** The order as the consumer decodes it (IoTsOrderCodec): documentation only, see above. */
export const ORDER_BODY = {
  type: 'object',
  required: ['customer', 'total', 'channel'],
  description: 'An order, as on ORDERS_TOPIC. Fields not named here are ignored.',
  properties: {
    id: { ...ORDER_ID, description: `${ORDER_ID.description}; generated (a UUID) when absent` },
    customer: text('Customer id', { minLength: 1 }),
    total: number('Order total, >= 0', { minimum: 0 }),
    channel: text('Sales channel: web, mobile or partner are scored; another is dead-lettered by the archive (ORDER.UNKNOWN_CHANNEL)', { minLength: 1 }),
    produced_at: text('When the order was made: ISO-8601 with a time zone, a real calendar date in the years 0000-9999', {
      pattern: '^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})(?::(\\d{2})(\\.\\d+)?)?(Z|([+-])(\\d{2}):?(\\d{2}))$',
    }),
    items: { type: 'array', items: ORDER_LINE, description: 'The lines; absent for a seed-shaped order' },
    currency: text('ISO 4217 code; USD when absent', { pattern: '^[A-Z]{3}$' }),
    shipping_address: {
      type: 'object',
      description: 'Each part optional, free text',
      properties: Object.fromEntries(SHIPPING_ADDRESS_FIELDS.map((field) => [field, { type: 'string' }])),
    },
  },
} as const;

export const STATUS_BODY = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: STATUS, reason: text('Why, in words', { maxLength: 1000 }) },
} as const;

/** The cart service's PUT /update-order body (seed 002), with orderflow's statuses. */
export const UPDATE_ORDER_BODY = {
  type: 'object',
  required: ['order_id', 'status'],
  properties: { order_id: ORDER_ID, status: STATUS, reason: text('Why, in words', { maxLength: 1000 }) },
} as const;

export const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: text('A URI naming the kind of problem'),
    title: text('The kind of problem, in words'),
    status: { type: 'integer' },
    detail: text('This occurrence, in words'),
    code: text('Stable code to branch on, e.g. ORDER_INVALID, ORDER_EXISTS, ORDER_NOT_FOUND'),
    errors: {
      type: 'array',
      description: 'Every invalid field',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

const LINE = {
  type: 'object',
  required: ['sku', 'quantity'],
  properties: { sku: { type: 'string' }, quantity: { type: 'number' }, unit_price: { type: 'number' } },
} as const;

/** An order as GET /orders/{id} answers it: the view's row, in the wire's snake case. */
export const ORDER_RESOURCE = {
  type: 'object',
  required: ['order_id', 'status', 'customer', 'channel', 'total', 'currency', 'risk_score', 'high_risk', 'shipping_cost', 'reasons', 'history', 'placed_at', 'updated_at', 'version'],
  properties: {
    order_id: { type: 'string' },
    status: STATUS,
    customer: { type: 'string' },
    channel: { type: 'string' },
    total: { type: 'number' },
    currency: { type: 'string' },
    risk_score: { type: 'number' },
    high_risk: { type: 'boolean' },
    shipping_cost: number('2 % of the total'),
    items: { type: 'array', items: LINE },
    payment_id: { type: 'string' },
    refund_id: { type: 'string' },
    picklist: {
      type: 'object',
      required: ['picklist_id', 'items', 'assigned_picker'],
      properties: { picklist_id: { type: 'string' }, items: { type: 'array', items: LINE }, assigned_picker: { type: 'string' } },
    },
    shipment: { type: 'object', required: ['shipment_id', 'shipping_cost'], properties: { shipment_id: { type: 'string' }, shipping_cost: { type: 'number' } } },
    reasons: { type: 'array', items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
    history: {
      type: 'array',
      items: {
        type: 'object',
        required: ['event_id', 'event_type', 'status', 'at'],
        properties: { event_id: { type: 'string' }, event_type: { type: 'string' }, status: STATUS, at: { type: 'string', format: 'date-time' } },
      },
    },
    placed_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    version: { type: 'integer' },
  },
} as const;
