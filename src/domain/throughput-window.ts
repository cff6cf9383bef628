/**
 * Events per second over a sliding window, in constant memory: a ring of one-second buckets
 * rather than a list of timestamps, so a burst of a million events costs the same memory as
 * one. Time is passed in (epoch ms) to keep the domain free of clocks.
 */
export class ThroughputWindow {
  private readonly counts: Float64Array;
  private readonly seconds: Float64Array;

  constructor(readonly windowSeconds = 30) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw new RangeError(`ThroughputWindow needs a whole number of seconds >= 1, got ${windowSeconds}`);
    }
    this.counts = new Float64Array(windowSeconds);
    // -1 marks a bucket that has never been used.
    this.seconds = new Float64Array(windowSeconds).fill(-1);
  }

  record(nowMs: number, events = 1): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.windowSeconds;
    const held = this.seconds[slot] as number;
    // An event older than the window (a late clock reading) must not evict a newer bucket.
    if (held > second) return;
    if (held !== second) {
      // The bucket still holds a second that has slid out of the window: recycle it.
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] as number) + events;
  }

  /** Events counted in the window that ends at `nowMs` (the current second included). */
  count(nowMs: number): number {
    const current = Math.floor(nowMs / 1000);
    let total = 0;
    for (let slot = 0; slot < this.windowSeconds; slot++) {
      const second = this.seconds[slot] as number;
      if (second > current - this.windowSeconds && second <= current) total += this.counts[slot] as number;
    }
    return total;
  }

  /** Average events per second over the window. */
  ratePerSecond(nowMs: number): number {
    return this.count(nowMs) / this.windowSeconds;
  }
}
