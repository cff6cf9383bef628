import * as hdr from 'hdr-histogram-js';
import { LatencyRecorderPort, LatencySnapshot } from '../../application/ports/latency-recorder.port';

/**
 * Latency percentiles from an HdrHistogram: fixed memory (105 KiB at 3 significant digits up to
 * an hour) however many values are recorded, with the relative error bounded at every percentile.
 * The pure-JS build is used so that no WebAssembly initialisation is needed.
 *
 * Plain 64-bit counts, not the packed array: every archived order is recorded, and a packed
 * record cost 0.6-0.85 µs against 0.1-0.16 µs (measured side by side, adr/0020) for 3 KiB
 * instead of 105 KiB. 64 bits, not 32: a bucket of a service running at 50,000 orders/s would
 * overflow 32 bits within a day.
 */
export class HdrLatencyRecorder implements LatencyRecorderPort {
  private readonly histogram = hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });

  record(latencyMs: number): void {
    // Sub-millisecond latencies would fall below the histogram's resolution; count them as 1 ms.
    this.histogram.recordValue(Math.max(1, Math.round(latencyMs)));
  }

  snapshot(): LatencySnapshot {
    const h = this.histogram;
    const count = h.totalCount;
    if (count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count,
      p50: h.getValueAtPercentile(50),
      p95: h.getValueAtPercentile(95),
      p99: h.getValueAtPercentile(99),
      max: h.maxValue,
    };
  }
}
