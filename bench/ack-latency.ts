import * as hdr from 'hdr-histogram-js';

/** Wall-clock ms since the epoch, at performance.now()'s resolution: comparable with produced_at across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface LatencySummary {
  readonly count: number;
  /** Orders still unacked at the deadline; recorded at their age then, a lower bound of their latency. */
  readonly unfinished: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /**
   * The worst latency (ms) of the orders intended in each second of the measured window, second 0
   * first: a stall shows as a spike that falls by a second per second, a queue as a climb.
   */
  readonly worstBySecondMs?: readonly number[];
  /**
   * The first part of the same latency: intended send time to the moment the bus handed the order
   * to the service (the producer's linger, the broker, the fetch). The rest is the service's own
   * (the archive write until its ack). Percentiles of the two parts do not add up to the whole's.
   */
  readonly toDeliveryMs?: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
}

type Histogram = ReturnType<typeof hdr.build>;

const microseconds = (): Histogram =>
  hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, autoResize: true, useWebAssembly: false });

const ms = (us: number): number => Math.round(us / 100) / 10;

const percentilesOf = (histogram: Histogram) => ({
  p50: ms(histogram.getValueAtPercentile(50)),
  p99: ms(histogram.getValueAtPercentile(99)),
  p999: ms(histogram.getValueAtPercentile(99.9)),
  max: ms(histogram.maxValue),
});

/**
 * Latency in microseconds from an order's intended send time (its produced_at, stamped by the
 * open-loop generator) to its ack, for the open-loop scenario: the service records it at the
 * archive's ack, B5's bare loop at the PUT's answer.
 */
export class AckLatency {
  recorded = 0;
  /** Orders intended before this instant are the warm-up; nothing is recorded until it is set. */
  from = Number.POSITIVE_INFINITY;
  private readonly worstBySecond: number[] = [];
  private readonly histogram = microseconds();
  private readonly toDelivery = microseconds();

  /** `intended` is the order's produced_at, `deliveredAt` when the bus handed it over (epoch ms). */
  record(intended: number, deliveredAt: number): void {
    const ackedAt = epochMs();
    if (intended < this.from) return;
    this.recorded++;
    const latencyMs = ackedAt - intended;
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    this.toDelivery.recordValue(Math.max(1, Math.round((deliveredAt - intended) * 1000)));
    const second = Math.floor((intended - this.from) / 1000);
    this.worstBySecond[second] = Math.max(this.worstBySecond[second] ?? 0, latencyMs);
  }

  /** Orders never acked count at the age they had reached: leaving them out would flatter the tail. */
  summary(expected: number, lastIntendedAt: number): LatencySummary {
    const unfinished = Math.max(0, expected - this.recorded);
    if (unfinished > 0) this.histogram.recordValueWithCount(Math.round((Date.now() - lastIntendedAt) * 1000), unfinished);
    const { p50, p99, p999, max } = percentilesOf(this.histogram);
    return {
      count: this.histogram.totalCount,
      unfinished,
      p50,
      p90: ms(this.histogram.getValueAtPercentile(90)),
      p99,
      p999,
      max,
      // Seconds with nothing acked (all unfinished, or a rate under 1/s) read 0.
      worstBySecondMs: Array.from(this.worstBySecond, (worst) => Math.round((worst ?? 0) * 10) / 10),
      toDeliveryMs: percentilesOf(this.toDelivery),
    };
  }
}

/** The intended send time (epoch ms) the open-loop generator stamped in an order's wire bytes. */
export const producedAtOf = (value: Buffer): number => Date.parse((JSON.parse(value.toString()) as { produced_at: string }).produced_at);
