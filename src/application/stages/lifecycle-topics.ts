import { EventType } from '../../domain/lifecycle/events';
import { deadLetterTopicOf } from './stage';

/**
 * The lifecycle's topics and the event catalog: the one definition that topic creation, the
 * stages and docs/events.md (`npm run docs:events`) all read, so that none of them can drift.
 */

/** The five lifecycle stages, by the names that become their groups, metric labels and DLQ headers. */
export const LIFECYCLE_STAGE_NAMES = ['validation', 'payment', 'inventory', 'fulfillment', 'notification'] as const;
export type LifecycleStageName = (typeof LIFECYCLE_STAGE_NAMES)[number];

/** The archive stage reads the placed orders too. */
export const ARCHIVE_STAGE_NAME = 'archive';

/** The order view reads every event topic but the notifications (order-view.stage.ts). */
export const ORDER_VIEW_STAGE_NAME = 'order-view';

export interface LifecycleTopics {
  /** ORDERS_TOPIC: the placed orders, as the shop writes them (the archive's input). */
  readonly orders: string;
  /** The validation stage's repartition topic: placed orders keyed by customer, for the spend window. */
  readonly ordersByCustomer: string;
  readonly ordersValidated: string;
  readonly ordersRejected: string;
  readonly paymentsProcessed: string;
  readonly paymentsFailed: string;
  readonly paymentsRefunded: string;
  readonly inventoryReserved: string;
  readonly inventoryInsufficient: string;
  readonly picklistsCreated: string;
  readonly shipmentsCreated: string;
  readonly notificationsOutbound: string;
  /** Statuses set from outside the stages (PUT /orders/{id}/status, a carrier): the order view applies them. */
  readonly ordersStatus: string;
}

export type LifecycleTopic = keyof LifecycleTopics;

/** The names before the prefix; the orders topic's is ORDERS_TOPIC's. */
export const LIFECYCLE_TOPIC_NAMES: Readonly<Record<Exclude<LifecycleTopic, 'orders'>, string>> = {
  ordersByCustomer: 'orders.by-customer',
  ordersValidated: 'orders.validated',
  ordersRejected: 'orders.rejected',
  paymentsProcessed: 'payments.processed',
  paymentsFailed: 'payments.failed',
  paymentsRefunded: 'payments.refunded',
  inventoryReserved: 'inventory.reserved',
  inventoryInsufficient: 'inventory.insufficient',
  picklistsCreated: 'picklists.created',
  shipmentsCreated: 'shipments.created',
  notificationsOutbound: 'notifications.outbound',
  ordersStatus: 'orders.status',
};

/** Kafka's own limit is 249 characters; the longest name must leave room for `.dlq`. */
const MAX_TOPIC_CHARS = 249 - '.dlq'.length;
const TOPIC_CHARS = /^[A-Za-z0-9._-]*$/;

export interface TopicNaming {
  /** ORDERS_TOPIC, unprefixed. */
  readonly ordersTopic: string;
  /** KAFKA_TOPIC_PREFIX: put before every name, ORDERS_TOPIC's included, so deployments and test runs share a cluster. Default: none. */
  readonly prefix?: string;
}

/** Every topic's name; the DLQs follow from them (deadLetterTopicOf). Throws, naming the problem, on a name Kafka would refuse. */
export const lifecycleTopics = ({ ordersTopic, prefix = '' }: TopicNaming): LifecycleTopics => {
  if (!TOPIC_CHARS.test(prefix)) {
    throw new Error(`Invalid KAFKA_TOPIC_PREFIX ${JSON.stringify(prefix.slice(0, 64))}: expected only letters, digits, '.', '_' and '-'`);
  }
  const topics = { orders: `${prefix}${ordersTopic}`, ...prefixed(prefix) } satisfies LifecycleTopics;
  const bad = Object.values(topics).filter((topic) => topic.length === 0 || topic.length > MAX_TOPIC_CHARS || !TOPIC_CHARS.test(topic) || topic === '.' || topic === '..');
  if (bad.length > 0) {
    throw new Error(`Invalid topic name ${JSON.stringify(bad[0]!.slice(0, 64))}: expected 1-${MAX_TOPIC_CHARS} letters, digits, '.', '_' or '-' (with the prefix)`);
  }
  return topics;
};

const prefixed = (prefix: string): Record<Exclude<LifecycleTopic, 'orders'>, string> =>
  Object.fromEntries(Object.entries(LIFECYCLE_TOPIC_NAMES).map(([role, name]) => [role, `${prefix}${name}`])) as Record<Exclude<LifecycleTopic, 'orders'>, string>;

// ---------------------------------------------------------------------------------------------
// The catalog

/** KAFKA_TOPIC_PARTITIONS' default: what `consume` creates the orders topic with. */
export const DEFAULT_TOPIC_PARTITIONS = 6;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Events: a week, longer than any outage a stage is expected to catch up from, and the spend window's replay (one hour) many times over. */
export const EVENT_RETENTION_MS = 7 * DAY_MS;
/** Dead letters wait for a person (replay-dlq): a month. */
export const DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;

export interface FieldDoc {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

export interface TopicEntry {
  readonly topic: string;
  /** Its role in LifecycleTopics; for a dead-letter topic, the role of the topic it holds the rejects of. */
  readonly role: LifecycleTopic;
  readonly kind: 'events' | 'dead-letters';
  /** What the records hold: a lifecycle event type, `order` (the shop's orders) or `dead letter`. */
  readonly eventType: EventType | 'order' | 'dead letter';
  readonly key: 'order id' | 'customer' | 'the rejected record’s';
  readonly partitions: number;
  readonly retentionMs: number;
  readonly cleanupPolicy: 'delete';
  /** Stage names, or a description of a writer outside orderflow. */
  readonly producers: readonly string[];
  readonly consumers: readonly string[];
  readonly description: string;
  /** Top-level fields of the record's JSON value; empty for dead letters (the original bytes). */
  readonly fields: readonly FieldDoc[];
}

const field = (name: string, type: string, description: string, required = true): FieldDoc => ({ name, type, required, description });

const OCCURRED_AT = 'When it happened: the timestamp of the record that caused it, never before its cause (see below)';

const ENVELOPE = (type: EventType, id: string, occurredAt = OCCURRED_AT): FieldDoc[] => [
  field('event_id', 'string', `\`${id}\`: derived from the cause, so a redelivery repeats it; drop duplicates by it`),
  field('event_type', 'string', `\`${type}\``),
  field('order_id', 'string', 'The order the event is about'),
  field('occurred_at', 'ISO-8601 string', occurredAt),
  field('schema_version', 'integer', '`1`'),
];

const FACTS: FieldDoc[] = [
  field('customer', 'string', 'The customer who placed the order'),
  field('total', 'number', "The order's total, in the currency's major unit (149.99)"),
  field('currency', 'string', "ISO 4217 code; the order's, else USD"),
];

const ITEMS = field('items', 'array of {sku, quantity, unit_price}', 'The order lines; absent for a seed-shaped order', false);
const ADDRESS = field('shipping_address', 'object {name, street, city, postcode, region, country}', 'As the order gave it, every part optional', false);

const ASSESSED: FieldDoc[] = [
  field('channel', 'string', 'The sales channel (web, partner, mobile)'),
  field('risk_score', 'number', "The channel's risk score in [0, 1], as the archive records it"),
  field('high_risk', 'boolean', 'Whether the total is 500 or more'),
];

interface EventTopicSpec {
  readonly role: Exclude<LifecycleTopic, 'orders'>;
  readonly eventType: EventType;
  readonly key: 'order id' | 'customer';
  /** A stage's name, or a description of a writer outside the stages. */
  readonly producer: LifecycleStageName | string;
  readonly consumers: readonly string[];
  readonly description: string;
  readonly fields: readonly FieldDoc[];
}

const EVENT_TOPICS: readonly EventTopicSpec[] = [
  {
    role: 'ordersByCustomer',
    eventType: 'placed',
    key: 'customer',
    producer: 'validation',
    consumers: ['validation', ORDER_VIEW_STAGE_NAME],
    description:
      "The validation stage's repartition topic, internal to it: every decodable placed order, re-keyed by customer so that one partition holds all of a customer's orders and the spend window's state is partitioned by customer. Replaying it from one window before the committed position rebuilds that state (adr/0014). The order view reads it too: it carries what the view's row starts with (totals, risk score, lines).",
    fields: [
      ...ENVELOPE('placed', '<order id>:placed', "The order's event time (produced_at, else its record's timestamp): the instant the spend window judges it at"),
      ...FACTS,
      ...ASSESSED,
      ITEMS,
      ADDRESS,
    ],
  },
  {
    role: 'ordersValidated',
    eventType: 'validated',
    key: 'order id',
    producer: 'validation',
    consumers: ['payment', ORDER_VIEW_STAGE_NAME],
    description: 'Orders that passed every rule: lines consistent with the total, quantities >= 1, within the customer’s spend limit.',
    fields: [...ENVELOPE('validated', '<order id>:validated'), ...FACTS, ...ASSESSED, ITEMS, ADDRESS],
  },
  {
    role: 'ordersRejected',
    eventType: 'rejected',
    key: 'order id',
    producer: 'validation',
    consumers: ['notification', ORDER_VIEW_STAGE_NAME],
    description: 'Well-formed orders the business rules refuse, with every reason at once. (Malformed ones are dead letters on the orders DLQ.)',
    fields: [
      ...ENVELOPE('rejected', '<order id>:rejected'),
      ...FACTS,
      field(
        'reasons',
        'array of {code, message}',
        'Every reason; codes ORDER.INVALID_QUANTITY, ORDER.INVALID_UNIT_PRICE, ORDER.TOTAL_MISMATCH, ORDER.SPEND_LIMIT_EXCEEDED (the spend limit is judged only when the lines pass)',
      ),
    ],
  },
  {
    role: 'paymentsProcessed',
    eventType: 'payment-processed',
    key: 'order id',
    producer: 'payment',
    consumers: ['inventory', ORDER_VIEW_STAGE_NAME],
    description: 'Orders charged their total. The gateway is idempotent by order id: a redelivery never charges twice.',
    fields: [...ENVELOPE('payment-processed', '<order id>:payment-processed'), ...FACTS, field('payment_id', 'string', "The gateway's id of the charge"), ITEMS, ADDRESS],
  },
  {
    role: 'paymentsFailed',
    eventType: 'payment-failed',
    key: 'order id',
    producer: 'payment',
    consumers: ['notification', ORDER_VIEW_STAGE_NAME],
    description: 'Orders whose charge the gateway declined; nothing was charged. (A gateway outage is retried, never a failure.)',
    fields: [
      ...ENVELOPE('payment-failed', '<order id>:payment-failed'),
      ...FACTS,
      field('code', 'string', "The gateway's decline code, e.g. PAYMENT.LIMIT_EXCEEDED"),
      field('reason', 'string', 'Why, in words'),
    ],
  },
  {
    role: 'paymentsRefunded',
    eventType: 'payment-refunded',
    key: 'order id',
    producer: 'inventory',
    consumers: [ORDER_VIEW_STAGE_NAME],
    description: 'Charges given back because the order could not be reserved (beside its inventory.insufficient event). For accounting, and the order view (refund id).',
    fields: [
      ...ENVELOPE('payment-refunded', '<order id>:payment-refunded'),
      ...FACTS,
      field('refund_id', 'string', "The gateway's id of the refund"),
      field('amount', 'number', 'What was given back: the whole charge'),
    ],
  },
  {
    role: 'inventoryReserved',
    eventType: 'inventory-reserved',
    key: 'order id',
    producer: 'inventory',
    consumers: ['fulfillment', ORDER_VIEW_STAGE_NAME],
    description: 'Paid orders whose every line was reserved, all or nothing; a seed-shaped order reserves nothing, successfully (adr/0014).',
    fields: [
      ...ENVELOPE('inventory-reserved', '<order id>:inventory-reserved'),
      ...FACTS,
      field('payment_id', 'string', "The charge's id, for a later refund or return"),
      field('reserved', 'array of {sku, quantity}', 'What was taken from stock, one row per SKU; empty for a seed-shaped order'),
      ITEMS,
      ADDRESS,
    ],
  },
  {
    role: 'inventoryInsufficient',
    eventType: 'inventory-insufficient',
    key: 'order id',
    producer: 'inventory',
    consumers: ['notification', ORDER_VIEW_STAGE_NAME],
    description: 'Paid orders with a line the stock cannot cover: nothing was reserved, and the payment was refunded.',
    fields: [
      ...ENVELOPE('inventory-insufficient', '<order id>:inventory-insufficient'),
      ...FACTS,
      field('shortages', 'array of {sku, requested, available}', 'Every SKU that was short'),
      field('refunded', 'boolean', 'Whether the payment was given back (payments.refunded says how)'),
    ],
  },
  {
    role: 'picklistsCreated',
    eventType: 'picklist-created',
    key: 'order id',
    producer: 'fulfillment',
    consumers: [ORDER_VIEW_STAGE_NAME],
    description: "The warehouse's picking instructions for a reserved order with lines (none for a seed-shaped order: nothing to pick). Read by the store's devices.",
    fields: [
      ...ENVELOPE('picklist-created', '<order id>:picklist-created'),
      field('picklist_id', 'string', '`pl-<order id>`'),
      field('items', 'array of {sku, quantity}', 'What to pick, one row per SKU'),
      field('assigned_picker', 'string', 'The picker, chosen from the order id, so a redelivery assigns the same one'),
    ],
  },
  {
    role: 'shipmentsCreated',
    eventType: 'shipment-created',
    key: 'order id',
    producer: 'fulfillment',
    consumers: ['notification', ORDER_VIEW_STAGE_NAME],
    description: 'Every reserved order ships; shipping costs 2 % of the total.',
    fields: [
      ...ENVELOPE('shipment-created', '<order id>:shipment-created'),
      ...FACTS,
      field('shipment_id', 'string', '`sh-<order id>`'),
      field('shipping_cost', 'number', '2 % of the total, to the cent'),
      ADDRESS,
    ],
  },
  {
    role: 'notificationsOutbound',
    eventType: 'notification',
    key: 'customer',
    producer: 'notification',
    consumers: [],
    description: "One rendered message per rejection, payment failure, shortage and shipment, keyed by customer so a customer's messages stay in order. For a mail or SMS gateway.",
    fields: [
      ...ENVELOPE('notification', '<id of the event it tells about>:notification'),
      field('customer', 'string', 'Who to tell'),
      field('about', 'string', 'The event type told about: rejected, payment-failed, inventory-insufficient or shipment-created'),
      field('about_event_id', 'string', 'The id of that event'),
      field('message', 'string', 'Plain text'),
    ],
  },
  {
    role: 'ordersStatus',
    eventType: 'status-updated',
    key: 'order id',
    producer: 'orderflow api (PUT /orders/{id}/status), or the shop and its carrier',
    consumers: [ORDER_VIEW_STAGE_NAME],
    description:
      'Statuses set from outside the stages: a cancellation, a delivery. The order view applies each through the status machine; one that arrives before its order is held until the order does.',
    fields: [
      ...ENVELOPE('status-updated', '<order id>:status-updated:<status>', 'When the status was set'),
      field('status', 'string', 'The new status: one of placed, validated, paid, reserved, shipped, delivered, rejected, payment_failed, out_of_stock, cancelled'),
      field('reason', 'string', 'Why, in words', false),
    ],
  },
];

const ORDER_FIELDS: FieldDoc[] = [
  field('id', 'string', 'The order id: 1-128 of [A-Za-z0-9._:-], no `..`; also the record key'),
  field('customer', 'string', 'Non-empty'),
  field('total', 'number', 'Finite, >= 0'),
  field('channel', 'string', 'A channel with a risk scorer: web, partner, mobile'),
  field('produced_at', 'ISO-8601 string', "The order's event time; absent: the record's timestamp", false),
  field('items', 'array of {sku, quantity, unit_price}', 'The lines; absent: a seed-shaped order, judged on its total alone. Ranges are business rules (orders.rejected), types are schema (a dead letter)', false),
  field('currency', 'string', 'ISO 4217 code (three capital letters); absent: USD', false),
  field('shipping_address', 'object {name, street, city, postcode, region, country}', 'Every part an optional string; other fields are ignored', false),
];

export interface CatalogOptions {
  /** Partitions of the topics created (KAFKA_TOPIC_PARTITIONS). */
  readonly partitions?: number;
}

/**
 * Every topic of the lifecycle with what it holds, who writes and who reads it: the event topics,
 * then one dead-letter topic per consumed topic (`<topic>.dlq`), written by the stages that read it.
 */
export const eventCatalog = (topics: LifecycleTopics, { partitions = DEFAULT_TOPIC_PARTITIONS }: CatalogOptions = {}): TopicEntry[] => {
  const common = { kind: 'events', partitions, retentionMs: EVENT_RETENTION_MS, cleanupPolicy: 'delete' } as const;
  const events: TopicEntry[] = [
    {
      ...common,
      topic: topics.orders,
      role: 'orders',
      eventType: 'order',
      key: 'order id',
      producers: ['the shop (outside orderflow; `orderflow produce` in tests)'],
      consumers: [ARCHIVE_STAGE_NAME, 'validation'],
      description: 'ORDERS_TOPIC: the placed orders, in the seed’s shape or itemised. The archive stores them; validation starts their lifecycle.',
      fields: ORDER_FIELDS,
    },
    ...EVENT_TOPICS.map((spec): TopicEntry => ({
      ...common,
      topic: topics[spec.role],
      role: spec.role,
      eventType: spec.eventType,
      key: spec.key,
      producers: [spec.producer],
      consumers: spec.consumers,
      description: spec.description,
      fields: spec.fields,
    })),
  ];
  const deadLetters = events
    .filter((entry) => entry.consumers.length > 0)
    .map(
      (entry): TopicEntry => ({
        topic: deadLetterTopicOf(entry.topic),
        role: entry.role,
        kind: 'dead-letters',
        eventType: 'dead letter',
        key: 'the rejected record’s',
        partitions,
        retentionMs: DEAD_LETTER_RETENTION_MS,
        cleanupPolicy: 'delete',
        producers: entry.consumers,
        consumers: ['replay-dlq (an operator)'],
        description: `The records of ${entry.topic} its consumers rejected, byte for byte, with the __connect.errors.* headers and orderflow.stage naming the stage (adr/0009).`,
        fields: [],
      }),
    );
  return [...events, ...deadLetters];
};
