/** Runs a task once a slot is free; at most `max` tasks hold a slot at once. */
export type ConcurrencyLimit = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A FIFO semaphore in the shape of p-limit. p-limit is in node_modules only as a transitive dev
 * dependency of jest (and its current major is ESM-only), so production code cannot rely on it.
 */
export const limitConcurrency = (max: number): ConcurrencyLimit => {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`Concurrency limit must be a positive integer, got ${max}`);
  let running = 0;
  const waiting: Array<() => void> = [];

  // A finishing task hands its slot straight to the next waiter, so `running` never dips and a
  // newcomer cannot jump the queue in between.
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return async (task) => {
    if (running < max) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
};
