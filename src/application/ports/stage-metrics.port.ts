import { RejectionCode } from '../../domain/rejection';

/**
 * What the stage runner retries and reports health for, per stage:
 * - `handle`: the stage's own effect (the archive write, a charge, a reservation);
 * - `publish`: its outputs on the bus;
 * - `dead-letter`: its dead-letter topic.
 */
export type StageTarget = 'handle' | 'publish' | 'dead-letter';

/**
 * The counters every stage has, labelled with its name: the same series for the archive, the
 * validation, the payment… so that one dashboard shows the whole lifecycle.
 */
export interface StageMetricsPort {
  /** `count` input messages were settled (handled, rejected or dead-lettered) and acked. */
  stageConsumed(stage: string, count: number): void;
  /** `count` output events were published to `topic`. */
  stageEmitted(stage: string, topic: string, count: number): void;
  stageDeadLettered(stage: string, code: RejectionCode): void;
  /** A write to `target` was tried again after a failure (a probe, or a release after an outage). */
  stageRetried(stage: string, target: StageTarget): void;
  stageDeadLetterFailed(stage: string): void;
  /** Whether writes to `target` currently succeed; drives readiness. */
  stageTargetHealthy(stage: string, target: StageTarget, healthy: boolean): void;
}
