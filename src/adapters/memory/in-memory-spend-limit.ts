import { SpendCandidate, SpendJudgement, SpendLimitPort } from '../../application/ports/spend-limit.port';
import { assertSpendCandidate, assertSpendLimitSettings, DEFAULT_SPEND_LIMIT_SETTINGS, SpendLimitSettings } from '../../application/spend-limit';
import { SpendWindow } from '../../domain/lifecycle/spend-window';

/**
 * The spend limit in memory, for the embedded demo and the unit tests: SpendWindow as it is, so
 * the same contract suite as PostgresSpendLimit. `judge` runs to completion without awaiting (one
 * event loop), which is what makes a decision and its record atomic, and calls serialised. Its
 * state ends with the process: after a restart every customer starts from nothing spent.
 */
export class InMemorySpendLimit implements SpendLimitPort {
  private readonly window: SpendWindow;

  constructor(settings: SpendLimitSettings = DEFAULT_SPEND_LIMIT_SETTINGS) {
    assertSpendLimitSettings(settings);
    this.window = new SpendWindow(settings.windowMs, settings.limit);
  }

  async judge(candidate: SpendCandidate): Promise<SpendJudgement> {
    assertSpendCandidate(candidate);
    return this.window.admit(candidate.customer, candidate.orderId, candidate.eventTimeMs, candidate.amount);
  }

  /** How many judgements are remembered; for metrics and tests. */
  get size(): number {
    return this.window.size;
  }
}
