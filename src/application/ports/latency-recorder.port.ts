export interface LatencySnapshot {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Bounded-memory latency percentiles; the adapter is a real histogram (hdr-histogram-js). */
export interface LatencyRecorderPort {
  record(latencyMs: number): void;
  snapshot(): LatencySnapshot;
}
