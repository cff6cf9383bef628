import { RejectionCode } from '../../domain/rejection';

/** The operational counters the pipeline reports; Prometheus in production, memory in tests. */
export interface MetricsPort {
  orderArchived(channel: string, latencyMs: number, highRisk: boolean): void;
  orderDeadLettered(code: RejectionCode): void;
  /**
   * An order was archived under a key this process had already written: a redelivery after a
   * replay, a rebalance or a reconnect. A rewrite is harmless (idempotent); the rate shows what
   * faults cost. What a killed predecessor wrote, a new process cannot know, so those rewrites
   * are not counted here.
   */
  orderDuplicate(): void;
  archiveRetried(): void;
  deadLetterFailed(): void;
  /** Whether the archive is currently failing; drives readiness. */
  archiveHealthy(healthy: boolean): void;
}
