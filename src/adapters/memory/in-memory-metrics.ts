import { MetricsPort } from '../../application/ports/metrics.port';
import { StageMetricsPort, StageTarget } from '../../application/ports/stage-metrics.port';
import { RejectionCode } from '../../domain/rejection';

/**
 * Counters in plain fields: for the demo, the unit tests and any run without Prometheus. The
 * stage series are kept per stage (`stages`), and summed over the stages in the flat fields.
 */
export class InMemoryMetrics implements MetricsPort, StageMetricsPort {
  archived = 0;
  duplicates = 0;
  /** Retries of every stage and target. */
  retried = 0;
  deadLetterFailures = 0;
  readonly deadLettered = new Map<RejectionCode, number>();
  readonly archivedByChannel = new Map<string, number>();
  readonly stages = new Map<string, StageCounts>();
  private readonly failingTargets = new Set<string>();

  /** No stage's own effect (`handle`: the archive write, a charge…) is failing. */
  get healthy(): boolean {
    return ![...this.failingTargets].some((key) => key.endsWith('/handle'));
  }

  /** No stage's dead-letter topic is refusing writes. */
  get deadLettersHealthy(): boolean {
    return ![...this.failingTargets].some((key) => key.endsWith('/dead-letter'));
  }

  orderArchived(channel: string): void {
    this.archived++;
    this.archivedByChannel.set(channel, (this.archivedByChannel.get(channel) ?? 0) + 1);
  }

  orderDuplicate(count = 1): void {
    this.duplicates += count;
  }

  stageConsumed(stage: string, count: number): void {
    this.stage(stage).consumed += count;
  }

  stageEmitted(stage: string, topic: string, count: number): void {
    const emitted = this.stage(stage).emitted;
    emitted.set(topic, (emitted.get(topic) ?? 0) + count);
  }

  stageDeadLettered(stage: string, code: RejectionCode): void {
    this.deadLettered.set(code, (this.deadLettered.get(code) ?? 0) + 1);
    this.stage(stage).deadLettered++;
  }

  stageRetried(stage: string): void {
    this.retried++;
    this.stage(stage).retried++;
  }

  stageDeadLetterFailed(): void {
    this.deadLetterFailures++;
  }

  stageTargetHealthy(stage: string, target: StageTarget, healthy: boolean): void {
    if (healthy) this.failingTargets.delete(`${stage}/${target}`);
    else this.failingTargets.add(`${stage}/${target}`);
  }

  private stage(name: string): StageCounts {
    let counts = this.stages.get(name);
    if (counts === undefined) {
      counts = { consumed: 0, emitted: new Map(), deadLettered: 0, retried: 0 };
      this.stages.set(name, counts);
    }
    return counts;
  }
}

/** One stage's figures, as the demo's summary prints them. */
export interface StageCounts {
  consumed: number;
  readonly emitted: Map<string, number>;
  deadLettered: number;
  retried: number;
}
