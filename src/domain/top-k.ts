/**
 * The K highest-ranked items of a stream, kept in a binary min-heap: the root is the weakest
 * item kept, so each offer costs O(log k) and memory stays O(k) however long the stream runs.
 *
 * `rank(a, b)` > 0 means a ranks above b. It must be a total order (break ties), otherwise the
 * result would depend on arrival order. `identity` deduplicates: under at-least-once delivery
 * the same order can arrive twice and must not take two places.
 */
export class TopK<T> {
  private readonly heap: T[] = [];
  private readonly kept = new Set<string>();

  constructor(
    readonly k: number,
    private readonly rank: (a: T, b: T) => number,
    private readonly identity: (item: T) => string,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`TopK needs k >= 1, got ${k}`);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Offers an item; returns true when it was kept. */
  offer(item: T): boolean {
    const id = this.identity(item);
    if (this.kept.has(id)) return false;
    if (this.heap.length < this.k) {
      this.heap.push(item);
      this.kept.add(id);
      this.siftUp(this.heap.length - 1);
      return true;
    }
    const weakest = this.heap[0] as T;
    if (this.rank(item, weakest) <= 0) return false;
    this.kept.delete(this.identity(weakest));
    this.kept.add(id);
    this.heap[0] = item;
    this.siftDown(0);
    return true;
  }

  /** The kept items, best first. O(k log k); meant for reporting, not the hot path. */
  items(): T[] {
    return [...this.heap].sort((a, b) => this.rank(b, a));
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.rank(heap[parent] as T, heap[child] as T) <= 0) return;
      [heap[parent], heap[child]] = [heap[child] as T, heap[parent] as T];
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let weakest = parent;
      if (left < heap.length && this.rank(heap[left] as T, heap[weakest] as T) < 0) weakest = left;
      if (right < heap.length && this.rank(heap[right] as T, heap[weakest] as T) < 0) weakest = right;
      if (weakest === parent) return;
      [heap[parent], heap[weakest]] = [heap[weakest] as T, heap[parent] as T];
      parent = weakest;
    }
  }
}

/** Orders rank by total; equal totals by id ascending, so the result never depends on arrival order. */
export const rankByTotal = <T extends { readonly id: string; readonly total: number }>(a: T, b: T): number =>
  a.total !== b.total ? a.total - b.total : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

export const topOrdersByTotal = <T extends { readonly id: string; readonly total: number }>(k: number): TopK<T> =>
  new TopK<T>(k, rankByTotal, (order) => order.id);
