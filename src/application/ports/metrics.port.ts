import { RejectionCode } from '../../domain/rejection';

/** The operational counters the pipeline reports; Prometheus in production, memory in tests. */
export interface MetricsPort {
  orderArchived(channel: string, latencyMs: number, highRisk: boolean): void;
  orderDeadLettered(code: RejectionCode): void;
  archiveRetried(): void;
  deadLetterFailed(): void;
  /** Whether the archive is currently failing; drives readiness. */
  archiveHealthy(healthy: boolean): void;
}
