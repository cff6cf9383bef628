import { SpendCandidate } from './ports/spend-limit.port';

// The rules both spend limits (in memory and PostgreSQL) apply to their inputs, so they cannot drift.

export interface SpendLimitSettings {
  /** How far back from an order's event time its customer's spend counts: (t − windowMs, t]. */
  readonly windowMs: number;
  /** The most a customer may spend in one window, in the currency's major unit. */
  readonly limit: number;
}

/** The validation stage's rule: 10,000 in any 60 minutes (ORDERFLOW_FRAUD_LIMIT sets the amount). */
export const DEFAULT_SPEND_LIMIT_SETTINGS: SpendLimitSettings = { windowMs: 60 * 60_000, limit: 10_000 };

/** The largest amount whose cents are still an exact JavaScript integer. */
export const MAX_SPEND_AMOUNT = Math.floor(Number.MAX_SAFE_INTEGER / 100);

const isAmount = (value: number): boolean => Number.isFinite(value) && value >= 0 && value <= MAX_SPEND_AMOUNT;

/** Throws a RangeError naming what is wrong with a window length or a limit. */
export const assertSpendLimitSettings = (settings: SpendLimitSettings): void => {
  if (!Number.isSafeInteger(settings.windowMs) || settings.windowMs <= 0) {
    throw new RangeError(`spend limit: windowMs must be a whole number of milliseconds > 0, got ${settings.windowMs}`);
  }
  if (!isAmount(settings.limit)) {
    throw new RangeError(`spend limit: limit must be an amount from 0 to ${MAX_SPEND_AMOUNT}, got ${settings.limit}`);
  }
};

/**
 * Why a candidate cannot be judged, or undefined when it can. The stage asks this before it calls
 * `judge` and rejects such an order, because an exception from `judge` would be retried forever.
 */
export const spendCandidateProblem = (candidate: SpendCandidate): string | undefined => {
  if (typeof candidate.customer !== 'string' || candidate.customer.length === 0) return 'customer must be a non-empty string';
  if (typeof candidate.orderId !== 'string' || candidate.orderId.length === 0) return 'orderId must be a non-empty string';
  if (!Number.isSafeInteger(candidate.eventTimeMs)) {
    return `eventTimeMs must be a whole number of epoch milliseconds, got ${candidate.eventTimeMs}`;
  }
  if (!isAmount(candidate.amount)) return `amount must be a finite number from 0 to ${MAX_SPEND_AMOUNT}, got ${candidate.amount}`;
  return undefined;
};

/** What an adapter does with a candidate the stage should have rejected: a RangeError, before anything is recorded. */
export const assertSpendCandidate = (candidate: SpendCandidate): void => {
  const problem = spendCandidateProblem(candidate);
  if (problem !== undefined) throw new RangeError(`spend limit: order ${String(candidate.orderId)}: ${problem}`);
};
