import { backoffDelay } from '../retry';

/** How long a partition waits before it replays after a nack: 50 ms doubling to 5 s, with jitter. */
export const NACK_REPLAY_BACKOFF = { baseDelayMs: 50, maxDelayMs: 5_000 } as const;

/**
 * Per-partition backoff between a nack and the replay it causes. A handler that nacks the same
 * message every time (a store that is down, a bug) would otherwise have the bus fetch and deliver
 * it again at once, hundreds of times a second, along with every message behind it. Each
 * consecutive replay of a partition waits twice as long (full jitter, as WriteGate's probes,
 * never less than the base delay), up to the cap; the count resets once the partition makes
 * progress (its position moves past an ack). Other partitions are not held back.
 */
export class ReplayBackoff {
  private readonly replays = new Map<number, number>();

  constructor(private readonly random: () => number = Math.random) {}

  /** The wait before this partition's next replay; counts the replay. */
  next(partition: number): number {
    const replays = this.replays.get(partition) ?? 0;
    this.replays.set(partition, replays + 1);
    return Math.max(NACK_REPLAY_BACKOFF.baseDelayMs, backoffDelay(NACK_REPLAY_BACKOFF, replays, this.random));
  }

  /** The partition moved forward: its next nack replays after the base delay again. */
  progressed(partition: number): void {
    this.replays.delete(partition);
  }

  /** A new assignment: the partitions may have moved, and their history with them. */
  clear(): void {
    this.replays.clear();
  }
}
