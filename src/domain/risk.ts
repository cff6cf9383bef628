import { err, ok, Result } from './result';
import { rejection, Rejection } from './rejection';
import { Order } from './order';

/**
 * The RiskScorer port: one strategy per sales channel. A score is in [0, 1].
 * Strategies are plain objects so that a new channel is a registration, not an edit.
 */
export interface RiskScorer {
  readonly channel: string;
  score(order: Order): number;
}

export const webRiskScorer: RiskScorer = {
  channel: 'web',
  // Proportional to the basket, capped below certainty.
  score: (order) => Math.min(0.99, order.total / 1000),
};

export const partnerRiskScorer: RiskScorer = {
  channel: 'partner',
  // Partners are contracted, so only very large orders raise the risk.
  score: (order) => (order.total < 2000 ? 0.3 : 0.7),
};

export const mobileRiskScorer: RiskScorer = {
  channel: 'mobile',
  score: () => 0.5,
};

export const SEED_RISK_SCORERS: readonly RiskScorer[] = [webRiskScorer, partnerRiskScorer, mobileRiskScorer];

/** An open registry of strategies keyed by channel. */
export class RiskScorerRegistry {
  private readonly scorers = new Map<string, RiskScorer>();

  constructor(scorers: readonly RiskScorer[] = SEED_RISK_SCORERS) {
    for (const scorer of scorers) this.register(scorer);
  }

  register(scorer: RiskScorer): this {
    if (this.scorers.has(scorer.channel)) {
      // Silently replacing a strategy would change scores in production without a trace.
      throw new Error(`A risk scorer for channel "${scorer.channel}" is already registered`);
    }
    this.scorers.set(scorer.channel, scorer);
    return this;
  }

  channels(): string[] {
    return [...this.scorers.keys()];
  }

  score(order: Order): Result<Rejection, number> {
    const scorer = this.scorers.get(order.channel);
    if (scorer === undefined) {
      return err(
        rejection(
          'ORDER.UNKNOWN_CHANNEL',
          'score',
          `Unknown channel ${JSON.stringify(order.channel.slice(0, 64))}: expected one of ${this.channels().join(', ')}`,
        ),
      );
    }
    return ok(scorer.score(order));
  }
}
