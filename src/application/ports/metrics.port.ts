/**
 * What the archive stages count beyond every stage's series (StageMetricsPort): archived orders by
 * channel and their latency, and rewrites. Prometheus in production, memory in tests.
 */
export interface MetricsPort {
  orderArchived(channel: string, latencyMs: number, highRisk: boolean): void;
  /**
   * Orders were archived under a key this process had already written: a redelivery after a
   * replay, a rebalance or a reconnect. A rewrite is harmless (idempotent); the rate shows what
   * faults cost. What a killed predecessor wrote, a new process cannot know, so those rewrites
   * are not counted here. `count` orders at once: a rewritten batch object rewrites all of its orders.
   */
  orderDuplicate(count?: number): void;
}
