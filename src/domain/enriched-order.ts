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

/** Event time: the producer's timestamp when it gave one, otherwise the broker's. */
export const eventTimeOf = (order: Order, messageTimestampMs: number): number => order.producedAt ?? messageTimestampMs;

export const enrich = (
  order: Order,
  riskScore: number,
  consumedAtMs: number,
  messageTimestampMs: number,
): EnrichedOrder => ({
  id: order.id,
  customer: order.customer,
  total: order.total,
  channel: order.channel,
  ...(order.producedAt === undefined ? {} : { produced_at: new Date(order.producedAt).toISOString() }),
  consumed_at: new Date(consumedAtMs).toISOString(),
  // Clock skew between producer and consumer can make this negative; report it rather than hide it.
  latency_ms: consumedAtMs - eventTimeOf(order, messageTimestampMs),
  risk_score: riskScore,
  high_risk: isHighRisk(order),
});
