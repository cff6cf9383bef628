import { RejectionCode } from '../../domain/rejection';

/** The operational counters the pipeline reports; Prometheus in production, memory in tests. */
export interface MetricsPort {
  orderArchived(channel: string, latencyMs: number, highRisk: boolean): void;
  orderDeadLettered(code: RejectionCode): void;
  /**
   * Orders were archived under a key this process had already written: a redelivery after a
   * replay, a rebalance or a reconnect. A rewrite is harmless (idempotent); the rate shows what
   * faults cost. What a killed predecessor wrote, a new process cannot know, so those rewrites
   * are not counted here. `count` orders at once: a rewritten batch object rewrites all of its orders.
   */
  orderDuplicate(count?: number): void;
  archiveRetried(): void;
  deadLetterFailed(): void;
  /** Whether the archive is currently failing; drives readiness. */
  archiveHealthy(healthy: boolean): void;
  /** Whether the dead-letter topic is currently refusing writes; drives readiness too. */
  deadLetterHealthy(healthy: boolean): void;
}
