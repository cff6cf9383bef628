/** An order as the spend limit judges it. */
export interface SpendCandidate {
  readonly customer: string;
  /** The idempotency key: an order is judged once; later calls get the first decision. */
  readonly orderId: string;
  /** The order's event time (epoch ms): the window ends here. */
  readonly eventTimeMs: number;
  /** The order's total, in the currency's major unit. */
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
 * and the caller retries.
 */
export interface SpendLimitPort {
  judge(candidate: SpendCandidate): Promise<SpendJudgement>;
}
