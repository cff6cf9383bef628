import * as hdr from 'hdr-histogram-js';
import { LatencyRecorderPort, LatencySnapshot } from '../../application/ports/latency-recorder.port';

/**
 * Latency percentiles from an HdrHistogram: fixed memory (a few KiB at 3 significant digits)
 * however many values are recorded, with the relative error bounded at every percentile.
 * The pure-JS build is used so that no WebAssembly initialisation is needed.
 */
export class HdrLatencyRecorder implements LatencyRecorderPort {
  private readonly histogram = hdr.build({
    bitBucketSize: 'packed',
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
