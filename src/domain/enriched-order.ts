import { isHighRisk, Order } from './order';

/** The archived record: the seed's wire fields plus what the pipeline learned. Snake case is the wire format. */
export interface EnrichedOrder {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
  readonly channel: string;
  readonly produced_at?: string;
  readonly consumed_at: string;
  readonly latency_ms: number;
  readonly risk_score: number;
  readonly high_risk: boolean;
}

/**
 * `toISOString` of an instant, remembering the last one: the orders of a batch are consumed within
 * the same millisecond, and a producer's burst shares its produced_at, so most calls repeat the
 * previous one. One per field, so that the two fields do not evict each other.
 */
const isoMemo = (): ((epochMs: number) => string) => {
  let last = { ms: Number.NaN, text: '' };
  return (epochMs) => {
    if (epochMs !== last.ms) last = { ms: epochMs, text: new Date(epochMs).toISOString() };
    return last.text;
  };
};
const producedAtIso = isoMemo();
const consumedAtIso = isoMemo();

/** Event time: the producer's timestamp when it gave one, otherwise the broker's. */
export const eventTimeOf = (order: Order, messageTimestampMs: number): number => order.producedAt ?? messageTimestampMs;

export const enrich = (
  order: Order,
  riskScore: number,
  consumedAtMs: number,
  messageTimestampMs: number,
): EnrichedOrder => {
  // Clock skew between producer and consumer can make this negative; report it rather than hide it.
  const latencyMs = consumedAtMs - eventTimeOf(order, messageTimestampMs);
  const consumedAt = consumedAtIso(consumedAtMs);
  const highRisk = isHighRisk(order);
  // Two literals of one key order, not a conditional spread: every order of the archive passes
  // here, and a spread clones an object per call; a literal also stringifies on V8's fast path.
  return order.producedAt === undefined
    ? { id: order.id, customer: order.customer, total: order.total, channel: order.channel, consumed_at: consumedAt, latency_ms: latencyMs, risk_score: riskScore, high_risk: highRisk }
    : {
        id: order.id,
        customer: order.customer,
        total: order.total,
        channel: order.channel,
        produced_at: producedAtIso(order.producedAt),
        consumed_at: consumedAt,
        latency_ms: latencyMs,
        risk_score: riskScore,
        high_risk: highRisk,
      };
};
