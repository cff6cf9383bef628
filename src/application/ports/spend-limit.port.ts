/** An order as the spend limit judges it. */
export interface SpendCandidate {
  /** Non-empty. Each customer has a window of their own. */
  readonly customer: string;
  /**
   * The idempotency key, non-empty: an order is judged once; later calls get the first decision.
   * An order belongs to one customer, so the key is the pair (customer, order id).
   */
  readonly orderId: string;
  /** The order's event time, whole epoch milliseconds: the window ends here. */
  readonly eventTimeMs: number;
  /** The order's total, in the currency's major unit: finite and >= 0; judged in whole cents. */
  readonly amount: number;
}

export interface SpendJudgement {
  readonly admitted: boolean;
  /** What the customer had spent in the window before this order, in the major unit. */
  readonly spentBefore: number;
}

/**
 * The per-customer spend limit of the validation stage: the rules of SpendWindow (adr/0014),
 * with the state kept where a restart finds it.
 *
 * `judge` decides and records atomically, idempotent by order id: the first judgement of an order
 * is final, so a redelivery, a replay after a crash or a second member racing during a rebalance
 * gets the same answer and adds no spend. Calls for one customer are serialised by the store;
 * the validation stage reads a topic keyed by customer, in partition order, so the order of first
 * judgements is the order of that topic.
 *
 * A rejected promise is a transient failure (the database is unreachable): nothing was recorded,
 * and the caller retries. So a candidate that can never be judged must not reach `judge`: the
 * stage checks it first with `spendCandidateProblem` (src/application/spend-limit.ts) and rejects
 * the order with a stable code. An adapter given one anyway throws a RangeError naming the field,
 * before it records anything, so that the bug is loud rather than a silent admission.
 */
export interface SpendLimitPort {
  judge(candidate: SpendCandidate): Promise<SpendJudgement>;
}
