import { seededRandom } from '../../src/application/order-generator';
import { OutboundMessage } from '../../src/application/ports/message-bus.port';
import { LifecycleReasonCode } from '../../src/domain/lifecycle/order-lines';
import { OrderStatus } from '../../src/domain/lifecycle/order-status';

/**
 * A generated load for the whole lifecycle with a known mix: every order carries the final state
 * it must reach, so a test on the real stack can check each one (tests/integration/lifecycle).
 *
 * Two classes are decided by a race, not by the order alone, and are checked per group instead:
 * the spend limit (which of a customer's orders arrives last on the repartition topic depends on
 * the partitions they were placed on) and a scarce SKU (which orders get the last units depends
 * on the order the inventory serialises them in). The counts in each group are deterministic.
 */
export type ExpectedOutcome =
  /** Reserved and shipped, with a picklist of its lines. */
  | { readonly kind: 'shipped'; readonly lines: readonly WireLine[] }
  /** A seed-shaped order (no items): reserved nothing, shipped without a picklist (adr/0014). */
  | { readonly kind: 'shipped-seed' }
  | { readonly kind: 'rejected'; readonly codes: readonly LifecycleReasonCode[] }
  /** Above ORDERFLOW_PAYMENT_LIMIT: payments.failed, never charged. */
  | { readonly kind: 'declined' }
  /** Charged, a line the stock cannot cover: nothing reserved, refunded. */
  | { readonly kind: 'insufficient' }
  /** One of a customer's equal orders at the same event time; `admitted` of them pass the spend limit (seed-shaped, so they ship). */
  | { readonly kind: 'spend-group'; readonly customer: string; readonly admitted: number }
  /** One of the orders for one unit each of a SKU with `units` in stock: that many ship, the others are insufficient. */
  | { readonly kind: 'scarce-group'; readonly sku: string; readonly units: number; readonly lines: readonly WireLine[] };

/** The statuses in the order view an order of each kind may end in (a group's members split between two, by a race). */
export const finalStatusesOf = (expected: ExpectedOutcome): readonly OrderStatus[] => {
  switch (expected.kind) {
    case 'shipped':
    case 'shipped-seed':
      return ['shipped'];
    case 'rejected':
      return ['rejected'];
    case 'declined':
      return ['payment_failed'];
    case 'insufficient':
      return ['out_of_stock'];
    case 'spend-group':
      return ['shipped', 'rejected'];
    case 'scarce-group':
      return ['shipped', 'out_of_stock'];
  }
};

export interface WireLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unit_price: number;
}

export interface PlannedOrder {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
  readonly wire: Record<string, unknown>;
  readonly expected: ExpectedOutcome;
}

export interface PoisonMessage extends OutboundMessage {
  readonly key: string;
  /** The dead-letter code both readers of the orders topic (validation, archive) give it. */
  readonly code: string;
}

export interface LifecycleMix {
  readonly seedShaped: number;
  readonly totalMismatch: number;
  readonly invalidQuantity: number;
  readonly invalidUnitPrice: number;
  /** Customers placing `spendOrdersEach` orders of `spendAmount` at one event time. */
  readonly spendCustomers: number;
  readonly spendOrdersEach: number;
  readonly spendAmount: number;
  readonly declined: number;
  readonly outOfStock: number;
  readonly scarceOrders: number;
  readonly scarceUnits: number;
}

export const DEFAULT_MIX: LifecycleMix = {
  seedShaped: 400,
  totalMismatch: 100,
  invalidQuantity: 100,
  invalidUnitPrice: 100,
  spendCustomers: 10,
  spendOrdersEach: 4,
  spendAmount: 3_000,
  declined: 100,
  outOfStock: 100,
  scarceOrders: 120,
  scarceUnits: 60,
};

export interface LifecycleLoad {
  /** In the order they are to be published, the classes interleaved. */
  readonly orders: readonly PlannedOrder[];
  readonly poison: readonly PoisonMessage[];
  /** ORDERFLOW_STOCK_FILE's content. */
  readonly stock: Readonly<Record<string, number>>;
  /** What every SKU must hold at the end. */
  readonly finalStock: Readonly<Record<string, number>>;
}

export interface LoadOptions {
  readonly orders: number;
  readonly seed?: number;
  /** Prefix of every order id, so runs never share one. */
  readonly runId: string;
  /** The limits the stages run with (ORDERFLOW_PAYMENT_LIMIT, ORDERFLOW_FRAUD_LIMIT). */
  readonly paymentLimit: number;
  readonly fraudLimit: number;
  readonly mix?: LifecycleMix;
}

const SKUS = ['APPLE', 'MILK', 'BREAD', 'EGGS', 'RICE', 'TEA', 'SOAP', 'SALT', 'OATS', 'HONEY'] as const;
/** In the stock file with 0: out of stock from the start. */
export const GONE_SKU = 'GONE';
export const SCARCE_SKU = 'SCARCE';
/** What every ample SKU keeps after all its orders: a margin the test checks exactly. */
const MARGIN = 7;
const START_MS = Date.parse('2026-11-22T08:00:00.000Z');

/**
 * Builds `orders` orders: the special classes of `mix`, the rest valid itemised orders of the
 * ample SKUs. Small orders share 200 customers, kept far below the fraud limit; large ones
 * (seed-shaped, declined) have a customer each, so only the spend groups meet the limit.
 */
export const lifecycleLoad = ({ orders: count, seed = 10, runId, paymentLimit, fraudLimit, mix = DEFAULT_MIX }: LoadOptions): LifecycleLoad => {
  const random = seededRandom(seed);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const plans: Omit<PlannedOrder, 'id'>[] = [];
  let n = 0;
  const at = (): string => new Date(START_MS + (n++ % 7_200) * 1_000).toISOString();
  const smallCustomer = (): string => `${runId}-c${int(0, 199)}`;
  const uniqueCustomer = (): string => `${runId}-u${plans.length}`;
  const lines = (count: number): WireLine[] =>
    Array.from({ length: count }, () => ({ sku: pick(SKUS), quantity: int(1, 5), unit_price: int(50, 999) / 100 }));
  const centsOf = (items: readonly WireLine[]): number => items.reduce((sum, line) => sum + line.quantity * Math.round(line.unit_price * 100), 0);
  const itemised = (customer: string, items: readonly WireLine[], totalCents = centsOf(items), expected: ExpectedOutcome) =>
    plans.push({
      customer,
      total: totalCents / 100,
      wire: { customer, total: totalCents / 100, channel: pick(['web', 'mobile', 'partner']), produced_at: at(), items, currency: 'EUR' },
      expected,
    });
  const seedShaped = (customer: string, total: number, expected: ExpectedOutcome, producedAt = at()) =>
    plans.push({ customer, total, wire: { customer, total, channel: pick(['web', 'mobile', 'partner']), produced_at: producedAt }, expected });

  for (let i = 0; i < mix.seedShaped; i++) seedShaped(uniqueCustomer(), int(100, Math.min(paymentLimit, fraudLimit) * 100) / 100, { kind: 'shipped-seed' });
  for (let i = 0; i < mix.totalMismatch; i++) {
    const items = lines(int(1, 3));
    itemised(smallCustomer(), items, centsOf(items) + int(1, 500), { kind: 'rejected', codes: ['ORDER.TOTAL_MISMATCH'] });
  }
  for (let i = 0; i < mix.invalidQuantity; i++) {
    const items = lines(int(1, 3));
    items[0] = { ...items[0]!, quantity: pick([0, -1, 1.5]) };
    itemised(smallCustomer(), items, Math.max(0, Math.round(centsOf(items))), { kind: 'rejected', codes: ['ORDER.INVALID_QUANTITY'] });
  }
  for (let i = 0; i < mix.invalidUnitPrice; i++) {
    const items = lines(int(1, 3));
    items[items.length - 1] = { ...items[items.length - 1]!, unit_price: -int(1, 500) / 100 };
    itemised(smallCustomer(), items, Math.max(0, centsOf(items)), { kind: 'rejected', codes: ['ORDER.INVALID_UNIT_PRICE'] });
  }
  const admitted = Math.floor(fraudLimit / mix.spendAmount);
  for (let c = 0; c < mix.spendCustomers; c++) {
    const customer = `${runId}-spender${c}`;
    // One event time for all of a customer's orders: each sees every admitted one in its window, whatever order they arrive in.
    const producedAt = new Date(START_MS + c * 60_000).toISOString();
    for (let i = 0; i < mix.spendOrdersEach; i++) seedShaped(customer, mix.spendAmount, { kind: 'spend-group', customer, admitted }, producedAt);
  }
  for (let i = 0; i < mix.declined; i++) {
    const cents = int(paymentLimit * 100 + 1, Math.min(paymentLimit * 2, fraudLimit) * 100);
    if (i % 2 === 0) seedShaped(uniqueCustomer(), cents / 100, { kind: 'declined' });
    else itemised(uniqueCustomer(), [{ sku: pick(SKUS), quantity: 1, unit_price: cents / 100 }], cents, { kind: 'declined' });
  }
  for (let i = 0; i < mix.outOfStock; i++) {
    // Half of them with an ample line too: all or nothing, so that line must not be taken either.
    const items = [...(i % 2 === 0 ? lines(1) : []), { sku: GONE_SKU, quantity: int(1, 3), unit_price: 2.5 }];
    itemised(smallCustomer(), items, undefined, { kind: 'insufficient' });
  }
  for (let i = 0; i < mix.scarceOrders; i++) {
    const items = [{ sku: SCARCE_SKU, quantity: 1, unit_price: 12 }];
    itemised(smallCustomer(), items, undefined, { kind: 'scarce-group', sku: SCARCE_SKU, units: mix.scarceUnits, lines: items });
  }
  if (plans.length > count) throw new Error(`lifecycleLoad: the mix needs ${plans.length} orders, more than ${count}`);
  while (plans.length < count) {
    const items = lines(int(1, 3));
    itemised(smallCustomer(), items, undefined, { kind: 'shipped', lines: items });
  }

  // Interleaved, so every class meets every partition and every stage at every moment of the run.
  const shuffled = plans.map((plan) => ({ plan, rank: random() })).sort((a, b) => a.rank - b.rank);
  const orders = shuffled.map(({ plan }, i): PlannedOrder => {
    const id = `${runId}-o${i}`;
    return { ...plan, id, wire: { id, ...plan.wire } };
  });

  const demand = new Map<string, number>();
  for (const order of orders) {
    if (order.expected.kind !== 'shipped') continue;
    for (const line of order.expected.lines) demand.set(line.sku, (demand.get(line.sku) ?? 0) + line.quantity);
  }
  const stock: Record<string, number> = { [GONE_SKU]: 0, [SCARCE_SKU]: mix.scarceUnits };
  const finalStock: Record<string, number> = { [GONE_SKU]: 0, [SCARCE_SKU]: 0 };
  for (const sku of SKUS) {
    stock[sku] = (demand.get(sku) ?? 0) + MARGIN;
    finalStock[sku] = MARGIN;
  }
  return { orders, poison: poisonMessages(runId), stock, finalStock };
};

/** Records no reader of the orders topic can use: dead letters of validation and of the archive alike. */
const poisonMessages = (runId: string): PoisonMessage[] => [
  { key: `${runId}-bad-json`, value: Buffer.from('{"id": "o-x", "total": '), code: 'MESSAGE.INVALID_JSON' },
  { key: `${runId}-bad-utf8`, value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), code: 'MESSAGE.INVALID_UTF8' },
  { key: `${runId}-bad-channel`, value: Buffer.from(`{"id":"${runId}-fax","customer":"C-1","total":10,"channel":"fax"}`), code: 'ORDER.UNKNOWN_CHANNEL' },
  {
    key: `${runId}-bad-items`,
    value: Buffer.from(`{"id":"${runId}-items","customer":"C-1","total":10,"channel":"web","items":"lots"}`),
    code: 'ORDER.SCHEMA_VIOLATION',
  },
];
