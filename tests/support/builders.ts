import { Headers, InboundMessage } from '../../src/application/ports/message-bus.port';
import { SpendCandidate } from '../../src/application/ports/spend-limit.port';
import { createOrder, Order, OrderFields } from '../../src/domain/order';

let sequence = 0;
const nextId = (): string => `o-test-${++sequence}`;

/** A valid domain Order; override only what the test is about. */
export const anOrder = (overrides: Partial<OrderFields> = {}): Order => {
  const result = createOrder({
    id: nextId(),
    customer: 'C-9',
    total: 149.99,
    channel: 'web',
    producedAt: Date.parse('2026-11-22T10:00:00.000Z'),
    ...overrides,
  });
  if (!result.ok) throw new Error(`anOrder built an invalid order: ${result.error.message}`);
  return result.value;
};

/** The seed's wire JSON, as a producer would send it; fields can be overridden with anything, valid or not. */
export const aWireOrder = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: nextId(),
  customer: 'C-9',
  total: 149.99,
  channel: 'web',
  produced_at: '2026-11-22T10:00:00.000Z',
  ...overrides,
});

export const wireBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** The seed's three sample orders, with their expected risk scores. */
export const SEED_SAMPLES = [
  { order: { id: 'o-1001', customer: 'C-9', total: 149.99, channel: 'web' }, risk: 0.15 },
  { order: { id: 'o-1002', customer: 'C-9', total: 879.0, channel: 'partner' }, risk: 0.3 },
  { order: { id: 'o-1003', customer: 'C-9', total: 42.5, channel: 'mobile' }, risk: 0.5 },
] as const;

export const anInboundMessage = (overrides: Partial<InboundMessage> = {}): InboundMessage => ({
  topic: 'orders.v1',
  partition: 0,
  offset: '0',
  key: null,
  value: wireBytes(aWireOrder()),
  headers: [],
  timestamp: Date.parse('2026-11-22T10:00:00.050Z'),
  ...overrides,
});

/** Headers as name → text (the last of a repeated name), for assertions on the headers this application writes. */
export const headersAsText = (headers: Headers): Record<string, string> =>
  Object.fromEntries(headers.map(({ key, value }) => [key, value.toString('utf8')]));

/** An order as the spend limit judges it: 100.00 by C-9 at the seed's sample time. */
export const aSpendCandidate = (overrides: Partial<SpendCandidate> = {}): SpendCandidate => ({
  customer: 'C-9',
  orderId: nextId(),
  eventTimeMs: Date.parse('2026-11-22T10:00:00.000Z'),
  amount: 100,
  ...overrides,
});
