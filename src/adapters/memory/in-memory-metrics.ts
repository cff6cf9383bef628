import { MetricsPort } from '../../application/ports/metrics.port';
import { RejectionCode } from '../../domain/rejection';

/** Counters in plain fields: for the demo, the unit tests and any run without Prometheus. */
export class InMemoryMetrics implements MetricsPort {
  archived = 0;
  duplicates = 0;
  retried = 0;
  deadLetterFailures = 0;
  healthy = true;
  deadLettersHealthy = true;
  readonly deadLettered = new Map<RejectionCode, number>();
  readonly archivedByChannel = new Map<string, number>();

  orderArchived(channel: string): void {
    this.archived++;
    this.archivedByChannel.set(channel, (this.archivedByChannel.get(channel) ?? 0) + 1);
  }

  orderDeadLettered(code: RejectionCode): void {
    this.deadLettered.set(code, (this.deadLettered.get(code) ?? 0) + 1);
  }

  orderDuplicate(count = 1): void {
    this.duplicates += count;
  }

  archiveRetried(): void {
    this.retried++;
  }

  deadLetterFailed(): void {
    this.deadLetterFailures++;
  }

  archiveHealthy(healthy: boolean): void {
    this.healthy = healthy;
  }

  deadLetterHealthy(healthy: boolean): void {
    this.deadLettersHealthy = healthy;
  }
}
