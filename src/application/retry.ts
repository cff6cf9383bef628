/**
 * Jittered exponential backoff ("full jitter"): the n-th retry waits a random time in
 * [0, min(cap, base * 2^n)). Jitter keeps many consumers that failed together from
 * hammering a recovering store in lockstep.
 */
export interface BackoffPolicy {
  /** Attempts before a bounded retrier gives up (>= 1). ProcessOrders has no such bound (see WriteGate). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

export const backoffDelay = (policy: Pick<BackoffPolicy, 'baseDelayMs' | 'maxDelayMs'>, retry: number, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry));

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A sleep that an abort (shutdown) cuts short instead of holding the process open. */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
