import { EnrichedOrder } from '../domain/enriched-order';
import { RejectionCode } from '../domain/rejection';
import { ThroughputWindow } from '../domain/throughput-window';
import { topOrdersByTotal, TopK } from '../domain/top-k';
import { LatencyRecorderPort, LatencySnapshot } from './ports/latency-recorder.port';

export interface ChannelRisk {
  orders: number;
  highRisk: number;
  riskScoreSum: number;
}

export interface StatisticsSnapshot {
  readonly archived: number;
  readonly deadLettered: number;
  readonly deadLetteredByCode: Readonly<Partial<Record<RejectionCode, number>>>;
  readonly throughputPerSecond: number;
  readonly latencyMs: LatencySnapshot;
  readonly topOrders: readonly EnrichedOrder[];
  readonly channels: Readonly<Record<string, Readonly<ChannelRisk>>>;
}

/**
 * What the pipeline has seen: the Top-K highest-value orders, the sliding throughput,
 * latency percentiles and per-channel risk. Bounded memory whatever the volume.
 *
 * Counts are of processing events: an order redelivered after a crash is counted again,
 * while Top-K deduplicates by id.
 */
export class OrderStatistics {
  private readonly top: TopK<EnrichedOrder>;
  private readonly window: ThroughputWindow;
  private archived = 0;
  private deadLettered = 0;
  private readonly byCode = new Map<RejectionCode, number>();
  private readonly channels = new Map<string, ChannelRisk>();

  constructor(
    private readonly latency: LatencyRecorderPort,
    topK = 10,
    windowSeconds = 30,
  ) {
    this.top = topOrdersByTotal<EnrichedOrder>(topK);
    this.window = new ThroughputWindow(windowSeconds);
  }

  recordArchived(order: EnrichedOrder, nowMs: number): void {
    this.archived++;
    this.window.record(nowMs);
    // A negative latency (producer clock ahead) cannot go into a histogram; clamp it at zero.
    this.latency.record(Math.max(0, order.latency_ms));
    this.top.offer(order);
    let risk = this.channels.get(order.channel);
    if (risk === undefined) {
      risk = { orders: 0, highRisk: 0, riskScoreSum: 0 };
      this.channels.set(order.channel, risk);
    }
    risk.orders++;
    risk.riskScoreSum += order.risk_score;
    if (order.high_risk) risk.highRisk++;
  }

  recordDeadLettered(code: RejectionCode): void {
    this.deadLettered++;
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
  }

  topOrders(): EnrichedOrder[] {
    return this.top.items();
  }

  snapshot(nowMs: number): StatisticsSnapshot {
    return {
      archived: this.archived,
      deadLettered: this.deadLettered,
      deadLetteredByCode: Object.fromEntries(this.byCode),
      throughputPerSecond: this.window.ratePerSecond(nowMs),
      latencyMs: this.latency.snapshot(),
      topOrders: this.top.items(),
      channels: Object.fromEntries([...this.channels].map(([channel, risk]) => [channel, { ...risk }])),
    };
  }
}
